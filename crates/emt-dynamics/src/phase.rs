//! Phase response of a map's periodic or quasi-periodic orbit to finite pulses (docs/DYNAMICS.md §5).
//!
//! The phase is the angle in the top-2 principal components of the unperturbed orbit, oriented
//! so that the unperturbed rotation is positive (PCA axes have arbitrary signs; PC2 is flipped
//! when the mean angular velocity comes out negative). A pulse (input `u` for `pulse_steps`
//! steps, then zero input) arrives at an evenly spread set of phases; after `settle_periods`
//! periods the shift is the circular mean, over `window_periods` periods, of the angle of the
//! pulsed run minus that of the unpulsed run from the same state. If `theta(t) = omega t +
//! periodic`, that average is exactly `omega d` for a time shift `d`. Shifts are wrapped to
//! `(-pi, pi]`; positive is an advance.

use emt_core::{DiscreteMap, Error, Result, check};
use ndarray::{Array1, Array2, ArrayView1};
use num_complex::Complex64;

/// Settings of [`phase_response_map`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhaseParams {
    /// Steps the pulse is held.
    pub pulse_steps: usize,
    /// Arrival phases, spread evenly over one period.
    pub arrivals: usize,
    /// Periods waited after the pulse before measuring (let `|mu_2|^K` vanish).
    pub settle_periods: usize,
    /// Periods averaged over.
    pub window_periods: usize,
}

impl Default for PhaseParams {
    fn default() -> Self {
        PhaseParams { pulse_steps: 2, arrivals: 16, settle_periods: 20, window_periods: 4 }
    }
}

/// The phase response curve of one pulse.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseResponse {
    /// Arrival phases (radians, oriented).
    pub phases: Vec<f64>,
    /// Shifts at those phases, in `(-pi, pi]` (positive: advance).
    pub shifts: Vec<f64>,
    /// Circular mean of the shifts.
    pub mean: f64,
    /// Mean resultant length `R = |sum e^{i shift}| / P` (1: the same shift at every phase).
    pub resultant: f64,
    /// Circular standard deviation `sqrt(-2 ln R)`.
    pub spread: f64,
}

/// `wrap(x) = pi - ((pi - x) mod 2 pi)`, in `(-pi, pi]`.
pub fn wrap(x: f64) -> f64 {
    let two_pi = 2.0 * std::f64::consts::PI;
    std::f64::consts::PI - (std::f64::consts::PI - x).rem_euclid(two_pi)
}

/// The oriented top-2 PCA frame of an orbit.
struct Frame {
    mean: Array1<f64>,
    pc1: Array1<f64>,
    pc2: Array1<f64>,
}

impl Frame {
    fn angle(&self, x: &ArrayView1<'_, f64>) -> f64 {
        let c = x - &self.mean;
        self.pc2.dot(&c).atan2(self.pc1.dot(&c))
    }
}

fn run(
    map: &dyn DiscreteMap,
    x: &mut Array1<f64>,
    u: ArrayView1<'_, f64>,
    steps: usize,
    mut each: impl FnMut(&Array1<f64>),
) -> Result<()> {
    let mut next = Array1::zeros(x.len());
    for _ in 0..steps {
        map.step_into(x.view(), u, next.view_mut())?;
        std::mem::swap(x, &mut next);
        each(x);
    }
    check::finite("state", &x.view())
        .map_err(|_| Error::Diverged { step: steps, reason: "the run became non-finite".into() })
}

/// The phase response of `map`'s orbit through `x_cycle` (period `period` steps, possibly
/// non-integer for an invariant circle) to the pulse `pulse` `(d_in)`.
pub fn phase_response_map(
    map: &dyn DiscreteMap,
    x_cycle: ArrayView1<'_, f64>,
    period: f64,
    pulse: ArrayView1<'_, f64>,
    params: &PhaseParams,
) -> Result<PhaseResponse> {
    let n = map.state_dim();
    check::shape("x_cycle", &x_cycle, &[n])?;
    check::shape("pulse", &pulse, &[map.input_dim()])?;
    check::finite("pulse", &pulse)?;
    if !(period.is_finite() && period >= 2.0) {
        return Err(Error::param("period", period, "must be finite and >= 2 steps"));
    }
    check::positive("arrivals", params.arrivals)?;
    check::positive("window_periods", params.window_periods)?;
    let zero = Array1::zeros(map.input_dim());
    // The unperturbed orbit over a few periods gives the PCA frame and its orientation.
    let steps = (4.0 * period).ceil() as usize;
    let mut x = x_cycle.to_owned();
    let mut rows = Vec::with_capacity(steps * n);
    run(map, &mut x, zero.view(), steps, |s| rows.extend(s.iter().copied()))?;
    let states = Array2::from_shape_vec((steps, n), rows)
        .map_err(|e| Error::shape("orbit", format!("({steps}, {n})"), e.to_string()))?;
    let pca = emt_linalg::pca(states.view(), 2)?;
    if pca.components.nrows() < 2 {
        return Err(Error::param("orbit", "one-dimensional", "has no plane to measure a phase in"));
    }
    let mut frame =
        Frame { mean: pca.mean.clone(), pc1: pca.components.row(0).to_owned(), pc2: pca.components.row(1).to_owned() };
    let rate: f64 = (1..steps).map(|t| wrap(frame.angle(&states.row(t)) - frame.angle(&states.row(t - 1)))).sum();
    if rate < 0.0 {
        frame.pc2 *= -1.0;
    }
    let settle = params.pulse_steps + (params.settle_periods as f64 * period).ceil() as usize;
    let window = (params.window_periods as f64 * period).round().max(1.0) as usize;
    let (mut phases, mut shifts) = (Vec::new(), Vec::new());
    for j in 0..params.arrivals {
        let offset = (j as f64 * period / params.arrivals as f64).round() as usize;
        let mut start = x_cycle.to_owned();
        run(map, &mut start, zero.view(), offset, |_| {})?;
        phases.push(frame.angle(&start.view()));
        let (mut reference, mut pulsed) = (start.clone(), start);
        run(map, &mut pulsed, pulse, params.pulse_steps, |_| {})?;
        run(map, &mut reference, zero.view(), params.pulse_steps, |_| {})?;
        run(map, &mut pulsed, zero.view(), settle - params.pulse_steps, |_| {})?;
        run(map, &mut reference, zero.view(), settle - params.pulse_steps, |_| {})?;
        let mut sum = Complex64::new(0.0, 0.0);
        for _ in 0..window {
            run(map, &mut pulsed, zero.view(), 1, |_| {})?;
            run(map, &mut reference, zero.view(), 1, |_| {})?;
            sum += Complex64::from_polar(1.0, frame.angle(&pulsed.view()) - frame.angle(&reference.view()));
        }
        shifts.push(wrap(sum.arg()));
    }
    let total: Complex64 = shifts.iter().map(|&s| Complex64::from_polar(1.0, s)).sum();
    let resultant = (total.norm() / shifts.len() as f64).min(1.0);
    Ok(PhaseResponse {
        phases,
        mean: wrap(total.arg()),
        spread: (-2.0 * resultant.ln()).max(0.0).sqrt(),
        resultant,
        shifts,
    })
}
