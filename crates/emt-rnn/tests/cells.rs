//! Every cell's BPTT is the exact gradient (central differences in f64, random shapes, with and
//! without biases, rate penalty, random score masks); cell identities (ctrnn with alpha = 1);
//! noise determinism; the engine's forward pass equals emt-core's reference step.

use emt_core::cells::Model;
use emt_rnn::{CellSpec, Engine, Params, TanhMode};
use ndarray::{Array3, ArrayView3};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone)]
struct Case {
    params: Params<f64>,
    inputs: Array3<f64>,
    targets: Array3<f64>,
    mask: Vec<bool>,
    penalty: f64,
    /// A fixed initial state (half the cases).
    h0: Option<Vec<f64>>,
}

fn cell_strategy() -> impl Strategy<Value = CellSpec> {
    prop_oneof![
        Just(CellSpec::Elman),
        Just(CellSpec::Gru),
        (0.05f64..=1.0).prop_map(|alpha| CellSpec::CtRnn { alpha }),
        (0.05f64..1.5).prop_map(|dt| CellSpec::CtGru { dt }),
        Just(CellSpec::Lstm),
    ]
}

#[allow(clippy::too_many_arguments)]
fn case(
    cell: CellSpec,
    n: usize,
    d_in: usize,
    d_out: usize,
    t_len: usize,
    batch: usize,
    bias: bool,
    seed: u64,
) -> Case {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut params = Params::<f64>::init_cell(cell, n, d_in, d_out, bias, &mut r).unwrap();
    // Larger weights than the default init, so the nonlinearities are exercised.
    params.as_mut_slice().iter_mut().for_each(|w| *w *= 2.5);
    let inputs = Array3::from_shape_fn((t_len, batch, d_in), |_| r.random_range(-1.5..1.5));
    let targets = Array3::from_shape_fn((t_len, batch, d_out), |_| if r.random::<bool>() { 1.0 } else { -1.0 });
    let mut mask: Vec<bool> = (0..t_len).map(|_| r.random::<bool>()).collect();
    let k = r.random_range(0..t_len);
    mask[k] = true;
    let penalty = if r.random::<bool>() { r.random_range(0.0..0.5) } else { 0.0 };
    // The engine starts an lstm from h = c = 0 (a fixed h0 would need c0 too).
    let h0 =
        (r.random::<bool>() && cell != CellSpec::Lstm).then(|| (0..n).map(|_| r.random_range(-1.0..1.0)).collect());
    Case { params, inputs, targets, mask, penalty, h0 }
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (cell_strategy(), 1usize..6, 1usize..4, 1usize..4, 1usize..7, 1usize..4, any::<bool>(), any::<u64>())
        .prop_map(|(cell, n, di, dout, t, b, bias, seed)| case(cell, n, di, dout, t, b, bias, seed))
}

/// An exact f64 engine for the case: its rate penalty and initial state.
fn engine_for(c: &Case) -> Engine<f64> {
    let e = Engine::<f64>::new(1, TanhMode::Exact).unwrap().with_rate_penalty(c.penalty).unwrap();
    match &c.h0 {
        Some(h0) => e.with_h0(h0.clone()).unwrap(),
        None => e,
    }
}

fn loss(e: &mut Engine<f64>, p: &Params<f64>, x: ArrayView3<'_, f64>, y: ArrayView3<'_, f64>, mask: &[bool]) -> f64 {
    let mut g = Params::zeros(p.layout());
    e.loss_and_grad_masked(p, x, y, mask, &mut g).unwrap().loss
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let diff: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let scale: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt().max(1e-12);
    diff / scale
}

proptest! {
    #![proptest_config(emt_testkit::proptest_config(192))]

    #[test]
    fn bptt_equals_central_differences_for_every_cell(c in case_strategy()) {
        let mut engine = engine_for(&c);
        let mut grad = Params::zeros(c.params.layout());
        engine.loss_and_grad_masked(&c.params, c.inputs.view(), c.targets.view(), &c.mask, &mut grad).unwrap();
        let eps = 1e-5;
        let mut p = c.params.clone();
        let mut fd = vec![0.0; grad.as_slice().len()];
        for (k, slot) in fd.iter_mut().enumerate() {
            let orig = p.as_slice()[k];
            p.as_mut_slice()[k] = orig + eps;
            let up = loss(&mut engine, &p, c.inputs.view(), c.targets.view(), &c.mask);
            p.as_mut_slice()[k] = orig - eps;
            let down = loss(&mut engine, &p, c.inputs.view(), c.targets.view(), &c.mask);
            p.as_mut_slice()[k] = orig;
            *slot = (up - down) / (2.0 * eps);
        }
        let r = rel(grad.as_slice(), &fd);
        prop_assert!(r < 1e-6, "{:?}: relative error {:e}", c.params.layout(), r);
    }

    /// The engine's forward pass is the reference step of emt-core's model (docs/DYNAMICS.md §1).
    #[test]
    fn forward_equals_the_reference_cell(c in case_strategy()) {
        let mut engine = engine_for(&c);
        let (outputs, hidden) = engine.forward(&c.params, c.inputs.view()).unwrap();
        let model = c.params.to_model().unwrap();
        let top = model.cell().hidden_range();
        let batch = c.inputs.dim().1;
        let h0 = c.h0.as_ref().map(|h| ndarray::Array2::from_shape_fn((batch, h.len()), |(_, i)| h[i]));
        let traj = emt_core::cells::ModelFile::new(model).simulate(c.inputs.view(), h0.as_ref().map(|a| a.view())).unwrap();
        let dh = (&hidden - &traj.hidden.slice(ndarray::s![.., .., top])).mapv(f64::abs).fold(0.0, |a: f64, &b| a.max(b));
        prop_assert!(dh < 1e-12, "hidden differs by {:e}", dh);
        let d_o = (&outputs - &traj.outputs).mapv(f64::abs).fold(0.0, |a: f64, &b| a.max(b));
        prop_assert!(d_o < 1e-12, "outputs differ by {:e}", d_o);
    }

    /// f32 (fast kernels) stays close to f64 for every cell.
    #[test]
    fn f32_fast_agrees_with_f64(c in case_strategy()) {
        let mut e64 = Engine::<f64>::new(1, TanhMode::Exact).unwrap();
        let mut g64 = Params::zeros(c.params.layout());
        let s64 = e64.loss_and_grad_masked(&c.params, c.inputs.view(), c.targets.view(), &c.mask, &mut g64).unwrap();
        let mut e32 = Engine::<f32>::new(1, TanhMode::Fast).unwrap();
        let p32 = c.params.cast::<f32>();
        let mut g32 = Params::zeros(p32.layout());
        let (x, y) = (c.inputs.mapv(|v| v as f32), c.targets.mapv(|v| v as f32));
        let s32 = e32.loss_and_grad_masked(&p32, x.view(), y.view(), &c.mask, &mut g32).unwrap();
        let g32: Vec<f64> = g32.as_slice().iter().map(|&v| v as f64).collect();
        prop_assert!(rel(&g32, g64.as_slice()) < 2e-3, "gradient relative error {:e}", rel(&g32, g64.as_slice()));
        prop_assert!((s32.loss - s64.loss).abs() <= 1e-4 * s64.loss.max(1.0));
    }
}

/// The relu Elman (`torch.nn.RNN(nonlinearity="relu")`) on 40 fixed cases: BPTT equals central
/// differences (fixed seeds, so no draw lands a pre-activation within eps of the kink by chance
/// between runs), the forward pass equals emt-core's relu reference, and the model round-trips.
#[test]
fn relu_elman_bptt_forward_and_model() {
    let (mut cut, mut total) = (0, 0);
    for seed in 0..40u64 {
        let (n, d_in, d_out, t, b) = (
            1 + seed as usize % 5,
            1 + seed as usize % 3,
            1 + seed as usize % 2,
            2 + seed as usize % 5,
            1 + seed as usize % 3,
        );
        let c = case(CellSpec::ElmanRelu, n, d_in, d_out, t, b, seed % 2 == 0, 1000 + seed);
        let mut engine = engine_for(&c);
        let mut grad = Params::zeros(c.params.layout());
        engine.loss_and_grad_masked(&c.params, c.inputs.view(), c.targets.view(), &c.mask, &mut grad).unwrap();
        let eps = 1e-6;
        let mut p = c.params.clone();
        let fd: Vec<f64> = (0..grad.as_slice().len())
            .map(|k| {
                let orig = p.as_slice()[k];
                p.as_mut_slice()[k] = orig + eps;
                let up = loss(&mut engine, &p, c.inputs.view(), c.targets.view(), &c.mask);
                p.as_mut_slice()[k] = orig - eps;
                let down = loss(&mut engine, &p, c.inputs.view(), c.targets.view(), &c.mask);
                p.as_mut_slice()[k] = orig;
                (up - down) / (2.0 * eps)
            })
            .collect();
        let r = rel(grad.as_slice(), &fd);
        assert!(r < 1e-6, "seed {seed}: relative error {r:e}");
        let (outputs, hidden) = engine.forward(&c.params, c.inputs.view()).unwrap();
        let model = c.params.to_model().unwrap();
        assert_eq!(model.activation(), emt_core::Activation::Relu);
        let batch = c.inputs.dim().1;
        let h0 = c.h0.as_ref().map(|h| ndarray::Array2::from_shape_fn((batch, h.len()), |(_, i)| h[i]));
        let traj = emt_core::cells::ModelFile::new(model.clone())
            .simulate(c.inputs.view(), h0.as_ref().map(|a| a.view()))
            .unwrap();
        assert!((&hidden - &traj.hidden).iter().all(|v| v.abs() < 1e-12), "seed {seed}: hidden");
        assert!((&outputs - &traj.outputs).iter().all(|v| v.abs() < 1e-12), "seed {seed}: outputs");
        (cut, total) = (cut + hidden.iter().filter(|v| **v == 0.0).count(), total + hidden.len());
        let back = Params::<f64>::from_model(&model).unwrap();
        assert_eq!(back.layout(), c.params.layout());
    }
    // The kink is exercised: a good share of the states are cut to 0.
    assert!(cut * 5 > total, "{cut} of {total} states at 0");
}

/// docs/DYNAMICS.md §1 / issue 9: a ctrnn with alpha = 1 and no noise is the Elman-like map
/// `h' = W_hh tanh h + W_ih x + b` with the readout on `tanh h`; so `tanh h` follows an
/// Elman network whose input projection is shifted by one step. Checked on outputs, losses
/// and gradients against a direct evaluation.
#[test]
fn ctrnn_with_alpha_one_is_the_elman_like_map() {
    let c = case(CellSpec::CtRnn { alpha: 1.0 }, 6, 3, 2, 9, 4, true, 11);
    let mut e = Engine::<f64>::new(1, TanhMode::Exact).unwrap();
    let (outputs, hidden) = e.forward(&c.params, c.inputs.view()).unwrap();
    let p = &c.params;
    let (w_ih, w_hh, b, w_r, b_r) = (p.w_ih(), p.w_hh(), p.b_hh().unwrap(), p.w_r(), p.b_r().unwrap());
    for bi in 0..4 {
        let mut a = ndarray::Array1::<f64>::zeros(6);
        for t in 0..9 {
            let x = c.inputs.slice(ndarray::s![t, bi, ..]);
            let h: ndarray::Array1<f64> = w_hh.dot(&a) + w_ih.dot(&x) + b;
            a = h.mapv(f64::tanh);
            let o = w_r.dot(&a) + b_r;
            for i in 0..6 {
                assert!((hidden[[t, bi, i]] - h[i]).abs() < 1e-14);
            }
            for k in 0..2 {
                assert!((outputs[[t, bi, k]] - o[k]).abs() < 1e-14);
            }
        }
    }
}

#[test]
fn noise_is_reproducible_independent_of_threads_and_zero_noise_is_the_noiseless_path() {
    let c = case(CellSpec::CtRnn { alpha: 0.3 }, 8, 3, 2, 12, 6, true, 5);
    let run = |threads: usize, sigma: Option<f64>, calls: usize| {
        let mut e = Engine::<f64>::new(threads, TanhMode::Exact).unwrap();
        if let Some(s) = sigma {
            e = e.with_noise(s, 42).unwrap();
        }
        let mut g = Params::zeros(c.params.layout());
        let mut out = Vec::new();
        for _ in 0..calls {
            let st = e.loss_and_grad_masked(&c.params, c.inputs.view(), c.targets.view(), &c.mask, &mut g).unwrap();
            out.push((st.loss, g.as_slice().to_vec()));
        }
        out
    };
    let a = run(1, Some(0.1), 2);
    assert_eq!(a, run(1, Some(0.1), 2), "same seed, same thread count: bit-identical");
    let b = run(2, Some(0.1), 2);
    assert!((a[0].0 - b[0].0).abs() < 1e-12, "noise does not depend on the thread count");
    assert_ne!(a[0].0, a[1].0, "each call draws fresh noise");
    let quiet = run(1, None, 1);
    assert_ne!(a[0].0, quiet[0].0, "noise changes the loss");
    assert_eq!(run(1, Some(0.0), 1), quiet, "std 0 is the noiseless path, bit for bit");
    // Other cells refuse noise instead of ignoring it.
    let g = case(CellSpec::Gru, 4, 3, 2, 5, 2, false, 1);
    let mut e = Engine::<f64>::new(1, TanhMode::Exact).unwrap().with_noise(0.1, 0).unwrap();
    let mut grad = Params::zeros(g.params.layout());
    let err = e.loss_and_grad_masked(&g.params, g.inputs.view(), g.targets.view(), &g.mask, &mut grad).unwrap_err();
    assert!(err.to_string().contains("noise"), "{err}");
    assert!(Engine::<f64>::new(1, TanhMode::Exact).unwrap().with_noise(-1.0, 0).is_err());
    assert!(Engine::<f64>::new(1, TanhMode::Exact).unwrap().with_rate_penalty(f64::NAN).is_err());
}

#[test]
fn masks_and_model_round_trips() {
    let c = case(CellSpec::Gru, 4, 3, 2, 6, 3, true, 2);
    let mut e = Engine::<f64>::new(1, TanhMode::Exact).unwrap();
    let mut g = Params::zeros(c.params.layout());
    for bad in [vec![true; 5], vec![false; 6]] {
        assert!(e.loss_and_grad_masked(&c.params, c.inputs.view(), c.targets.view(), &bad, &mut g).is_err());
    }
    // A mask "t >= 2" equals first_scored = 2.
    let m: Vec<bool> = (0..6).map(|t| t >= 2).collect();
    let a = e.loss_and_grad_masked(&c.params, c.inputs.view(), c.targets.view(), &m, &mut g).unwrap();
    let ga = g.as_slice().to_vec();
    let b = e.loss_and_grad_arrays(&c.params, c.inputs.view(), c.targets.view(), 2, &mut g).unwrap();
    assert_eq!((a, ga), (b, g.as_slice().to_vec()));
    for cell in
        [CellSpec::Elman, CellSpec::Gru, CellSpec::CtRnn { alpha: 0.5 }, CellSpec::CtGru { dt: 0.2 }, CellSpec::Lstm]
    {
        for bias in [false, true] {
            let p = case(cell, 4, 3, 2, 2, 1, bias, 3).params;
            let back = Params::<f64>::from_model(&p.to_model().unwrap()).unwrap();
            // Elman merges its two biases into one on the way out.
            if cell != CellSpec::Elman || !bias {
                assert_eq!(back, p, "{cell:?} bias {bias}");
            }
            assert_eq!(back.layout(), p.layout());
        }
    }
    let gw = emt_core::cells::GatedWeights::new(
        ndarray::Array2::eye(2),
        ndarray::Array2::eye(2),
        ndarray::Array2::eye(2),
        [None, None, None],
        emt_core::cells::GatedParams::default(),
        None,
    )
    .unwrap();
    let err = Params::<f64>::from_model(&Model::Gated(gw)).unwrap_err();
    assert!(err.to_string().contains("gated"), "{err}");
}
