//! BPTT is the exact gradient: central differences (f64), f32 vs f64, threads, bad input.

use emt_core::Error;
use emt_rnn::{AdamConfig, ElmanParams, Engine, Layout, TanhMode};
use ndarray::{Array3, ArrayView3};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

#[derive(Debug)]
struct Case {
    params: ElmanParams<f64>,
    inputs: Array3<f64>,
    targets: Array3<f64>,
    first: usize,
}

/// Sizes of a random case: hidden, input, output, steps, batch, first scored step.
type Sizes = (usize, usize, usize, usize, usize, usize);

fn case((n, d_in, d_out, t_len, batch, first): Sizes, bias: bool, seed: u64) -> Case {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut params = ElmanParams::<f64>::init(n, d_in, d_out, bias, &mut r).unwrap();
    // Larger weights than the default init, so tanh is exercised away from its linear part.
    params.as_mut_slice().iter_mut().for_each(|w| *w *= 2.5);
    let inputs = Array3::from_shape_fn((t_len, batch, d_in), |_| r.random_range(-1.5..1.5));
    let targets = Array3::from_shape_fn((t_len, batch, d_out), |_| if r.random::<bool>() { 1.0 } else { -1.0 });
    Case { params, inputs, targets, first }
}

fn loss(
    engine: &mut Engine<f64>,
    p: &ElmanParams<f64>,
    x: ArrayView3<'_, f64>,
    y: ArrayView3<'_, f64>,
    first: usize,
) -> f64 {
    let mut g = ElmanParams::zeros(p.layout());
    engine.loss_and_grad_arrays(p, x, y, first, &mut g).unwrap().loss
}

fn rel(a: &[f64], b: &[f64]) -> f64 {
    let diff: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let scale: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt().max(1e-12);
    diff / scale
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..7, 1usize..4, 1usize..4, 1usize..7, 1usize..4, any::<bool>(), any::<u64>())
        .prop_flat_map(|(n, di, dout, t, b, bias, seed)| (Just((n, di, dout, t, b, bias, seed)), 0..t))
        .prop_map(|((n, di, dout, t, b, bias, seed), first)| case((n, di, dout, t, b, first), bias, seed))
}

proptest! {
    #![proptest_config(emt_testkit::proptest_config(128))]

    #[test]
    fn bptt_equals_central_differences(c in case_strategy()) {
        let mut engine = Engine::<f64>::new(1, TanhMode::Exact).unwrap();
        let mut grad = ElmanParams::zeros(c.params.layout());
        engine.loss_and_grad_arrays(&c.params, c.inputs.view(), c.targets.view(), c.first, &mut grad).unwrap();
        let eps = 1e-5;
        let mut fd = vec![0.0; grad.as_slice().len()];
        let mut p = c.params.clone();
        for (k, slot) in fd.iter_mut().enumerate() {
            let orig = p.as_slice()[k];
            p.as_mut_slice()[k] = orig + eps;
            let up = loss(&mut engine, &p, c.inputs.view(), c.targets.view(), c.first);
            p.as_mut_slice()[k] = orig - eps;
            let down = loss(&mut engine, &p, c.inputs.view(), c.targets.view(), c.first);
            p.as_mut_slice()[k] = orig;
            *slot = (up - down) / (2.0 * eps);
        }
        let r = rel(grad.as_slice(), &fd);
        prop_assert!(r < 1e-6, "relative error {:e}", r);
    }

    #[test]
    fn f32_agrees_with_f64(c in case_strategy(), fast: bool) {
        let mut e64 = Engine::<f64>::new(1, TanhMode::Exact).unwrap();
        let mut g64 = ElmanParams::zeros(c.params.layout());
        let s64 = e64.loss_and_grad_arrays(&c.params, c.inputs.view(), c.targets.view(), c.first, &mut g64).unwrap();
        let mode = if fast { TanhMode::Fast } else { TanhMode::Exact };
        let mut e32 = Engine::<f32>::new(1, mode).unwrap();
        let p32 = c.params.cast::<f32>();
        let mut g32 = ElmanParams::zeros(p32.layout());
        let (x, y) = (c.inputs.mapv(|v| v as f32), c.targets.mapv(|v| v as f32));
        let s32 = e32.loss_and_grad_arrays(&p32, x.view(), y.view(), c.first, &mut g32).unwrap();
        let g32: Vec<f64> = g32.as_slice().iter().map(|&v| v as f64).collect();
        prop_assert!(rel(&g32, g64.as_slice()) < 1e-3, "gradient relative error {:e}", rel(&g32, g64.as_slice()));
        prop_assert!((s32.loss - s64.loss).abs() <= 1e-4 * s64.loss.max(1.0));
    }
}

#[test]
fn one_and_two_threads_agree() {
    let c = case((48, 6, 6, 30, 64, 7), false, 9);
    let p = c.params.cast::<f32>();
    let (x, y) = (c.inputs.mapv(|v| v as f32), c.targets.mapv(|v| v as f32));
    let mut grads = Vec::new();
    for threads in [1, 2] {
        let mut e = Engine::<f32>::new(threads, TanhMode::Fast).unwrap();
        let mut g = ElmanParams::zeros(p.layout());
        e.loss_and_grad_arrays(&p, x.view(), y.view(), c.first, &mut g).unwrap();
        grads.push(g.as_slice().iter().map(|&v| v as f64).collect::<Vec<f64>>());
    }
    let r = rel(&grads[1], &grads[0]);
    assert!(r < 1e-5, "1 vs 2 threads: relative difference {r:e}");
    // The same thread count twice is bit-identical.
    let mut e = Engine::<f32>::new(2, TanhMode::Fast).unwrap();
    let mut g = ElmanParams::zeros(p.layout());
    e.loss_and_grad_arrays(&p, x.view(), y.view(), c.first, &mut g).unwrap();
    assert_eq!(g.as_slice().iter().map(|&v| v as f64).collect::<Vec<_>>(), grads[1]);
}

#[test]
fn bad_input_is_an_error() {
    let c = case((4, 2, 3, 5, 2, 1), false, 0);
    let mut e = Engine::<f64>::new(1, TanhMode::Exact).unwrap();
    let mut g = ElmanParams::zeros(c.params.layout());
    // Task/network dimension mismatch.
    let wrong = Array3::<f64>::zeros((5, 2, 3));
    assert!(matches!(
        e.loss_and_grad_arrays(&c.params, wrong.view(), c.targets.view(), 1, &mut g),
        Err(Error::Shape { .. })
    ));
    // Zero batch.
    let empty = Array3::<f64>::zeros((5, 0, 2));
    assert!(matches!(
        e.loss_and_grad_arrays(&c.params, empty.view(), Array3::zeros((5, 0, 3)).view(), 1, &mut g),
        Err(Error::InvalidParameter { .. })
    ));
    // first_scored out of range.
    assert!(matches!(
        e.loss_and_grad_arrays(&c.params, c.inputs.view(), c.targets.view(), 5, &mut g),
        Err(Error::InvalidParameter { .. })
    ));
    // NaN in the data.
    let mut nan = c.inputs.clone();
    nan[[2, 1, 0]] = f64::NAN;
    assert!(matches!(
        e.loss_and_grad_arrays(&c.params, nan.view(), c.targets.view(), 1, &mut g),
        Err(Error::NonFinite { .. })
    ));
    // NaN in weights.
    let mut w = c.params.to_weights().unwrap().into_parts();
    w.0[[0, 0]] = f64::NAN;
    assert!(matches!(ElmanParams::from_pytorch(w.1, w.0, None, w.2), Err(Error::NonFinite { .. })));
    // Non-positive learning rate, zero threads, wrong gradient layout.
    for lr in [0.0, -1e-3, f64::NAN] {
        assert!(matches!(AdamConfig { lr, ..Default::default() }.check(), Err(Error::InvalidParameter { .. })));
    }
    assert!(Engine::<f32>::new(0, TanhMode::Fast).is_err());
    let mut other = ElmanParams::zeros(Layout::new(5, 2, 3, false).unwrap());
    assert!(matches!(
        e.loss_and_grad_arrays(&c.params, c.inputs.view(), c.targets.view(), 1, &mut other),
        Err(Error::Shape { .. })
    ));
}
