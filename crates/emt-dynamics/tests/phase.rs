//! Phase response against the handcrafted Z3 oscillator of docs/DYNAMICS.md §7.

use emt_core::{DiscreteMap, Result};
use emt_dynamics::{PhaseParams, phase_response_map, wrap};
use ndarray::{Array1, Array2, ArrayView1, ArrayViewMut1, ArrayViewMut2, array};

/// z' = (1 + kappa (1 - |z|)) R(omega + c.x) z: an attracting unit circle whose angle advances by
/// omega per step plus c.x under input x in R^100.
struct Z3Oscillator {
    kappa: f64,
    omega: f64,
    c: Array1<f64>,
}

impl Z3Oscillator {
    /// Colour vectors v_G, v_P, v_R ~ N(0, I_100) (seeded) and c the minimum-norm solution of
    /// c.v_G = 2pi/(3k), c.v_P = -2pi/(3k), c.v_R = 0 for k-step pulses.
    fn new(k: usize, seed: u64) -> (Self, Array2<f64>) {
        let colours = emt_testkit::gaussian(3, 100, seed);
        let target = array![1.0, -1.0, 0.0] * (2.0 * std::f64::consts::PI / (3.0 * k as f64));
        let c = emt_linalg::pinv(colours.view(), 1e-12).unwrap().dot(&target);
        (Z3Oscillator { kappa: 0.5, omega: 2.0 * std::f64::consts::PI / 25.0, c }, colours)
    }
}

impl DiscreteMap for Z3Oscillator {
    fn state_dim(&self) -> usize {
        2
    }
    fn input_dim(&self) -> usize {
        self.c.len()
    }
    fn step_into(&self, z: ArrayView1<'_, f64>, x: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        let r = (z[0] * z[0] + z[1] * z[1]).sqrt();
        let g = 1.0 + self.kappa * (1.0 - r);
        let a = self.omega + self.c.dot(&x);
        out[0] = g * (a.cos() * z[0] - a.sin() * z[1]);
        out[1] = g * (a.sin() * z[0] + a.cos() * z[1]);
        Ok(())
    }
    fn jacobian_into(&self, _: ArrayView1<'_, f64>, _: ArrayView1<'_, f64>, _: ArrayViewMut2<'_, f64>) -> Result<()> {
        Err(emt_core::Error::param("jacobian", "Z3Oscillator", "not needed by the phase response"))
    }
    fn input_jacobian_into(
        &self,
        _: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        _: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        Err(emt_core::Error::param("input jacobian", "Z3Oscillator", "not needed by the phase response"))
    }
}

#[test]
fn the_z3_oscillator_shifts_by_plus_and_minus_two_thirds_pi_and_zero() {
    let (osc, colours) = Z3Oscillator::new(2, 7);
    let on_cycle = array![1.0, 0.0];
    let params = PhaseParams { pulse_steps: 2, arrivals: 25, settle_periods: 4, window_periods: 2 };
    let third = 2.0 * std::f64::consts::PI / 3.0;
    for (name, colour, want) in [("G", 0, third), ("P", 1, -third), ("R", 2, 0.0)] {
        let prc = phase_response_map(&osc, on_cycle.view(), 25.0, colours.row(colour), &params).unwrap();
        eprintln!("colour {name}: mean shift {:.6} (want {want:.6}), spread {:.2e}", prc.mean, prc.spread);
        assert!(wrap(prc.mean - want).abs() < 1e-9, "{name}: {}", prc.mean);
        assert!(prc.spread < 1e-6 && prc.shifts.iter().all(|s| wrap(s - want).abs() < 1e-9));
    }
    // Z3 composition: pairwise differences are +-2pi/3.
    let shift = |c| phase_response_map(&osc, on_cycle.view(), 25.0, colours.row(c), &params).unwrap().mean;
    let (g, p, r) = (shift(0), shift(1), shift(2));
    for d in [wrap(g - p), wrap(p - r), wrap(r - g)] {
        assert!((d.abs() - third).abs() < 1e-9, "{d}");
    }
}

#[test]
fn the_orientation_makes_the_rotation_positive() {
    // The same oscillator turning the other way: an advance is still positive.
    let (mut osc, colours) = Z3Oscillator::new(2, 7);
    osc.omega = -osc.omega;
    osc.c = -&osc.c;
    let prc = phase_response_map(
        &osc,
        array![1.0, 0.0].view(),
        25.0,
        colours.row(0),
        &PhaseParams { arrivals: 5, ..Default::default() },
    )
    .unwrap();
    // Colour G now turns the angle by -2pi/3 against a clockwise rotation: an advance of 2pi/3.
    assert!(wrap(prc.mean - 2.0 * std::f64::consts::PI / 3.0).abs() < 1e-9, "{}", prc.mean);
    assert!(phase_response_map(&osc, array![1.0, 0.0].view(), 1.0, colours.row(0), &PhaseParams::default()).is_err());
}
