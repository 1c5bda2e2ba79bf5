//! Lyapunov spectra against the ground truths of docs/DYNAMICS.md §9.

use emt_core::Error;
use emt_dynamics::{
    KaplanYorke, LyapunovParams, TimeUnit, lambda_max_flow, lambda_max_map, lyapunov_flow, lyapunov_map,
};
use emt_testkit::systems::{Henon, LinearFlow, LinearMap, Logistic, Lorenz, RandomRateNetwork, Rossler};
use ndarray::{Array2, array};

fn none(d: usize) -> Array2<f64> {
    Array2::zeros((1, d))
}

#[test]
fn henon_exponents_dimension_and_sum_rule() {
    let p = LyapunovParams { steps: 200_000, transient: 1_000, ..Default::default() };
    let s = lyapunov_map(&Henon { a: 1.4, b: 0.3 }, array![0.1, 0.1].view(), none(0).view(), &p).unwrap();
    eprintln!("Hénon: {:?}, D_KY {:?}, sum rule {:?}", s.exponents, s.kaplan_yorke, s.sum_rule);
    assert!((s.exponents[0] - 0.419217).abs() < 0.01 && (s.exponents[1] + 1.623190).abs() < 0.01, "{:?}", s.exponents);
    assert!((s.sum() - 0.3f64.ln()).abs() < 1e-9, "det DF = -b: sum = ln 0.3 exactly, got {}", s.sum());
    let rule = s.sum_rule.unwrap();
    assert!((rule.exponent_sum - rule.reference).abs() < 1e-6 * rule.reference.abs());
    assert!((s.kaplan_yorke.value().unwrap() - 1.258267).abs() < 0.01);
    assert_eq!(s.time_unit, TimeUnit::Step);
    assert!(!s.trace.is_empty() && s.trace.len() <= 100);
    let l1 = lambda_max_map(&Henon { a: 1.4, b: 0.3 }, array![0.1, 0.1].view(), none(0).view(), &p).unwrap();
    eprintln!("Hénon lambda_max from two trajectories: {l1}");
    assert!((l1 - 0.419217).abs() < 0.01, "{l1}");
}

#[test]
fn logistic_map_is_ln_2() {
    let p = LyapunovParams { steps: 200_000, ..Default::default() };
    let s = lyapunov_map(&Logistic { r: 4.0 }, array![0.3].view(), none(0).view(), &p).unwrap();
    eprintln!("logistic r = 4: {}", s.exponents[0]);
    assert!((s.exponents[0] - 2f64.ln()).abs() < 0.01);
    assert_eq!(s.kaplan_yorke, KaplanYorke::Dimension(1.0));
}

#[test]
fn linear_maps_and_flows_are_exact() {
    // Eigenvalues 0.9, 0.5 e^{+-i 0.7} (moduli 0.9, 0.5, 0.5) behind a similarity.
    let c = 0.7f64;
    let core = array![[0.9, 0.2, 0.1], [0.0, 0.5 * c.cos(), -0.5 * c.sin()], [0.0, 0.5 * c.sin(), 0.5 * c.cos()]];
    let b = array![[1.0, 0.3, -0.2], [0.1, 1.0, 0.4], [0.0, -0.3, 1.0]];
    let a = b.dot(&core).dot(&emt_linalg::inverse(b.view()).unwrap());
    let p = LyapunovParams { steps: 20_000, transient: 500, ..Default::default() };
    let s = lyapunov_map(&LinearMap(a.clone()), array![1.0, -1.0, 0.5].view(), none(0).view(), &p).unwrap();
    let want = [0.9f64.ln(), 0.5f64.ln(), 0.5f64.ln()];
    for (got, want) in s.exponents.iter().zip(want) {
        assert!((got - want).abs() < 1e-6, "{:?}", s.exponents);
    }
    // Flows. Behind an orthogonal similarity the estimates are exact once the frame has
    // aligned (transient of 100 time units, gaps >= 0.4: e^-40): 1e-6. RK4 with dt = 0.01
    // errs by O(dt^4).
    let q = emt_linalg::qr(b.view()).unwrap().q;
    let p = LyapunovParams { steps: 50_000, transient: 10_000, dt: 0.01, ..Default::default() };
    for (core, want) in [
        (array![[-0.1, 1.0, 0.0], [0.0, -0.5, 0.3], [0.0, 0.0, -1.2]], [-0.1, -0.5, -1.2]),
        (array![[-0.1, 1.0, 0.0], [0.0, -0.5, -2.0], [0.0, 2.0, -0.5]], [-0.1, -0.5, -0.5]),
    ] {
        let a = q.dot(&core).dot(&q.t());
        let s = lyapunov_flow(&LinearFlow(a), array![1.0, 0.5, -0.5].view(), none(0).view(), &p).unwrap();
        for (got, want) in s.exponents.iter().zip(want) {
            assert!((got - want).abs() < 1e-6, "{:?}", s.exponents);
        }
        assert_eq!(s.time_unit, TimeUnit::Time);
        let rule = s.sum_rule.unwrap();
        let trace: f64 = want.iter().sum();
        assert!((rule.reference - trace).abs() < 1e-10 && (rule.exponent_sum - trace).abs() < 1e-6, "{rule:?}");
    }
    // Behind a non-orthogonal similarity B, S_i/T carries an O(ln cond(B)) offset from where
    // the frame starts and ends (measured 4e-5 at T = 500 for cond(B) = 2.0): it falls like
    // 1/T, and the bound says so.
    let inv = emt_linalg::inverse(b.view()).unwrap();
    let a = b.dot(&array![[-0.1, 1.0, 0.0], [0.0, -0.5, 0.3], [0.0, 0.0, -1.2]]).dot(&inv);
    let s = lyapunov_flow(&LinearFlow(a), array![1.0, 0.5, -0.5].view(), none(0).view(), &p).unwrap();
    let bound = 2.0 * emt_linalg::condition_number(b.view()).unwrap().ln() / (p.steps as f64 * p.dt);
    for (got, want) in s.exponents.iter().zip([-0.1, -0.5, -1.2]) {
        assert!((got - want).abs() < bound, "{:?} (bound {bound:e})", s.exponents);
    }
}

#[test]
fn lorenz_spectrum_neutral_exponent_and_sum() {
    let sys = Lorenz { sigma: 10.0, rho: 28.0, beta: 8.0 / 3.0 };
    let p = LyapunovParams { steps: 200_000, transient: 2_000, dt: 0.005, renormalize_every: 10, ..Default::default() };
    let s = lyapunov_flow(&sys, array![1.0, 1.0, 20.0].view(), none(0).view(), &p).unwrap();
    eprintln!("Lorenz: {:?}, D_KY {:?}, sum rule {:?}", s.exponents, s.kaplan_yorke, s.sum_rule);
    assert!((s.exponents[0] - 0.906).abs() < 0.02, "{:?}", s.exponents);
    assert!(s.exponents[1].abs() < 0.01, "neutral exponent {:?}", s.exponents);
    assert!((s.sum() + 13.6667).abs() < 1e-3, "sum {}", s.sum());
    assert!((s.kaplan_yorke.value().unwrap() - 2.06215).abs() < 0.01);
    let l1 = lambda_max_flow(&sys, array![1.0, 1.0, 20.0].view(), none(0).view(), &p).unwrap();
    eprintln!("Lorenz lambda_max from two trajectories: {l1}");
    assert!((l1 - 0.906).abs() < 0.03, "{l1}");
}

#[test]
fn rossler_first_exponent_and_sum() {
    let sys = Rossler { a: 0.2, b: 0.2, c: 5.7 };
    let p = LyapunovParams { steps: 200_000, transient: 5_000, dt: 0.02, renormalize_every: 10, ..Default::default() };
    let s = lyapunov_flow(&sys, array![1.0, 1.0, 0.0].view(), none(0).view(), &p).unwrap();
    let rule = s.sum_rule.unwrap();
    eprintln!("Rössler: {:?}, sum {} vs <tr Df> {}", s.exponents, rule.exponent_sum, rule.reference);
    assert!((s.exponents[0] - 0.0714).abs() < 0.01, "{:?}", s.exponents);
    assert!((rule.exponent_sum - rule.reference).abs() < 1e-3, "{rule:?}");
    assert!((s.sum() + 5.3229).abs() < 0.1, "sum {}", s.sum());
}

#[test]
fn random_rate_network_stable_below_one_chaotic_at_two() {
    let n = 400;
    let p = LyapunovParams { exponents: Some(1), steps: 2_000, transient: 1_000, dt: 0.05, ..Default::default() };
    let stable = RandomRateNetwork::new(n, 0.5, 1);
    let x0 = emt_testkit::gaussian(n, 1, 2).column(0).mapv(|v| 0.1 * v);
    let s = lyapunov_flow(&stable, x0.view(), none(0).view(), &p).unwrap();
    let max_re = emt_linalg::eigenvalues(stable.j.view()).unwrap().iter().map(|z| z.re).fold(f64::MIN, f64::max);
    eprintln!("rate network g = 0.5: lambda_max {} vs max Re eig(J) - 1 = {}", s.exponents[0], max_re - 1.0);
    assert!((s.exponents[0] - (max_re - 1.0)).abs() < 0.05 && (s.exponents[0] + 0.5).abs() < 0.1);
    let chaotic = RandomRateNetwork::new(n, 2.0, 1);
    let x0 = emt_testkit::gaussian(n, 1, 3).column(0).to_owned();
    let p = LyapunovParams { exponents: Some(1), steps: 4_000, transient: 2_000, dt: 0.05, ..Default::default() };
    let s = lyapunov_flow(&chaotic, x0.view(), none(0).view(), &p).unwrap();
    eprintln!("rate network g = 2: lambda_max {}", s.exponents[0]);
    assert!(s.exponents[0] > 0.03, "{:?}", s.exponents);
}

#[test]
fn bad_settings_are_errors() {
    let h = Henon { a: 1.4, b: 0.3 };
    let x = array![0.1, 0.1];
    let e = lyapunov_map(&h, x.view(), none(0).view(), &LyapunovParams { exponents: Some(3), ..Default::default() });
    assert!(matches!(e, Err(Error::InvalidParameter { .. })));
    let e = lyapunov_map(&h, array![0.1].view(), none(0).view(), &LyapunovParams::default());
    assert!(matches!(e, Err(Error::Shape { .. })));
    let e = lyapunov_map(&h, x.view(), Array2::zeros((5, 0)).view(), &LyapunovParams::default());
    assert!(matches!(e, Err(Error::Shape { ref what, .. }) if what == "inputs"));
    for p in [LyapunovParams { steps: 0, ..Default::default() }, LyapunovParams { dt: 0.0, ..Default::default() }] {
        assert!(matches!(lyapunov_map(&h, x.view(), none(0).view(), &p), Err(Error::InvalidParameter { .. })));
    }
    // A diverging orbit is an error, not a NaN spectrum.
    let e =
        lyapunov_map(&h, array![5.0, 5.0].view(), none(0).view(), &LyapunovParams { steps: 100, ..Default::default() });
    assert!(matches!(e, Err(Error::Diverged { .. })), "{e:?}");
}

/// docs/DYNAMICS.md §9: the 2-D ctgru with U_h = 4 R(pi/4), U_z = U_r = 0, b = 0 has a stable cycle of
/// period 12.8325 with Floquet multiplier 0.0375: exponents 0 and ln(0.0375) / 12.8325.
#[test]
fn ctgru_rotation_cycle_has_a_neutral_and_a_floquet_exponent() {
    let (c, s) = (std::f64::consts::FRAC_PI_4.cos(), std::f64::consts::FRAC_PI_4.sin());
    let mut u = Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&(array![[c, -s], [s, c]] * 4.0));
    let net = emt_core::cells::CtGruWeights::new(u, None, None, 0.1, None).unwrap();
    let p = LyapunovParams { steps: 100_000, transient: 5_000, dt: 0.01, ..Default::default() };
    let sp = lyapunov_flow(&net, array![0.05, 0.0].view(), none(0).view(), &p).unwrap();
    let floquet = 0.0375f64.ln() / 12.8325;
    eprintln!("ctgru cycle: {:?} (expected 0 and {floquet:.5})", sp.exponents);
    assert!(sp.exponents[0].abs() < 0.01, "{:?}", sp.exponents);
    assert!((sp.exponents[1] - floquet).abs() < 0.005, "{:?}", sp.exponents);
    let rule = sp.sum_rule.unwrap();
    assert!((rule.exponent_sum - rule.reference).abs() < 1e-3, "{rule:?}");
}
