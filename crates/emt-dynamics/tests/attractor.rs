//! Attractor classification (docs/DYNAMICS.md §4) on systems whose attractor is known.

use emt_core::{DiscreteMap, Result};
use emt_dynamics::{AttractorKind, AttractorParams, System, classify_attractor};
use emt_testkit::systems::{Henon, LinearFlow, LinearMap, Lorenz, StuartLandau};
use ndarray::{Array1, ArrayView1, ArrayViewMut1, ArrayViewMut2, array};

/// x' = (1 + kappa (1 - |x|)) R(2 pi rho) x: an attracting unit circle with rotation number rho.
struct CircleMap {
    kappa: f64,
    rho: f64,
}

impl CircleMap {
    fn pieces(&self, x: &ArrayView1<'_, f64>) -> (f64, f64, f64, f64) {
        let r = (x[0] * x[0] + x[1] * x[1]).sqrt();
        let a = 2.0 * std::f64::consts::PI * self.rho;
        (r, 1.0 + self.kappa * (1.0 - r), a.cos(), a.sin())
    }
}

impl DiscreteMap for CircleMap {
    fn state_dim(&self) -> usize {
        2
    }
    fn input_dim(&self) -> usize {
        0
    }
    fn step_into(&self, x: ArrayView1<'_, f64>, _: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        let (_, g, c, s) = self.pieces(&x);
        out[0] = g * (c * x[0] - s * x[1]);
        out[1] = g * (s * x[0] + c * x[1]);
        Ok(())
    }
    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (r, g, c, s) = self.pieces(&x);
        let (rx, ry) = (c * x[0] - s * x[1], s * x[0] + c * x[1]);
        let (dgx, dgy) = (-self.kappa * x[0] / r, -self.kappa * x[1] / r);
        out.assign(&array![[g * c + rx * dgx, -g * s + rx * dgy], [g * s + ry * dgx, g * c + ry * dgy]]);
        Ok(())
    }
    fn input_jacobian_into(
        &self,
        _: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        _: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        Ok(())
    }
}

fn none() -> Array1<f64> {
    Array1::zeros(0)
}

#[test]
fn maps_fixed_point_periodic_orbit_invariant_circle_and_chaos() {
    let p = AttractorParams::default();
    let golden = (5f64.sqrt() - 1.0) / 4.0;
    let circle = classify_attractor(
        System::Map(&CircleMap { kappa: 0.5, rho: golden }),
        array![0.3, 0.1].view(),
        none().view(),
        &p,
    )
    .unwrap();
    eprintln!("circle map rho = {golden}: {:?} rho {:?} ({})", circle.kind, circle.rotation_number, circle.evidence);
    assert_eq!(circle.kind, AttractorKind::InvariantCircle);
    // The angle is measured around the sample centroid, which misses the circle's centre by
    // O(1/N): the mean rate over N = 2000 steps is off by ~1e-8 (measured 7.8e-9).
    assert!((circle.rotation_number.unwrap() - golden).abs() < 1e-7);
    // A rational rotation number: a periodic orbit of period 5 on the circle.
    let orbit = classify_attractor(
        System::Map(&CircleMap { kappa: 0.5, rho: 0.2 }),
        array![0.3, 0.1].view(),
        none().view(),
        &p,
    )
    .unwrap();
    assert_eq!((orbit.kind, orbit.period), (AttractorKind::LimitCycle, Some(5.0)), "{}", orbit.evidence);
    assert!((orbit.rotation_number.unwrap() - 0.2).abs() < 1e-10);
    // Its multipliers: 1 along the circle (neutral) and (1 - kappa)^5 across it.
    let mut mods: Vec<f64> = orbit.floquet.iter().map(|z| z.norm()).collect();
    mods.sort_by(f64::total_cmp);
    assert!((mods[0] - 0.5f64.powi(5)).abs() < 1e-9 && (mods[1] - 1.0).abs() < 1e-9, "{mods:?}");
    let fixed = classify_attractor(
        System::Map(&LinearMap(array![[0.5, 0.1], [0.0, -0.3]])),
        array![1.0, 1.0].view(),
        none().view(),
        &p,
    )
    .unwrap();
    assert_eq!(fixed.kind, AttractorKind::FixedPoint);
    let chaos =
        classify_attractor(System::Map(&Henon { a: 1.4, b: 0.3 }), array![0.1, 0.1].view(), none().view(), &p).unwrap();
    assert_eq!(chaos.kind, AttractorKind::Chaotic, "{}", chaos.evidence);
    assert!((chaos.lambda_max - 0.419).abs() < 0.05);
}

#[test]
fn flows_fixed_point_limit_cycle_and_chaos() {
    let p = AttractorParams { transient: 50.0, length: 100.0, ..Default::default() };
    let sl = classify_attractor(
        System::Flow(&StuartLandau { l: 1.0, w: 1.0, q: 0.0 }),
        array![0.2, 0.0].view(),
        none().view(),
        &p,
    )
    .unwrap();
    eprintln!("Stuart-Landau: {:?}, period {:?}, multipliers {:?}", sl.kind, sl.period, sl.floquet);
    assert_eq!(sl.kind, AttractorKind::LimitCycle);
    assert!((sl.period.unwrap() - 2.0 * std::f64::consts::PI).abs() < 1e-8);
    assert!((sl.trivial_multiplier.unwrap() - 1.0).norm() < 1e-8);
    let fixed = classify_attractor(
        System::Flow(&LinearFlow(array![[-1.0, 2.0], [-2.0, -1.0]])),
        array![1.0, 0.0].view(),
        none().view(),
        &p,
    )
    .unwrap();
    assert_eq!(fixed.kind, AttractorKind::FixedPoint, "{}", fixed.evidence);
    let lorenz = classify_attractor(
        System::Flow(&Lorenz { sigma: 10.0, rho: 28.0, beta: 8.0 / 3.0 }),
        array![1.0, 1.0, 20.0].view(),
        none().view(),
        &p,
    )
    .unwrap();
    eprintln!("Lorenz: {:?}, lambda_max {} ({})", lorenz.kind, lorenz.lambda_max, lorenz.evidence);
    assert_eq!(lorenz.kind, AttractorKind::Chaotic);
}
