//! Limit cycles and Floquet multipliers against docs/DYNAMICS.md §9.

use emt_dynamics::{CycleParams, limit_cycle, shoot};
use emt_testkit::systems::{StuartLandau, VanDerPol};
use ndarray::{Array1, Array2, array};

fn none() -> Array1<f64> {
    Array1::zeros(0)
}

#[test]
fn stuart_landau_radius_period_and_multiplier() {
    for (l, w, q) in [(1.0, 1.0, 0.0), (0.5, 2.0, 1.0)] {
        let sys = StuartLandau { l, w, q };
        let c = limit_cycle(
            &sys,
            array![0.2, 0.1].view(),
            none().view(),
            &CycleParams { transient: 40.0, search: 30.0, ..Default::default() },
        )
        .unwrap();
        let period = 2.0 * std::f64::consts::PI / (w - q * l).abs();
        let radius = c.point.dot(&c.point).sqrt();
        eprintln!(
            "Stuart-Landau ({l}, {w}, {q}): period {} (section {}), radius {radius}, multiplier {}, trivial {}, Liouville {:e}",
            c.period, c.section_period, c.multipliers[0], c.trivial_multiplier, c.liouville
        );
        assert!((c.period - period).abs() < 1e-8 && (c.section_period - period).abs() < 1e-6);
        assert!((radius - l.sqrt()).abs() < 1e-9);
        assert!((c.floquet_exponents[0] + 2.0 * l).abs() < 1e-6, "{:?}", c.floquet_exponents);
        assert!((c.trivial_multiplier - 1.0).norm() < 1e-8);
        let product = c.multipliers[0] * c.trivial_multiplier;
        assert!((product.re - c.liouville).abs() < 1e-6 * c.liouville.max(1e-12), "{product} vs {}", c.liouville);
        assert!(c.stable);
    }
    // l = w = 1, q = 0: the multiplier is e^{-4 pi} = 3.4873e-6.
    let c = limit_cycle(
        &StuartLandau { l: 1.0, w: 1.0, q: 0.0 },
        array![0.2, 0.1].view(),
        none().view(),
        &CycleParams::default(),
    )
    .unwrap();
    assert!((c.multipliers[0].norm() - 3.4873e-6).abs() < 1e-9);
}

#[test]
fn van_der_pol_periods_by_shooting() {
    for (mu, want) in [(0.5, 6.38068), (1.0, 6.66329), (2.0, 7.62987)] {
        let c =
            limit_cycle(&VanDerPol { mu }, array![2.0, 0.0].view(), none().view(), &CycleParams::default()).unwrap();
        eprintln!(
            "van der Pol mu = {mu}: period {} (section {}), multiplier {}",
            c.period, c.section_period, c.multipliers[0]
        );
        assert!((c.period - want).abs() < 1e-5 && (c.section_period - c.period).abs() < 1e-5);
        assert!(c.stable && (c.trivial_multiplier - 1.0).norm() < 1e-6);
    }
}

/// docs/DYNAMICS.md §9: the 2-D ctgru with U_h = 4 R(pi/4): a stable counter-clockwise cycle with
/// T = 12.8325 and multiplier 0.0375.
#[test]
fn the_rotation_ctgru_cycle() {
    let (c, s) = (std::f64::consts::FRAC_PI_4.cos(), std::f64::consts::FRAC_PI_4.sin());
    let mut u = Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&(array![[c, -s], [s, c]] * 4.0));
    let net = emt_core::cells::CtGruWeights::new(u, None, None, 0.1, None).unwrap();
    let cyc = limit_cycle(&net, array![0.05, 0.0].view(), none().view(), &CycleParams::default()).unwrap();
    eprintln!("ctgru: period {}, multiplier {}, trivial {}", cyc.period, cyc.multipliers[0], cyc.trivial_multiplier);
    assert!((cyc.period - 12.8325).abs() < 1e-3);
    assert!((cyc.multipliers[0].norm() - 0.0375).abs() < 5e-4);
    assert!(cyc.stable);
    // Time-mean |h| over one period (docs/DYNAMICS.md §9: 0.6928, min 0.665, max 0.719), and the
    // rotation is counter-clockwise (positive angular momentum x1 dx2 - x2 dx1).
    let k = 20_000;
    let dt = cyc.period / k as f64;
    let mut rk = emt_dynamics::Rk4::new(2, 0);
    let mut x = cyc.point.clone();
    let (mut sum, mut lo, mut hi, mut turn) = (0.0, f64::INFINITY, 0.0f64, 0.0);
    for _ in 0..k {
        let r = x.dot(&x).sqrt();
        let before = x.clone();
        rk.step(&net, &mut x, none().view(), dt).unwrap();
        sum += r;
        lo = lo.min(r);
        hi = hi.max(r);
        turn += before[0] * x[1] - before[1] * x[0];
    }
    let mean = sum / k as f64;
    eprintln!("ctgru cycle: mean |h| {mean:.5}, min {lo:.4}, max {hi:.4}");
    assert!((mean - 0.6928).abs() < 5e-4 && (lo - 0.665).abs() < 2e-3 && (hi - 0.719).abs() < 2e-3);
    assert!(turn > 0.0, "counter-clockwise");
    // Newton from a guess 3% off in period and 0.05 off the cycle converges to the same orbit,
    // and half the RK4 steps per period gives the same period and multiplier.
    for steps in [4000, 2000] {
        let guess = &cyc.point + &array![0.05, -0.03];
        let again =
            shoot(&net, guess.view(), cyc.period * 1.03, none().view(), &CycleParams { steps, ..Default::default() })
                .unwrap();
        eprintln!(
            "ctgru shooting ({steps} steps/period): period {}, multiplier {}",
            again.period, again.multipliers[0]
        );
        assert!((again.period - cyc.period).abs() < 1e-7 && (again.multipliers[0] - cyc.multipliers[0]).norm() < 1e-7);
    }
}

#[test]
fn a_fixed_point_is_not_reported_as_a_cycle() {
    // l < 0: the origin attracts; no cycle.
    let e = limit_cycle(
        &StuartLandau { l: -1.0, w: 1.0, q: 0.0 },
        array![0.5, 0.0].view(),
        none().view(),
        &CycleParams::default(),
    );
    assert!(e.is_err());
}

/// The adjoint PRC against finite kicks: a kick eps e at phase theta shifts the phase by
/// ~ eps Z(theta).e (van der Pol, mu = 1, whose PRC is far from sinusoidal).
#[test]
fn adjoint_prc_predicts_small_kicks() {
    use emt_dynamics::{Dopri5Params, adjoint_prc, dopri5};
    let vdp = VanDerPol { mu: 1.0 };
    let c = limit_cycle(&vdp, array![2.0, 0.0].view(), none().view(), &CycleParams::default()).unwrap();
    let prc = adjoint_prc(&vdp, &c, none().view(), 4000, 10, 12).unwrap();
    let tight = Dopri5Params { rtol: 1e-12, atol: 1e-14, ..Default::default() };
    // Time of the last upward crossing of x = 0 before t = 5 T.
    let crossing = |x0: Array1<f64>| {
        let mut last = f64::NAN;
        dopri5(&vdp, x0.view(), none().view(), 5.0 * c.period, &tight, |s| {
            if s.x0[0] < 0.0 && s.x1[0] >= 0.0 {
                let (mut a, mut b) = (s.t0, s.t1);
                for _ in 0..60 {
                    let m = 0.5 * (a + b);
                    if s.interpolate(m)[0] < 0.0 { a = m } else { b = m }
                }
                last = 0.5 * (a + b);
            }
        })
        .unwrap();
        last
    };
    let eps = 1e-5;
    let mut worst: f64 = 0.0;
    for (x, z) in prc.states.rows().into_iter().zip(prc.z.rows()) {
        for dir in [array![1.0, 0.0], array![0.0, 1.0]] {
            let dt = crossing(&x.to_owned() + &(&dir * eps)) - crossing(x.to_owned());
            let measured = -2.0 * std::f64::consts::PI * dt / c.period;
            let predicted = eps * z.dot(&dir);
            worst = worst.max((measured - predicted).abs() / eps);
        }
    }
    eprintln!("van der Pol adjoint PRC vs kicks of 1e-5: worst |difference| / eps = {worst:.2e}");
    assert!(worst < 1e-2, "{worst}");
}

/// Shooting that runs out of iterations says so as NotConverged, with the iterations spent and
/// the residual reached (not as a bad parameter).
#[test]
fn shooting_out_of_iterations_is_not_converged() {
    let sys = StuartLandau { l: 1.0, w: 1.0, q: 0.0 };
    // A guess off the cycle (radius 0.6, period 20 % long) and a single Newton step.
    let params = CycleParams { max_iters: 1, ..Default::default() };
    let e = shoot(&sys, array![0.6, 0.0].view(), 1.2 * std::f64::consts::TAU, none().view(), &params).unwrap_err();
    match &e {
        emt_core::Error::NotConverged { what, iterations, residual } => {
            assert!(what.contains("shooting"), "{e}");
            assert_eq!(*iterations, Some(1));
            assert!(residual.is_some_and(|r| r.is_finite() && r > 1e-10), "{e}");
        }
        other => panic!("expected NotConverged, got {other}"),
    }
    // With its default budget the same guess converges onto the unit circle.
    let c = shoot(&sys, array![0.6, 0.0].view(), 1.2 * std::f64::consts::TAU, none().view(), &CycleParams::default())
        .unwrap();
    assert!((c.point.dot(&c.point).sqrt() - 1.0).abs() < 1e-8 && (c.period - std::f64::consts::TAU).abs() < 1e-8);
}
