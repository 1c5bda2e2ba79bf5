//! Bifurcation sweeps against the normal forms of docs/DYNAMICS.md §9 (systems in emt-testkit).

use emt_dynamics::{Bifurcation, SweepParams, sweep_flow};
use emt_testkit::systems::{CircleSnic, Riccati, StrogatzHomoclinic, StuartLandau};
use ndarray::{Array1, array};

#[test]
fn the_saddle_node_of_p_minus_x_squared_is_at_zero() {
    let params = SweepParams { from: 1.0, to: -1.0, values: 21, tol: 1e-9 };
    let sweep = sweep_flow(
        |p| Ok(Riccati { a: p, b: -1.0 }),
        Array1::zeros(0).view(),
        array![[-1.5], [-0.5], [0.5], [1.5]].view(),
        &params,
    )
    .unwrap();
    let counts: Vec<usize> = sweep.points.iter().map(|pt| pt.fixed.len()).collect();
    eprintln!("fold: fixed-point counts {counts:?}, bifurcations {:?}", sweep.bifurcations);
    assert_eq!((counts[0], counts[20]), (2, 0));
    let folds: Vec<(f64, f64)> = sweep
        .bifurcations
        .iter()
        .filter_map(|b| match b {
            Bifurcation::SaddleNode { parameter, state } => Some((*parameter, state[0])),
            _ => None,
        })
        .collect();
    assert_eq!(folds.len(), 1);
    assert!(folds[0].0.abs() < 1e-6 && folds[0].1.abs() < 1e-6, "{folds:?}");
}

#[test]
fn the_hopf_point_of_stuart_landau_is_at_l_zero_with_frequency_w() {
    for w in [1.0, 2.5] {
        let params = SweepParams { from: -0.9, to: 1.1, values: 11, tol: 1e-9 };
        let sweep = sweep_flow(
            |p| Ok(StuartLandau { l: p, w, q: 0.0 }),
            Array1::zeros(0).view(),
            array![[0.1, 0.1]].view(),
            &params,
        )
        .unwrap();
        match sweep.bifurcations.as_slice() {
            [Bifurcation::Hopf { parameter, omega, .. }] => {
                eprintln!("Stuart-Landau w = {w}: Hopf at {parameter:e}, omega {omega}");
                assert!(parameter.abs() < 1e-6 && (omega - w).abs() < 1e-6);
            }
            other => panic!("expected one Hopf point, got {other:?}"),
        }
    }
}

#[test]
fn the_snic_period_diverges_like_the_inverse_square_root_and_the_fit_finds_p_c() {
    use emt_dynamics::{CycleParams, Divergence, fit_period_divergence, limit_cycle};
    let ps: Vec<f64> = (1..=6).map(|k| 1.0 + 5e-4 * k as f64).collect();
    let mut periods = Vec::new();
    for &p in &ps {
        let want = 2.0 * std::f64::consts::PI / (p * p - 1.0f64).sqrt();
        let c = limit_cycle(
            &CircleSnic { p },
            array![0.5, -0.5].view(),
            Array1::zeros(0).view(),
            &CycleParams { transient: 50.0, search: 3.0 * want, steps: 20_000, ..Default::default() },
        )
        .unwrap();
        assert!((c.period - want).abs() < 1e-6 * want, "p {p}: {} vs {want}", c.period);
        periods.push(c.period);
    }
    let (p_c, residual) = fit_period_divergence(&ps, &periods, Divergence::SaddleNodeOnCycle).unwrap();
    eprintln!("SNIC: periods {periods:?}, fitted p_c = {p_c} (fit residual {residual:e})");
    assert!((p_c - 1.0).abs() < 1e-5, "{p_c}");
}

#[test]
fn the_homoclinic_period_fit_finds_mu_c() {
    use emt_dynamics::{CycleParams, Divergence, fit_period_divergence, limit_cycle};
    let mu_c = -0.864545;
    let deltas = [1e-3, 7e-4, 5e-4, 3e-4, 2e-4, 1e-4];
    let mut mus = Vec::new();
    let mut periods = Vec::new();
    for d in deltas {
        let mu = mu_c - d;
        let c = limit_cycle(
            &StrogatzHomoclinic { mu },
            array![1.1, 0.0].view(),
            Array1::zeros(0).view(),
            &CycleParams { transient: 400.0, search: 120.0, steps: 20_000, ..Default::default() },
        )
        .unwrap();
        mus.push(mu);
        periods.push(c.period);
    }
    eprintln!("homoclinic: periods {periods:?}");
    // docs/DYNAMICS.md §9: T = 13.729 at mu_c - 1e-3 and 17.227 at mu_c - 1e-4.
    assert!((periods[0] - 13.729).abs() < 5e-3 && (periods[5] - 17.227).abs() < 5e-3, "{periods:?}");
    let (fit, residual) = fit_period_divergence(&mus, &periods, Divergence::Homoclinic { lambda_u: 0.65716 }).unwrap();
    eprintln!("homoclinic: fitted mu_c = {fit} (residual {residual:e})");
    assert!((fit - mu_c).abs() < 2e-5, "{fit}");
}

/// The Neimark-Sacker normal form as a map on R^2: z' = (1 + p) R(theta) z - |z|^2 z. The
/// origin's multipliers are (1 + p) e^{+-i theta}: a Neimark-Sacker point at p = 0 with angle
/// theta.
struct NeimarkSacker {
    p: f64,
    theta: f64,
}

impl emt_core::DiscreteMap for NeimarkSacker {
    fn state_dim(&self) -> usize {
        2
    }
    fn input_dim(&self) -> usize {
        0
    }
    fn step_into(
        &self,
        z: ndarray::ArrayView1<'_, f64>,
        _: ndarray::ArrayView1<'_, f64>,
        mut out: ndarray::ArrayViewMut1<'_, f64>,
    ) -> emt_core::Result<()> {
        let (s, c) = self.theta.sin_cos();
        let r2 = z[0] * z[0] + z[1] * z[1];
        out[0] = (1.0 + self.p) * (c * z[0] - s * z[1]) - r2 * z[0];
        out[1] = (1.0 + self.p) * (s * z[0] + c * z[1]) - r2 * z[1];
        Ok(())
    }
    fn jacobian_into(
        &self,
        z: ndarray::ArrayView1<'_, f64>,
        _: ndarray::ArrayView1<'_, f64>,
        mut out: ndarray::ArrayViewMut2<'_, f64>,
    ) -> emt_core::Result<()> {
        let (s, c) = self.theta.sin_cos();
        let (a, r2) = (1.0 + self.p, z[0] * z[0] + z[1] * z[1]);
        out[[0, 0]] = a * c - r2 - 2.0 * z[0] * z[0];
        out[[0, 1]] = -a * s - 2.0 * z[0] * z[1];
        out[[1, 0]] = a * s - 2.0 * z[0] * z[1];
        out[[1, 1]] = a * c - r2 - 2.0 * z[1] * z[1];
        Ok(())
    }
    fn input_jacobian_into(
        &self,
        _: ndarray::ArrayView1<'_, f64>,
        _: ndarray::ArrayView1<'_, f64>,
        _: ndarray::ArrayViewMut2<'_, f64>,
    ) -> emt_core::Result<()> {
        Ok(())
    }
}

/// Maps (issue 11): Neimark-Sacker (p_c = 0, angle theta), flip (logistic, r_c = 3) and a map
/// saddle-node (x' = x + p - x^2, p_c = 0), each recovered to 1e-6 by the sweep.
#[test]
fn map_bifurcations_neimark_sacker_flip_and_saddle_node() {
    use emt_dynamics::{Bifurcation, SweepParams, sweep_map};
    let none = ndarray::Array1::zeros(0);
    let params = SweepParams { from: -0.3, to: 0.25, values: 7, tol: 1e-10 };
    let s =
        sweep_map(|p| Ok(NeimarkSacker { p, theta: 0.9 }), none.view(), ndarray::array![[0.01, 0.0]].view(), &params)
            .unwrap();
    let ns: Vec<&Bifurcation> = s.bifurcations.iter().filter(|b| b.name() == "neimark_sacker").collect();
    assert_eq!(ns.len(), 1, "{:?}", s.bifurcations);
    let Bifurcation::NeimarkSacker { parameter, angle, .. } = ns[0] else { unreachable!() };
    eprintln!("neimark-sacker at {parameter:e}, angle {angle}");
    assert!(parameter.abs() < 1e-6 && (angle - 0.9).abs() < 1e-6, "{parameter} {angle}");
    assert!(s.bifurcations.iter().all(|b| b.name() != "flip"), "{:?}", s.bifurcations);

    let params = SweepParams { from: 2.2, to: 3.6, values: 8, tol: 1e-10 };
    let s = sweep_map(
        |r| Ok(emt_testkit::systems::Logistic { r }),
        none.view(),
        ndarray::array![[0.5], [0.9]].view(),
        &params,
    )
    .unwrap();
    let flips: Vec<f64> = s.bifurcations.iter().filter(|b| b.name() == "flip").map(|b| b.parameter()).collect();
    assert_eq!(flips.len(), 1, "{:?}", s.bifurcations);
    eprintln!("flip at {flips:?}");
    assert!((flips[0] - 3.0).abs() < 1e-6, "{flips:?}");

    // x' = x + p - x^2: fixed points +-sqrt(p) vanish at p = 0 (sweeping downwards) and are born
    // (sweeping upwards); both directions locate it.
    // (The Euler map with dt = 1 of the Riccati flow, written as a map.)
    for (from, to) in [(1.0, -1.0), (-1.0, 1.0)] {
        let params = SweepParams { from, to, values: 6, tol: 1e-10 };
        let seeds = ndarray::array![[-2.0], [-0.5], [0.5], [2.0]];
        let s = emt_dynamics::sweep(
            |p| Ok(emt_dynamics::AsMap(FoldMap(emt_testkit::systems::Riccati { a: p, b: -1.0 }))),
            none.view(),
            seeds.view(),
            &params,
        )
        .unwrap();
        let sn: Vec<f64> = s.bifurcations.iter().filter(|b| b.name() == "saddle_node").map(|b| b.parameter()).collect();
        assert_eq!(sn.len(), 1, "{from} -> {to}: {:?}", s.bifurcations);
        eprintln!("map saddle-node {from} -> {to}: {sn:?}");
        assert!(sn[0].abs() < 1e-6, "{sn:?}");
    }
}

/// `x' = x + f(x)` for a flow `f`: its Euler map with step 1, owning the flow.
struct FoldMap(emt_testkit::systems::Riccati);

impl emt_core::DiscreteMap for FoldMap {
    fn state_dim(&self) -> usize {
        1
    }
    fn input_dim(&self) -> usize {
        0
    }
    fn step_into(
        &self,
        x: ndarray::ArrayView1<'_, f64>,
        u: ndarray::ArrayView1<'_, f64>,
        mut out: ndarray::ArrayViewMut1<'_, f64>,
    ) -> emt_core::Result<()> {
        let f = emt_core::Flow::field(&self.0, x, u)?;
        out[0] = x[0] + f[0];
        Ok(())
    }
    fn jacobian_into(
        &self,
        x: ndarray::ArrayView1<'_, f64>,
        u: ndarray::ArrayView1<'_, f64>,
        mut out: ndarray::ArrayViewMut2<'_, f64>,
    ) -> emt_core::Result<()> {
        out[[0, 0]] = 1.0 + emt_core::Flow::jacobian(&self.0, x, u)?[[0, 0]];
        Ok(())
    }
    fn input_jacobian_into(
        &self,
        _: ndarray::ArrayView1<'_, f64>,
        _: ndarray::ArrayView1<'_, f64>,
        _: ndarray::ArrayViewMut2<'_, f64>,
    ) -> emt_core::Result<()> {
        Ok(())
    }
}
