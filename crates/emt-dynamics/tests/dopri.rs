//! Dormand-Prince 5(4): ground-truth periods, agreement with RK4, honest failure.

use emt_core::Error;
use emt_dynamics::{Dopri5Params, Rk4, dopri5};
use emt_testkit::systems::{Lorenz, Riccati, VanDerPol};
use ndarray::{Array1, array};

/// The mean time between upward zero crossings of x, located inside steps by Hermite
/// interpolation and bisection.
fn period(mu: f64) -> f64 {
    let params = Dopri5Params { rtol: 1e-11, atol: 1e-13, ..Default::default() };
    let mut crossings = Vec::new();
    dopri5(&VanDerPol { mu }, array![2.0, 0.0].view(), Array1::zeros(0).view(), 120.0, &params, |s| {
        if s.t0 > 40.0 && s.x0[0] < 0.0 && s.x1[0] >= 0.0 {
            let (mut a, mut b) = (s.t0, s.t1);
            for _ in 0..60 {
                let m = 0.5 * (a + b);
                if s.interpolate(m)[0] < 0.0 { a = m } else { b = m }
            }
            crossings.push(0.5 * (a + b));
        }
    })
    .unwrap();
    (crossings[crossings.len() - 1] - crossings[0]) / (crossings.len() - 1) as f64
}

#[test]
fn van_der_pol_periods_match_the_ground_truth() {
    for (mu, want) in [(0.5, 6.38068), (1.0, 6.66329), (2.0, 7.62987)] {
        let got = period(mu);
        eprintln!("van der Pol mu = {mu}: period {got:.6} (docs/DYNAMICS.md: {want})");
        assert!((got - want).abs() < 2e-5, "mu {mu}: {got} vs {want}");
    }
}

#[test]
fn agrees_with_fine_rk4_and_adapts_its_steps() {
    let lorenz = Lorenz { sigma: 10.0, rho: 28.0, beta: 8.0 / 3.0 };
    let x0 = array![1.0, 1.0, 20.0];
    let (x, tight) = dopri5(
        &lorenz,
        x0.view(),
        Array1::zeros(0).view(),
        1.0,
        &Dopri5Params { rtol: 1e-12, atol: 1e-12, ..Default::default() },
        |_| {},
    )
    .unwrap();
    let mut y = x0.clone();
    let mut rk = Rk4::new(3, 1);
    for _ in 0..100_000 {
        rk.step(&lorenz, &mut y, Array1::zeros(0).view(), 1e-5).unwrap();
    }
    let err = (&x - &y).iter().map(|v| v.abs()).fold(0.0, f64::max);
    assert!(err < 1e-8, "{err:e}");
    let (_, loose) = dopri5(
        &lorenz,
        x0.view(),
        Array1::zeros(0).view(),
        1.0,
        &Dopri5Params { rtol: 1e-6, atol: 1e-9, ..Default::default() },
        |_| {},
    )
    .unwrap();
    eprintln!("Lorenz to t = 1: {} steps at rtol 1e-12, {} at 1e-6", tight.accepted, loose.accepted);
    assert!(loose.accepted * 4 < tight.accepted);
}

#[test]
fn a_blow_up_is_an_error_not_a_number() {
    let (x, _) = dopri5(
        &Riccati { a: 0.0, b: 1.0 },
        array![1.0].view(),
        Array1::zeros(0).view(),
        0.5,
        &Dopri5Params::default(),
        |_| {},
    )
    .unwrap();
    assert!((x[0] - 2.0).abs() < 1e-8, "x(0.5) = 1 / (1 - 0.5)");
    let e = dopri5(
        &Riccati { a: 0.0, b: 1.0 },
        array![1.0].view(),
        Array1::zeros(0).view(),
        2.0,
        &Dopri5Params::default(),
        |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidParameter { .. } | Error::Diverged { .. } | Error::NotConverged { .. }), "{e}");
    let bad = Dopri5Params { rtol: 0.0, ..Default::default() };
    assert!(
        dopri5(&Riccati { a: 0.0, b: 1.0 }, array![1.0].view(), Array1::zeros(0).view(), 1.0, &bad, |_| {}).is_err()
    );
}

/// A stiff problem whose stability-limited step would need more steps than the budget is
/// refused within a few dozen steps (the fuzzer's CT-GRU with weights x 1e6 ran 29 s into
/// the 10^7-step cap before).
#[test]
fn a_stiff_problem_over_budget_is_refused_early_and_named() {
    let flow = emt_testkit::systems::LinearFlow(ndarray::array![[-1e7, 0.0], [0.0, -1.0]]);
    let params = Dopri5Params { max_steps: 100_000, ..Default::default() };
    let x0 = ndarray::array![1.0, 1.0];
    let e = dopri5(&flow, x0.view(), ndarray::Array1::zeros(0).view(), 100.0, &params, |_| {}).unwrap_err();
    match &e {
        emt_core::Error::NotConverged { what, iterations: Some(used), .. } => {
            assert!(what.contains("stiff") && what.contains("collapsed at t = 0.0"), "{e}");
            assert!(*used < 1_000, "gave up after {used} steps");
        }
        other => panic!("{other}"),
    }
    // The same system over a time the budget covers is integrated (stiffness alone is no error).
    let (x, stats) = dopri5(&flow, x0.view(), ndarray::Array1::zeros(0).view(), 0.01, &params, |_| {}).unwrap();
    assert!((x[1] - (-0.01f64).exp()).abs() < 1e-8 && stats.accepted < 100_000, "{x} {stats:?}");
}

/// A run that creeps (steps held small by accuracy, here a 10^6 rad/s rotation) is judged at a
/// tenth of its budget and refused if the rest cannot fit, not run into the cap.
#[test]
fn a_creeping_run_is_refused_at_a_tenth_of_its_budget() {
    let flow = emt_testkit::systems::LinearFlow(ndarray::array![[0.0, -1e6], [1e6, 0.0]]);
    let params = Dopri5Params { max_steps: 10_000, ..Default::default() };
    let x0 = ndarray::array![1.0, 0.0];
    let e = dopri5(&flow, x0.view(), ndarray::Array1::zeros(0).view(), 100.0, &params, |_| {}).unwrap_err();
    match &e {
        emt_core::Error::NotConverged { what, iterations: Some(used), .. } => {
            assert_eq!(*used, 1_000, "{e}");
            assert!(what.contains("the rest needs about") && what.contains("budget of 10000"), "{e}");
        }
        other => panic!("{other}"),
    }
}
