//! Model files of every cell: round trips (F32, F64), reference steps against the equations
//! written out independently, Jacobians against central differences, malformed files.

use emt_core::cells::{
    CellKind, CtGruWeights, CtRnnWeights, Dtype, ElmanLayer, GatedParams, GatedWeights, GruWeights, Layer, LstmWeights,
    Model, ModelFile, Readout, RnnStack,
};
use emt_core::io::{Tensors, tensors_to_safetensors};
use emt_core::{Activation, ElmanWeights, Error};
use emt_testkit::{gaussian, jacobian_fd, max_abs_diff};
use ndarray::{Array1, Array2, ArrayView1, s};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn vec(n: usize, seed: u64, scale: f64) -> Array1<f64> {
    gaussian(n, 1, seed).column(0).mapv(|v| v * scale)
}

fn readout(d_out: usize, n: usize, seed: u64) -> Readout {
    Readout::new(gaussian(d_out, n, seed), Some(vec(d_out, seed + 1, 1.0)), n).unwrap()
}

/// One model of each cell with sizes (n, d_in, d_out).
fn models(n: usize, d: usize, o: usize, seed: u64) -> Vec<Model> {
    let g = |r, c, k| gaussian(r, c, seed + k) * (1.0 / (n as f64).sqrt());
    vec![
        Model::Elman(
            ElmanWeights::new(g(n, n, 1), g(n, d, 2), g(o, n, 3))
                .unwrap()
                .with_biases(Some(vec(n, seed + 4, 0.3)), Some(vec(o, seed + 5, 0.3)))
                .unwrap(),
        ),
        Model::Gru(
            GruWeights::new(
                g(3 * n, d, 6),
                g(3 * n, n, 7),
                Some(vec(3 * n, seed + 8, 0.3)),
                Some(vec(3 * n, seed + 9, 0.3)),
                Some(readout(o, n, seed + 10)),
            )
            .unwrap(),
        ),
        Model::CtRnn(
            CtRnnWeights::new(
                g(n, d, 11),
                g(n, n, 12) * 1.5,
                Some(vec(n, seed + 13, 0.3)),
                0.25,
                readout(o, n, seed + 14),
            )
            .unwrap(),
        ),
        Model::CtGru(
            CtGruWeights::new(
                g(3 * n, n, 15) * 2.0,
                Some(g(3 * n, d, 16)),
                Some(vec(3 * n, seed + 17, 0.3)),
                0.5,
                Some(readout(o, n, seed + 18)),
            )
            .unwrap(),
        ),
        Model::Gated(
            GatedWeights::new(
                g(n, n, 19) * 2.0,
                g(n, n, 20),
                g(n, n, 21),
                [Some(vec(n, seed + 22, 0.3)), Some(vec(n, seed + 23, 0.3)), None],
                GatedParams { alpha_z: 1.5, alpha_r: 0.5, beta_z: 0.2, beta_r: -0.4, tau_z: 2.0, tau_r: 0.5, dt: 0.05 },
                Some(readout(o, n, seed + 24)),
            )
            .unwrap(),
        ),
        Model::Oscillator(
            emt_core::cells::OscillatorWeights::new(g(1, d, 25), 0.3, 0.7, Some(readout(o, 2, seed + 26))).unwrap(),
        ),
        Model::Elman(
            ElmanWeights::new(g(n, n, 27), g(n, d, 28), g(o, n, 29))
                .unwrap()
                .with_biases(Some(vec(n, seed + 30, 0.3)), None)
                .unwrap()
                .with_activation(Activation::Relu),
        ),
        stacks(n, d, o, seed + 31).remove(0),
        stacks(n, d, o, seed + 32).remove(1),
        stacks(n, d, o, seed + 33).remove(2),
        stacks(n, d, o, seed + 34).remove(3),
    ]
}

/// An LSTM layer (4N rows) reading `d`, with biases and a projection to `p` when asked.
fn lstm(n: usize, d: usize, p: Option<usize>, bias: bool, seed: u64) -> LstmWeights {
    let h = p.unwrap_or(n);
    let g = |r, c, k| gaussian(r, c, seed + k) * (1.0 / (n as f64).sqrt());
    let b = |k| bias.then(|| vec(4 * n, seed + k, 0.5));
    LstmWeights::new(g(4 * n, d, 0), g(4 * n, h, 1), b(2), b(3), p.map(|p| g(p, n, 4))).unwrap()
}

/// PyTorch modules: a 2-layer GRU, a projected LSTM, a 3-layer bias-free LSTM with a readout,
/// a 2-layer relu RNN without readout.
fn stacks(n: usize, d: usize, o: usize, seed: u64) -> Vec<Model> {
    let g = |r, c, k| gaussian(r, c, seed + k) * (1.0 / (n as f64).sqrt());
    let gru = |d, k| {
        Layer::Gru(
            GruWeights::new(g(3 * n, d, k), g(3 * n, n, k + 1), Some(vec(3 * n, seed + k + 2, 0.3)), None, None)
                .unwrap(),
        )
    };
    let elman = |d, k| {
        Layer::Elman(
            ElmanLayer::new(
                g(n, d, k),
                g(n, n, k + 1),
                Some(vec(n, seed + k + 2, 0.3)),
                Some(vec(n, seed + k + 3, 0.3)),
                Activation::Relu,
            )
            .unwrap(),
        )
    };
    let p = n.div_ceil(2);
    vec![
        Model::Stack(RnnStack::new(vec![gru(d, 0), gru(n, 10)], Some(readout(o, n, seed + 20))).unwrap()),
        Model::Stack(
            RnnStack::new(vec![Layer::Lstm(lstm(n, d, Some(p), true, seed + 30))], Some(readout(o, p, seed + 40)))
                .unwrap(),
        ),
        Model::Stack(
            RnnStack::new(
                vec![
                    Layer::Lstm(lstm(n, d, None, false, seed + 50)),
                    Layer::Lstm(lstm(n, n, None, false, seed + 60)),
                    Layer::Lstm(lstm(n, n, None, false, seed + 70)),
                ],
                Some(readout(o, n, seed + 80)),
            )
            .unwrap(),
        ),
        Model::Stack(RnnStack::new(vec![elman(d, 90), elman(n, 100)], None).unwrap()),
    ]
}

#[test]
fn every_cell_round_trips_in_f64_and_f32() {
    for model in models(4, 3, 2, 0) {
        let kind = model.kind();
        let h0 = vec(model.state_dim(), 99, 0.5);
        let file = ModelFile::new(model).with_h0(h0).unwrap();
        let back = ModelFile::from_bytes(&file.to_bytes().unwrap(), "mem").unwrap();
        assert_eq!(back, file, "{kind} f64");
        let f32_file = file.clone().with_dtype(Dtype::F32);
        let back32 = ModelFile::from_bytes(&f32_file.to_bytes().unwrap(), "mem").unwrap();
        assert_eq!(back32.dtype, Dtype::F32);
        assert_eq!(back32.model.kind(), kind);
        // One rounding to f32 and back: a second round trip is exact.
        let again = ModelFile::from_bytes(&back32.to_bytes().unwrap(), "mem").unwrap();
        assert_eq!(again, back32, "{kind} f32 is stable");
        let t = Tensors::from_bytes(&file.to_bytes().unwrap(), "mem").unwrap();
        assert_eq!(t.metadata["cell"], kind.name());
    }
}

#[test]
fn simulate_uses_the_files_h0_and_the_state_size() {
    for model in models(3, 2, 1, 5) {
        let n = model.state_dim();
        let file = ModelFile::new(model).with_h0(Array1::from_elem(n, 0.3)).unwrap();
        let inputs =
            gaussian(8, file.model.input_dim(), 3).into_shape_with_order((4, 2, file.model.input_dim())).unwrap();
        let traj = file.simulate(inputs.view(), None).unwrap();
        assert_eq!(traj.hidden.dim(), (4, 2, n));
        let explicit = Array2::from_elem((2, n), 0.3);
        assert_eq!(file.simulate(inputs.view(), Some(explicit.view())).unwrap(), traj);
        let map = file.model.cell().map();
        let first = map.step(Array1::from_elem(n, 0.3).view(), inputs.slice(s![0, 1, ..])).unwrap();
        assert!(max_abs_diff(&first, &traj.hidden.slice(s![0, 1, ..]).to_owned()) < 1e-15);
    }
}

fn sig(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The equations of docs/DYNAMICS.md §1, written out with whole-matrix products.
fn reference_next(model: &Model, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Array1<f64> {
    match model {
        Model::Elman(w) => {
            let act = w.activation();
            (w.w_hh().dot(&x) + w.w_ih().dot(&u) + w.b_h().unwrap()).mapv(|v| act.apply(v))
        }
        Model::Stack(st) => {
            // PyTorch's layers one after the other, each reading the new output below.
            let mut input = u.to_owned();
            let mut out = Vec::new();
            for (l, layer) in st.layers().iter().enumerate() {
                let xl = x.slice(s![st.layer_range(l)]);
                let next = match layer {
                    Layer::Elman(e) => {
                        let b = |v: Option<ArrayView1<'_, f64>>| v.map_or(Array1::zeros(xl.len()), |v| v.to_owned());
                        let act = e.activation();
                        (e.w_ih().dot(&input) + b(e.b_ih()) + e.w_hh().dot(&xl) + b(e.b_hh())).mapv(|v| act.apply(v))
                    }
                    Layer::Gru(w) => reference_next(&Model::Gru(w.clone()), xl, input.view()),
                    Layer::Lstm(w) => {
                        let (p, n) = (w.output_dim(), w.hidden_dim());
                        let (h, c) = (xl.slice(s![..p]), xl.slice(s![p..]));
                        let zero = Array1::zeros(4 * n);
                        let a = w.w_ih().dot(&input)
                            + w.w_hh().dot(&h)
                            + w.b_ih().map_or(zero.clone(), |b| b.to_owned())
                            + w.b_hh().map_or(zero, |b| b.to_owned());
                        let i = a.slice(s![..n]).mapv(sig);
                        let f = a.slice(s![n..2 * n]).mapv(sig);
                        let gg = a.slice(s![2 * n..3 * n]).mapv(f64::tanh);
                        let o = a.slice(s![3 * n..]).mapv(sig);
                        let c2 = &f * &c + &i * &gg;
                        let m = &o * &c2.mapv(f64::tanh);
                        let h2 = w.w_hr().map_or(m.clone(), |r| r.dot(&m));
                        ndarray::concatenate![ndarray::Axis(0), h2, c2]
                    }
                };
                input = next.slice(s![..layer.output_dim()]).to_owned();
                out.extend(next.iter().copied());
            }
            Array1::from(out)
        }
        Model::Gru(w) => {
            let n = x.len();
            let zero = Array1::zeros(3 * n);
            let gi = w.w_ih().dot(&u) + w.b_ih().map_or(zero.clone(), |b| b.to_owned());
            let gh = w.w_hh().dot(&x) + w.b_hh().map_or(zero, |b| b.to_owned());
            let r = (&gi.slice(s![..n]) + &gh.slice(s![..n])).mapv(sig);
            let z = (&gi.slice(s![n..2 * n]) + &gh.slice(s![n..2 * n])).mapv(sig);
            let nn = (&gi.slice(s![2 * n..]) + &(&r * &gh.slice(s![2 * n..]))).mapv(f64::tanh);
            (1.0 - &z) * &nn + &z * &x
        }
        Model::CtRnn(w) => {
            let a = w.alpha();
            &x * (1.0 - a) + (w.w_hh().dot(&x.mapv(f64::tanh)) + w.b().unwrap() + w.w_ih().dot(&u)) * a
        }
        Model::CtGru(w) => {
            let n = x.len();
            let (uu, wi, b) = (w.u(), w.w_ih().unwrap(), w.b().unwrap());
            let pre = |k: usize| wi.slice(s![k * n..(k + 1) * n, ..]).dot(&u) + b.slice(s![k * n..(k + 1) * n]);
            let r = (uu.slice(s![..n, ..]).dot(&x) + pre(0)).mapv(sig);
            let z = (uu.slice(s![n..2 * n, ..]).dot(&x) + pre(1)).mapv(sig);
            let c = (uu.slice(s![2 * n.., ..]).dot(&(&r * &x)) + pre(2)).mapv(f64::tanh);
            &x + &((1.0 - &z) * (&c - &x) * w.dt())
        }
        Model::Gated(w) => {
            let n = x.len() / 3;
            let p = w.params();
            let [jh, jz, jr] = w.couplings();
            let [bh, bz, _] = w.biases();
            let (h, z, r) = (x.slice(s![..n]), x.slice(s![n..2 * n]), x.slice(s![2 * n..]));
            let th = h.mapv(f64::tanh);
            let a = z.mapv(|v| sig(p.alpha_z * v + p.beta_z));
            let q = r.mapv(|v| sig(p.alpha_r * v + p.beta_r));
            let dh = &a * &(-&h + jh.dot(&(&q * &th)) + bh.unwrap() + u);
            let dz = (-&z + jz.dot(&th) + bz.unwrap()) / p.tau_z;
            let dr = (-&r + jr.dot(&th)) / p.tau_r;
            let mut f = Array1::zeros(3 * n);
            f.slice_mut(s![..n]).assign(&dh);
            f.slice_mut(s![n..2 * n]).assign(&dz);
            f.slice_mut(s![2 * n..]).assign(&dr);
            &x + &(f * p.dt)
        }
        Model::Oscillator(w) => {
            let g = 1.0 + w.kappa() * (1.0 - x.dot(&x).sqrt());
            let th = w.omega() + w.c().row(0).dot(&u);
            let rot = ndarray::array![[th.cos(), -th.sin()], [th.sin(), th.cos()]];
            rot.dot(&x) * g
        }
    }
}

proptest! {
    #![proptest_config(emt_testkit::proptest_config(48))]

    #[test]
    fn reference_steps_match_the_equations(n in 1usize..7, d in 1usize..4, o in 1usize..3, seed in 0u64..1000) {
        for model in models(n, d, o, seed) {
            let map = model.cell().map();
            let x = vec(model.state_dim(), seed + 100, 0.7);
            let u = vec(model.input_dim(), seed + 101, 1.0);
            let got = map.step(x.view(), u.view()).unwrap();
            let want = reference_next(&model, x.view(), u.view());
            prop_assert!(max_abs_diff(&got, &want) < 1e-12, "{}: {:e}", model.kind(), max_abs_diff(&got, &want));
        }
    }

    #[test]
    fn jacobians_match_central_differences(n in 1usize..6, d in 1usize..4, seed in 0u64..1000) {
        for model in models(n, d, 2, seed) {
            let x = vec(model.state_dim(), seed + 200, 0.7);
            let u = vec(model.input_dim(), seed + 201, 1.0);
            let (jx, ju, fx, fu) = match (model.as_map(), model.as_flow()) {
                (Some(m), _) => (
                    m.jacobian(x.view(), u.view()).unwrap(),
                    m.input_jacobian(x.view(), u.view()).unwrap(),
                    jacobian_fd(|xx| m.step(xx, u.view()).unwrap(), x.view(), 1e-6),
                    jacobian_fd(|uu| m.step(x.view(), uu).unwrap(), u.view(), 1e-6),
                ),
                (None, Some(f)) => (
                    f.jacobian(x.view(), u.view()).unwrap(),
                    f.input_jacobian(x.view(), u.view()).unwrap(),
                    jacobian_fd(|xx| f.field(xx, u.view()).unwrap(), x.view(), 1e-6),
                    jacobian_fd(|uu| f.field(x.view(), uu).unwrap(), u.view(), 1e-6),
                ),
                (None, None) => unreachable!("every cell is a map or a flow"),
            };
            let scale = 1.0 + jx.iter().chain(ju.iter()).fold(0.0f64, |m, v| m.max(v.abs()));
            prop_assert!(max_abs_diff(&jx, &fx) < 1e-6 * scale, "{} state: {:e}", model.kind(), max_abs_diff(&jx, &fx));
            prop_assert!(max_abs_diff(&ju, &fu) < 1e-6 * scale, "{} input: {:e}", model.kind(), max_abs_diff(&ju, &fu));
        }
    }
}

fn file_with(tensors: &[(&str, Array2<f64>)], meta: &[(&str, &str)]) -> Vec<u8> {
    let views: Vec<_> = tensors.iter().map(|(n, a)| (*n, a.view().into_dyn())).collect();
    let m: BTreeMap<String, String> = meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    tensors_to_safetensors(&views, &m).unwrap()
}

#[test]
fn a_pytorch_gru_state_dict_without_metadata_is_recognised() {
    let bytes = file_with(&[("rnn.weight_ih_l0", gaussian(12, 3, 1)), ("rnn.weight_hh_l0", gaussian(12, 4, 2))], &[]);
    let f = ModelFile::from_bytes(&bytes, "torch").unwrap();
    assert_eq!(
        (f.model.kind(), f.model.state_dim(), f.model.input_dim(), f.model.output_dim()),
        (CellKind::Gru, 4, 3, 0)
    );
}

#[test]
fn malformed_files_name_the_tensor() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        // Shapes that fit no cell.
        (file_with(&[("weight_hh_l0", gaussian(6, 4, 1)), ("weight_ih_l0", gaussian(6, 2, 1))], &[]), "weight_hh_l0"),
        // A GRU whose input weights have N rows, not 3N.
        (
            file_with(&[("weight_hh_l0", gaussian(12, 4, 1)), ("weight_ih_l0", gaussian(4, 2, 1))], &[("cell", "gru")]),
            "weight_ih_l0",
        ),
        // A readout of the wrong width.
        (
            file_with(
                &[
                    ("weight_hh_l0", gaussian(4, 4, 1)),
                    ("weight_ih_l0", gaussian(4, 2, 1)),
                    ("weight", gaussian(1, 3, 1)),
                ],
                &[("cell", "ctrnn"), ("alpha", "0.5")],
            ),
            "weight",
        ),
        // An unknown cell.
        (file_with(&[("weight_hh_l0", gaussian(4, 4, 1))], &[("cell", "transformer")]), "transformer"),
        // A missing constant.
        (file_with(&[("weight_hh_l0", gaussian(12, 4, 1))], &[("cell", "ctgru")]), "dt"),
        // A missing tensor.
        (
            file_with(&[("weight_hh", gaussian(3, 3, 1)), ("weight_zh", gaussian(3, 3, 1))], &[("cell", "gated")]),
            "weight_rh",
        ),
    ];
    for (bytes, name) in cases {
        let e = ModelFile::from_bytes(&bytes, "bad.safetensors").unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "{e}");
        assert!(e.to_string().contains(name) && e.to_string().contains("bad.safetensors"), "{name}: {e}");
    }
    let mut nan = gaussian(4, 4, 1);
    nan[[2, 3]] = f64::NAN;
    let e = ModelFile::from_bytes(
        &file_with(&[("weight_hh_l0", nan), ("weight_ih_l0", gaussian(4, 1, 2)), ("weight", gaussian(1, 4, 3))], &[]),
        "nan",
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::NonFinite { ref what, ref index, .. } if what == "weight_hh_l0" && *index == vec![2, 3]),
        "{e}"
    );
    let good = ModelFile::new(models(3, 2, 1, 0).remove(1)).to_bytes().unwrap();
    for cut in [0, 7, 30, good.len() - 3] {
        assert!(matches!(ModelFile::from_bytes(&good[..cut], "cut"), Err(Error::Format { .. })), "cut {cut}");
    }
    let e = ModelFile::load("/no/such/dir/model.safetensors").unwrap_err();
    assert!(e.to_string().contains("/no/such/dir/model.safetensors"), "{e}");
}

#[test]
fn the_old_elman_loader_refuses_other_cells_clearly() {
    let bytes = ModelFile::new(models(3, 2, 1, 0).remove(1)).to_bytes().unwrap();
    let e = emt_core::io::weights_from_safetensors(&bytes, "gru.safetensors").unwrap_err();
    assert!(e.to_string().contains("gru"), "{e}");
}

/// A fuzz finding: a file with f32 tensors and one f64 tensor holding 1e300 was taken as an
/// f32 model and written back with -inf. A mixed file is f64 now, and an f32 model whose
/// value does not fit f32 is refused on writing, never written as inf.
#[test]
fn mixed_dtype_files_stay_f64_and_f32_never_writes_inf() {
    use emt_core::io::{Tensors, tensors_to_safetensors};
    let mut w_hh = ndarray::Array2::<f64>::eye(2);
    w_hh[[0, 1]] = 1e300;
    let w_ih = ndarray::Array2::<f32>::ones((2, 1));
    let w_r = ndarray::Array2::<f32>::ones((1, 2));
    let hh = tensors_to_safetensors(&[("weight_hh_l0", w_hh.view().into_dyn())], &Default::default()).unwrap();
    let rest = tensors_to_safetensors(
        &[("weight_ih_l0", w_ih.view().into_dyn()), ("weight", w_r.view().into_dyn())],
        &Default::default(),
    )
    .unwrap();
    let mut t = Tensors::from_bytes(&hh, "hh").unwrap();
    let r = Tensors::from_bytes(&rest, "rest").unwrap();
    t.tensors.extend(r.tensors.clone());
    t.dtypes.extend(r.dtypes.clone());
    let file = ModelFile::from_tensors(&t).unwrap();
    assert_eq!(file.dtype.name(), "f64");
    let back = ModelFile::from_bytes(&file.to_bytes().unwrap(), "back").unwrap();
    assert_eq!(back.model, file.model);
    let e = file.with_dtype(emt_core::cells::Dtype::F32).to_bytes().unwrap_err().to_string();
    assert!(e.contains("weight_hh_l0[0, 1]") && e.contains("does not fit f32"), "{e}");
}

/// The start of a zero-input analysis: the file's h0 when it has one, else a small seeded state
/// off the origin, the same for the same seed.
#[test]
fn start_state_is_h0_or_a_small_seeded_state() {
    let net = CtGruWeights::new(ndarray::Array2::zeros((6, 2)), None, None, 0.1, None).unwrap();
    let file = ModelFile::new(Model::CtGru(net));
    let (a, b, c) = (file.start_state(3), file.start_state(3), file.start_state(4));
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.iter().all(|v| v.abs() <= 0.05 && *v != 0.0), "{a}");
    let with = file.with_h0(ndarray::array![0.5, -0.25]).unwrap();
    assert_eq!(with.start_state(3), ndarray::array![0.5, -0.25]);
    assert_eq!(with.model.step_time(), 0.1);
}
