//! Adaptive Dormand-Prince 5(4) integration with error control (written here: ~150 lines keep
//! it allocation-free per step and let the observer see every accepted step, which the cycle
//! and phase analyses need; the well-kept crates either allocate per step or hide the steps).

use emt_core::{Error, Flow, Result, check};
use ndarray::{Array1, ArrayView1};

/// Tolerances and step bounds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dopri5Params {
    /// Relative tolerance per component.
    pub rtol: f64,
    /// Absolute tolerance per component.
    pub atol: f64,
    /// First step tried (shrunk or grown by the controller).
    pub h0: f64,
    /// Smallest step allowed before giving up (an error, never a silent inaccurate answer).
    pub h_min: f64,
    /// Largest step.
    pub h_max: f64,
    /// Accepted plus rejected steps at most. A stiff problem (the step held down by stability,
    /// not accuracy: `h |lambda| > 3.25` for 15 accepted steps in a row, Hairer's test) whose
    /// remaining time would need more than what is left of this is refused at once, not after
    /// running into the cap.
    pub max_steps: usize,
}

impl Dopri5Params {
    /// A step budget that grows with the time asked: `max(10^5, 10^4 t)` steps (a mean step of
    /// 10^-4 time units over long runs). The analyses integrate with it, so their work is
    /// bounded by their arguments.
    pub fn budget_for(t: f64) -> usize {
        (1e4 * t.max(0.0)).ceil().clamp(1e5, 1e12) as usize
    }
}

impl Default for Dopri5Params {
    fn default() -> Self {
        Dopri5Params { rtol: 1e-9, atol: 1e-12, h0: 1e-3, h_min: 1e-14, h_max: f64::INFINITY, max_steps: 10_000_000 }
    }
}

impl Dopri5Params {
    /// Errors on non-positive tolerances or step bounds.
    pub fn check(self) -> Result<Self> {
        for (name, v) in [("rtol", self.rtol), ("atol", self.atol), ("h0", self.h0), ("h_min", self.h_min)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::param(name, v, "must be finite and > 0"));
            }
        }
        // NaN fails `> 0.0` too: reject it with the negatives.
        if self.h_max.is_nan() || self.h_max <= 0.0 {
            return Err(Error::param("h_max", self.h_max, "must be > 0"));
        }
        check::positive("max_steps", self.max_steps)?;
        Ok(self)
    }
}

/// One accepted step, as observers see it: `[t0, t1]`, the states and fields at both ends
/// (enough for cubic Hermite interpolation inside the step, see [`Step::interpolate`]).
#[derive(Debug)]
pub struct Step<'a> {
    /// Start time.
    pub t0: f64,
    /// End time.
    pub t1: f64,
    /// State at `t0`.
    pub x0: ArrayView1<'a, f64>,
    /// State at `t1`.
    pub x1: ArrayView1<'a, f64>,
    /// Field at `t0`.
    pub f0: ArrayView1<'a, f64>,
    /// Field at `t1`.
    pub f1: ArrayView1<'a, f64>,
}

impl Step<'_> {
    /// The cubic Hermite interpolant at `t` in `[t0, t1]` (fourth-order accurate).
    pub fn interpolate(&self, t: f64) -> Array1<f64> {
        let h = self.t1 - self.t0;
        let s = if h > 0.0 { (t - self.t0) / h } else { 0.0 };
        let (h00, h10, h01, h11) = (
            2.0 * s.powi(3) - 3.0 * s * s + 1.0,
            s.powi(3) - 2.0 * s * s + s,
            -2.0 * s.powi(3) + 3.0 * s * s,
            s.powi(3) - s * s,
        );
        &self.x0 * h00 + &(&self.f0 * (h10 * h)) + &self.x1 * h01 + &(&self.f1 * (h11 * h))
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dopri5Stats {
    /// Accepted steps.
    pub accepted: usize,
    /// Rejected steps.
    pub rejected: usize,
    /// Field evaluations.
    pub evaluations: usize,
}

// Stage times c = (0, 1/5, 3/10, 4/5, 8/9, 1, 1) are not needed: emt's flows are autonomous
// over a step (the input is held constant).
const A: [[f64; 6]; 7] = [
    [0.0; 6],
    [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
    [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
    [19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0, 0.0, 0.0],
    [9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0, 0.0],
    [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
];
/// Fifth-order weights minus fourth-order weights: the local error estimate.
const E: [f64; 7] =
    [71.0 / 57600.0, 0.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0];

/// The step budget ran out (or, from the pace so far, would): a typed error with the numbers.
fn budget_exhausted(t: f64, t_end: f64, used: usize, projected: f64, max_steps: usize) -> Error {
    let pace = if t > 0.0 { format!("mean step {:.3e}", t / used as f64) } else { "no progress".into() };
    let rest = if projected > 0.0 { format!(", and the rest needs about {projected:.3e} more") } else { String::new() };
    Error::NotConverged {
        what: format!(
            "Dormand-Prince integration to t = {t_end}: {used} steps reached t = {t:.6} ({pace}{rest}), \
             over the budget of {max_steps} steps (the flow is stiff or nearly singular there)"
        ),
        iterations: Some(used),
        residual: None,
    }
}

/// Integrates `flow` from `x0` at time 0 to `t_end` under the constant input `u`; calls
/// `observe` after every accepted step; returns the final state and the step counts.
///
/// ```
/// use emt_dynamics::{Dopri5Params, dopri5};
/// use emt_testkit::systems::LinearFlow;
/// // dx/dt = -x: x(2) = e^-2.
/// let (x, stats) = dopri5(&LinearFlow(ndarray::array![[-1.0]]), ndarray::array![1.0].view(),
///     ndarray::Array1::zeros(0).view(), 2.0, &Dopri5Params::default(), |_| {})?;
/// assert!((x[0] - (-2f64).exp()).abs() < 1e-9 && stats.rejected < stats.accepted);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn dopri5(
    flow: &dyn Flow,
    x0: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    t_end: f64,
    params: &Dopri5Params,
    mut observe: impl FnMut(&Step<'_>),
) -> Result<(Array1<f64>, Dopri5Stats)> {
    let p = params.check()?;
    let n = flow.state_dim();
    check::shape("x0", &x0, &[n])?;
    check::finite("x0", &x0)?;
    check::shape("input", &u, &[flow.input_dim()])?;
    if !(t_end.is_finite() && t_end >= 0.0) {
        return Err(Error::param("t_end", t_end, "must be finite and >= 0"));
    }
    let mut x = x0.to_owned();
    let mut k: [Array1<f64>; 7] = std::array::from_fn(|_| Array1::zeros(n));
    let (mut stage, mut x_new, mut err) = (Array1::zeros(n), Array1::zeros(n), Array1::zeros(n));
    flow.field_into(x.view(), u, k[0].view_mut())?;
    let mut stats = Dopri5Stats { accepted: 0, rejected: 0, evaluations: 1 };
    // Stiffness test (Hairer & Wanner's DOPRI5): the 6th stage point and a run count.
    let mut y6 = Array1::zeros(n);
    let (mut stiff_run, mut calm_run) = (0usize, 0usize);
    let (mut t, mut h) = (0.0, p.h0.min(p.h_max));
    while t < t_end {
        emt_core::interrupt::check("Dormand-Prince integration")?;
        let used = stats.accepted + stats.rejected;
        // A tenth of the budget in, the pace so far says whether the rest fits: a run that
        // would need more than twice what is left stops now instead of at the cap (a
        // saturated CT-GRU crept at h ~ 1e-7 through 10^7 steps for 20 s).
        if used == p.max_steps / 10 && t > 0.0 {
            let projected = (t_end - t) * used as f64 / t;
            if projected > 2.0 * (p.max_steps - used) as f64 {
                return Err(budget_exhausted(t, t_end, used, projected, p.max_steps));
            }
        }
        if used >= p.max_steps {
            return Err(budget_exhausted(t, t_end, used, 0.0, p.max_steps));
        }
        let last = t + h >= t_end;
        if last {
            h = t_end - t;
        }
        for s in 1..7 {
            stage.assign(&x);
            for (j, a) in A[s].iter().enumerate().take(s) {
                if *a != 0.0 {
                    stage.scaled_add(h * a, &k[j]);
                }
            }
            flow.field_into(stage.view(), u, k[s].view_mut())?;
            if s == 5 {
                y6.assign(&stage);
            }
        }
        stats.evaluations += 6;
        // The seventh stage is x_new itself (first same as last).
        x_new.assign(&stage);
        err.fill(0.0);
        for (j, e) in E.iter().enumerate() {
            if *e != 0.0 {
                err.scaled_add(h * e, &k[j]);
            }
        }
        let norm = (err
            .iter()
            .zip(x.iter().zip(&x_new))
            .map(|(e, (a, b))| (e / (p.atol + p.rtol * a.abs().max(b.abs()))).powi(2))
            .sum::<f64>()
            / n.max(1) as f64)
            .sqrt();
        if !norm.is_finite() {
            return Err(Error::Diverged {
                step: stats.accepted,
                reason: format!("the state became non-finite at t = {t}"),
            });
        }
        let factor = if norm == 0.0 { 5.0 } else { (0.9 * norm.powf(-0.2)).clamp(0.2, 5.0) };
        if norm <= 1.0 {
            let t_new = if last { t_end } else { t + h };
            observe(&Step { t0: t, t1: t_new, x0: x.view(), x1: x_new.view(), f0: k[0].view(), f1: k[6].view() });
            t = t_new;
            std::mem::swap(&mut x, &mut x_new);
            let k6 = std::mem::take(&mut k[6]);
            k[6] = std::mem::replace(&mut k[0], k6);
            stats.accepted += 1;
            // h |lambda| estimated from the last two stages (after the swap, k[0] = f(x_new),
            // and x = x_new): large for 15 steps in a row means stability, not accuracy, holds
            // the step down.
            let den: f64 = x.iter().zip(&y6).map(|(a, b)| (a - b).powi(2)).sum();
            let num: f64 = k[0].iter().zip(&k[5]).map(|(a, b)| (a - b).powi(2)).sum();
            if den > 0.0 && h * (num / den).sqrt() > 3.25 {
                calm_run = 0;
                stiff_run += 1;
                let used = stats.accepted + stats.rejected;
                let projected = (t_end - t) / h;
                if stiff_run >= 15 && projected > p.max_steps.saturating_sub(used) as f64 {
                    return Err(Error::NotConverged {
                        what: format!(
                            "explicit Dormand-Prince integration to t = {t_end}: the step collapsed at t = {t:.6} \
                             (h = {h:.3e} with h |lambda| > 3.25 for 15 steps: the problem is stiff, or blowing up \
                             at |x|max = {:.3e}); the remaining time needs about {projected:.3e} steps, over the \
                             budget of {} steps",
                            x.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                            p.max_steps
                        ),
                        iterations: Some(used),
                        residual: None,
                    });
                }
            } else {
                calm_run += 1;
                if calm_run >= 6 {
                    stiff_run = 0;
                }
            }
            h = (h * factor).min(p.h_max);
        } else {
            stats.rejected += 1;
            h *= factor.min(1.0);
            if h < p.h_min {
                return Err(Error::param(
                    "h_min",
                    p.h_min,
                    format!("the step fell below it at t = {t} (stiff or singular)"),
                ));
            }
        }
    }
    Ok((x, stats))
}
