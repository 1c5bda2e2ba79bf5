//! Parity with PyTorch: forward, loss, gradients, clipping norm and two Adam steps, in f64,
//! to 1e-10 (fixture described in tests/fixtures/README.md).

use emt_core::io::Tensors;
use emt_rnn::{Adam, AdamConfig, ElmanParams, Engine, TanhMode, clip_grad_norm};
use ndarray::{Array1, Array2, Array3, ArrayD};

const TOL: f64 = 1e-10;

fn fixture() -> Tensors {
    Tensors::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_elman.safetensors"))
        .expect("fixture loads")
}

fn get(t: &Tensors, name: &str) -> ArrayD<f64> {
    t.tensors.get(name).unwrap_or_else(|| panic!("fixture lacks {name}")).clone()
}

fn m2(t: &Tensors, name: &str) -> Array2<f64> {
    get(t, name).into_dimensionality().expect("2-D")
}

fn v1(t: &Tensors, name: &str) -> Array1<f64> {
    get(t, name).into_dimensionality().expect("1-D")
}

fn params(t: &Tensors, prefix: &str, bias: bool) -> ElmanParams<f64> {
    let p = |n: &str| format!("{prefix}{n}");
    let biases = bias.then(|| (v1(t, &p("bias_ih_l0")), v1(t, &p("bias_hh_l0")), v1(t, &p("bias"))));
    ElmanParams::from_pytorch(m2(t, &p("weight_ih_l0")), m2(t, &p("weight_hh_l0")), biases, m2(t, &p("weight")))
        .expect("valid")
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn check_case(case: &str, bias: bool) {
    let t = fixture();
    let pre = format!("{case}.");
    let inputs: Array3<f64> = get(&t, &format!("{pre}inputs")).into_dimensionality().unwrap();
    let targets: Array3<f64> = get(&t, &format!("{pre}targets")).into_dimensionality().unwrap();
    let mut p = params(&t, &pre, bias);
    let mut engine = Engine::<f64>::new(1, TanhMode::Exact).unwrap();

    let (outputs, hidden) = engine.forward(&p, inputs.view()).unwrap();
    let d_out = max_diff(outputs.as_slice().unwrap(), get(&t, &format!("{pre}outputs")).as_slice().unwrap());
    let d_hid = max_diff(hidden.as_slice().unwrap(), get(&t, &format!("{pre}hidden")).as_slice().unwrap());
    assert!(d_out < TOL && d_hid < TOL, "{case}: outputs {d_out:e}, hidden {d_hid:e}");

    let mut grad = ElmanParams::zeros(p.layout());
    let stats = engine.loss_and_grad_arrays(&p, inputs.view(), targets.view(), 2, &mut grad).unwrap();
    let loss = get(&t, &format!("{pre}loss"))[[0]];
    assert!((stats.loss - loss).abs() < TOL, "{case}: loss {} vs {loss}", stats.loss);
    let expect_grad = params(&t, &format!("{pre}grad."), bias);
    let d_grad = max_diff(grad.as_slice(), expect_grad.as_slice());
    assert!(d_grad < TOL, "{case}: gradients differ by {d_grad:e}");

    // Two Adam steps on clipped gradients of the same batch.
    let config = AdamConfig { lr: 0.01, weight_decay: 0.1, ..Default::default() };
    let mut adam = Adam::new(p.layout().len(), config).unwrap();
    for step in 1..=2 {
        engine.loss_and_grad_arrays(&p, inputs.view(), targets.view(), 2, &mut grad).unwrap();
        let norm = clip_grad_norm(grad.as_mut_slice(), 0.5).unwrap();
        if step == 1 {
            let expect = get(&t, &format!("{pre}grad_norm"))[[0]];
            assert!((norm - expect).abs() < TOL, "{case}: grad norm {norm} vs {expect}");
        }
        adam.step(p.as_mut_slice(), grad.as_slice()).unwrap();
        let expect = params(&t, &format!("{pre}adam{step}."), bias);
        let d = max_diff(p.as_slice(), expect.as_slice());
        assert!(d < TOL, "{case}: parameters after Adam step {step} differ by {d:e}");
    }
}

#[test]
fn matches_pytorch_without_biases() {
    check_case("nobias", false);
}

#[test]
fn matches_pytorch_with_biases() {
    check_case("bias", true);
}

/// AdamW's first step against `torch.optim.AdamW(lr=0.01, weight_decay=0.1)` in the GRU
/// fixture: PyTorch's gradients at the initial parameters, clipped to norm 0.5, one decoupled
/// step, compared with `adamw1.*`: the optimiser alone, independent of the engine (the full
/// GRU parity, two steps with the engine's own gradients, is the test below).
#[test]
fn adamw_first_step_matches_torch() {
    let t = Tensors::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_gru.safetensors"))
        .expect("fixture loads");
    for (case, names) in [
        ("nobias", &["weight_ih_l0", "weight_hh_l0", "weight"][..]),
        ("bias", &["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight", "bias"][..]),
    ] {
        let flat = |prefix: &str| -> Vec<f64> {
            names
                .iter()
                .flat_map(|n| get(&t, &format!("{case}.{prefix}{n}")).iter().copied().collect::<Vec<_>>())
                .collect()
        };
        let (mut params, mut grad, expected) = (flat(""), flat("grad."), flat("adamw1."));
        let norm = clip_grad_norm(&mut grad, 0.5).unwrap();
        assert!((norm - get(&t, &format!("{case}.grad_norm"))[[0]]).abs() < TOL, "{case}: grad norm");
        let mut adamw = Adam::<f64>::new(params.len(), AdamConfig::adamw(0.01, 0.1)).unwrap();
        adamw.step(&mut params, &grad).unwrap();
        let err = max_diff(&params, &expected);
        assert!(err < TOL, "{case}: AdamW step 1 differs by {err:e}");
        // Coupled Adam gives a different answer: the test can tell the two apart.
        let (mut coupled, mut grad2) = (flat(""), flat("grad."));
        clip_grad_norm(&mut grad2, 0.5).unwrap();
        let config = AdamConfig { lr: 0.01, weight_decay: 0.1, ..Default::default() };
        Adam::<f64>::new(coupled.len(), config).unwrap().step(&mut coupled, &grad2).unwrap();
        assert!(max_diff(&coupled, &expected) > 1e-6, "{case}: coupled Adam should not match AdamW");
    }
}

/// The GRU cell against `torch.nn.GRU` + `nn.Linear` (f64): outputs, hidden states, loss,
/// every gradient, the clip norm and two AdamW steps on clipped gradients, to 1e-10.
#[test]
fn gru_matches_pytorch_forward_gradients_and_two_adamw_steps() {
    gated_cell_parity(emt_rnn::CellSpec::Gru, "torch_gru.safetensors");
}

/// The LSTM cell against `torch.nn.LSTM` + `nn.Linear` (f64, from h = c = 0), the same way.
#[test]
fn lstm_matches_pytorch_forward_gradients_and_two_adamw_steps() {
    gated_cell_parity(emt_rnn::CellSpec::Lstm, "torch_lstm.safetensors");
}

fn gated_cell_parity(cell: emt_rnn::CellSpec, fixture: &str) {
    use emt_rnn::{Layout, Params};
    let t = Tensors::read(format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"))).expect("fixture loads");
    for (case, bias) in [("nobias", false), ("bias", true)] {
        let layout = Layout::for_cell(cell, 5, 3, 3, bias).unwrap();
        let flat = |prefix: &str| -> Params<f64> {
            let data: Vec<f64> = layout
                .tensors()
                .iter()
                .flat_map(|(name, _, _)| get(&t, &format!("{case}.{prefix}{name}")).iter().copied().collect::<Vec<_>>())
                .collect();
            Params::from_vec(layout, data).unwrap()
        };
        let inputs: Array3<f64> = get(&t, &format!("{case}.inputs")).into_dimensionality().unwrap();
        let targets: Array3<f64> = get(&t, &format!("{case}.targets")).into_dimensionality().unwrap();
        let mut p = flat("");
        let mut engine = Engine::<f64>::new(1, TanhMode::Exact).unwrap();
        let (outputs, hidden) = engine.forward(&p, inputs.view()).unwrap();
        let d_out = max_diff(outputs.as_slice().unwrap(), get(&t, &format!("{case}.outputs")).as_slice().unwrap());
        let d_hid = max_diff(hidden.as_slice().unwrap(), get(&t, &format!("{case}.hidden")).as_slice().unwrap());
        assert!(d_out < TOL && d_hid < TOL, "{cell:?} {case}: outputs {d_out:e}, hidden {d_hid:e}");
        println!("{cell:?} {case}: outputs {d_out:.1e}, hidden {d_hid:.1e}");

        let mut grad = Params::zeros(layout);
        let stats = engine.loss_and_grad_arrays(&p, inputs.view(), targets.view(), 2, &mut grad).unwrap();
        let loss = get(&t, &format!("{case}.loss"))[[0]];
        assert!((stats.loss - loss).abs() < TOL, "{case}: loss {} vs {loss}", stats.loss);
        let d_grad = max_diff(grad.as_slice(), flat("grad.").as_slice());
        assert!(d_grad < TOL, "{cell:?} {case}: gradients differ by {d_grad:e}");
        println!("{cell:?} {case}: loss {:.1e}, gradients {d_grad:.1e}", (stats.loss - loss).abs());

        let mut adamw = Adam::new(layout.len(), AdamConfig::adamw(0.01, 0.1)).unwrap();
        for step in 1..=2 {
            engine.loss_and_grad_arrays(&p, inputs.view(), targets.view(), 2, &mut grad).unwrap();
            let norm = clip_grad_norm(grad.as_mut_slice(), 0.5).unwrap();
            if step == 1 {
                let expect = get(&t, &format!("{case}.grad_norm"))[[0]];
                assert!((norm - expect).abs() < TOL, "{case}: grad norm {norm} vs {expect}");
            }
            adamw.step(p.as_mut_slice(), grad.as_slice()).unwrap();
            let d = max_diff(p.as_slice(), flat(&format!("adamw{step}.")).as_slice());
            assert!(d < TOL, "{cell:?} {case}: parameters after AdamW step {step} differ by {d:e}");
            println!("{cell:?} {case}: AdamW step {step} {d:.1e}");
        }
    }
}
