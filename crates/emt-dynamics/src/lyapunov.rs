//! Lyapunov spectra by QR re-orthonormalisation (Benettin et al.), for maps and flows, and the
//! largest exponent by two-trajectory renormalisation as a cross-check (docs/DYNAMICS.md §3).
//!
//! Maps: `Q_0` random orthonormal `(n, k)` (seeded); per step `Z = DF(x_t) Q_t`,
//! `x_{t+1} = F(x_t, u_t)`; every `renormalize_every` steps `Z = QR` with `R_ii >= 0` and
//! `S_i += ln R_ii`; `lambda_i = S_i / steps` (per step). Flows: `(x, V)` advance together by RK4
//! with `dV/dt = Df V` through the same stages; exponents per unit time. Tangents run through the
//! transient too, unaccumulated.

use emt_core::{DiscreteMap, Error, Flow, Result, check, rng};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::Rng;
use rand_distr::StandardNormal;

use crate::integrate::Rk4;

/// Settings of a Lyapunov run; [`check`](Self::check) validates them all before any work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LyapunovParams {
    /// Exponents wanted, `1 <= k <= n` (`None`: all `n`).
    pub exponents: Option<usize>,
    /// Measured steps (maps: map steps; flows: integration steps of `dt`).
    pub steps: usize,
    /// Steps run first and not measured (the tangents still align).
    pub transient: usize,
    /// Steps between QR re-orthonormalisations. Columns collapse at rate `lambda_1 - lambda_k`:
    /// keep that times the interval well below ~20 (f64).
    pub renormalize_every: usize,
    /// Integration step of flows (unused for maps).
    pub dt: f64,
    /// Seed of the initial tangent frame.
    pub seed: u64,
    /// Running estimates kept for the convergence trace (at most this many, evenly spread).
    pub trace_points: usize,
    /// Maps with `k = n`: also average `ln |det DF|` (an O(n^3) LU per step) for the sum rule.
    pub sum_rule: bool,
}

impl Default for LyapunovParams {
    fn default() -> Self {
        LyapunovParams {
            exponents: None,
            steps: 10_000,
            transient: 1_000,
            renormalize_every: 1,
            dt: 0.01,
            seed: 0,
            trace_points: 100,
            sum_rule: true,
        }
    }
}

impl LyapunovParams {
    /// Errors on zero steps or interval, `k = 0`, or a non-positive `dt`.
    pub fn check(self) -> Result<Self> {
        check::positive("steps", self.steps)?;
        check::positive("renormalize_every", self.renormalize_every)?;
        if let Some(k) = self.exponents {
            check::positive("exponents (k)", k)?;
        }
        if !(self.dt.is_finite() && self.dt > 0.0) {
            return Err(Error::param("dt", self.dt, "must be finite and > 0"));
        }
        Ok(self)
    }
}

/// The unit exponents are measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Per map step.
    Step,
    /// Per unit of the flow's time.
    Time,
}

impl TimeUnit {
    /// `"step"` or `"time"`.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Step => "step",
            TimeUnit::Time => "time",
        }
    }
}

/// The Kaplan-Yorke (Lyapunov) dimension.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KaplanYorke {
    /// `j + S_j / |lambda_{j+1}|` (0 when `lambda_1 < 0`).
    Dimension(f64),
    /// All `k < n` partial sums are non-negative: more exponents are needed.
    Undetermined {
        /// Exponents computed.
        k: usize,
        /// Their sum.
        partial_sum: f64,
    },
}

impl KaplanYorke {
    /// From exponents in descending order, out of `n`.
    pub fn of(exponents: &[f64], n: usize) -> Self {
        if exponents.first().is_none_or(|&l| l < 0.0) {
            return KaplanYorke::Dimension(0.0);
        }
        let mut sum = 0.0;
        for (j, &l) in exponents.iter().enumerate() {
            if sum + l < 0.0 {
                return KaplanYorke::Dimension(j as f64 + sum / l.abs());
            }
            sum += l;
        }
        if exponents.len() == n {
            KaplanYorke::Dimension(n as f64)
        } else {
            KaplanYorke::Undetermined { k: exponents.len(), partial_sum: sum }
        }
    }

    /// The dimension, if determined.
    pub fn value(self) -> Option<f64> {
        match self {
            KaplanYorke::Dimension(d) => Some(d),
            KaplanYorke::Undetermined { .. } => None,
        }
    }
}

/// One running estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct TracePoint {
    /// Steps (maps) or time (flows) measured so far.
    pub time: f64,
    /// The exponents at that time, in frame order.
    pub exponents: Vec<f64>,
}

/// A Lyapunov spectrum with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct LyapunovSpectrum {
    /// Exponents in descending order (`-inf` for a direction the map annihilates).
    pub exponents: Vec<f64>,
    /// Per step or per unit time.
    pub time_unit: TimeUnit,
    /// Convergence trace.
    pub trace: Vec<TracePoint>,
    /// The self-check `sum lambda_i` vs `<ln|det DF|>` (maps) or `<tr Df>` (flows), when `k = n`.
    pub sum_rule: Option<SumRule>,
    /// Kaplan-Yorke dimension.
    pub kaplan_yorke: KaplanYorke,
    /// The state at the end of the run.
    pub final_state: Array1<f64>,
}

impl LyapunovSpectrum {
    /// Sum of the exponents.
    pub fn sum(&self) -> f64 {
        self.exponents.iter().sum()
    }
}

/// The sum rule: with all `n` exponents, their sum equals the time-average of `ln |det DF|`
/// (maps; exact up to rounding, a bookkeeping check) or of `tr Df` (flows; up to integration
/// error).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SumRule {
    /// `sum lambda_i`.
    pub exponent_sum: f64,
    /// The time-average it must equal.
    pub reference: f64,
}

/// Inputs along the run: one row `(1, d_in)` held constant, or one row per step for
/// `transient + steps` steps.
fn input_at<'a>(inputs: &'a ArrayView2<'_, f64>, t: usize) -> ArrayView1<'a, f64> {
    if inputs.nrows() == 1 { inputs.row(0) } else { inputs.row(t) }
}

fn check_run(
    n: usize,
    d: usize,
    x0: &ArrayView1<'_, f64>,
    inputs: &ArrayView2<'_, f64>,
    p: &LyapunovParams,
) -> Result<usize> {
    check::shape("x0", x0, &[n])?;
    check::finite("x0", x0)?;
    if inputs.ncols() != d || inputs.nrows() == 0 {
        return Err(Error::shape("inputs", format!("(1 or T, {d})"), check::fmt_shape(inputs.shape())));
    }
    let needed = p.transient + p.steps;
    if inputs.nrows() != 1 && inputs.nrows() < needed {
        return Err(Error::shape(
            "inputs",
            format!("(1, {d}) or (>= transient + steps = {needed}, {d})"),
            check::fmt_shape(inputs.shape()),
        ));
    }
    check::finite("inputs", inputs)?;
    let k = p.exponents.unwrap_or(n);
    if k > n {
        return Err(Error::param("exponents (k)", k, format!("must be at most the state dimension {n}")));
    }
    Ok(k)
}

/// After step `t` (0-based, transient first): the measured steps done so far, and whether to
/// renormalise now (every `renormalize_every` steps of each phase, and at the end of each).
fn schedule(t: usize, p: &LyapunovParams) -> (usize, bool) {
    let measuring = t >= p.transient;
    let done = if measuring { t + 1 - p.transient } else { 0 };
    let local = if measuring { done } else { t + 1 };
    let phase_end = t + 1 == p.transient || t + 1 == p.transient + p.steps;
    (done, local % p.renormalize_every == 0 || phase_end)
}

/// A seeded random orthonormal frame `(n, k)`.
fn random_frame(n: usize, k: usize, seed: u64) -> Result<Array2<f64>> {
    let mut r = rng::seeded(seed);
    let g = Array2::from_shape_simple_fn((n, k), || r.sample::<f64, _>(StandardNormal));
    Ok(emt_linalg::qr(g.view())?.q)
}

/// Accumulates QR renormalisations and the trace.
struct Accumulator {
    sums: Vec<f64>,
    trace: Vec<TracePoint>,
    trace_every: usize,
    renorms: usize,
}

impl Accumulator {
    fn new(k: usize, p: &LyapunovParams) -> Self {
        let total = p.steps.div_ceil(p.renormalize_every);
        let trace_every = if p.trace_points == 0 { usize::MAX } else { total.div_ceil(p.trace_points).max(1) };
        Accumulator { sums: vec![0.0; k], trace: Vec::new(), trace_every, renorms: 0 }
    }

    /// Re-orthonormalises `frame` in place; if `measure`, adds `ln R_ii` and records the trace
    /// at `time` (measured so far).
    fn renormalize(&mut self, frame: &mut Array2<f64>, measure: bool, time: f64) -> Result<()> {
        check::finite("tangent frame", &frame.view())
            .map_err(|_| Error::Diverged { step: time as usize, reason: "tangent vectors became non-finite".into() })?;
        let d = emt_linalg::qr(frame.view())?;
        if measure {
            for (s, i) in self.sums.iter_mut().zip(0..) {
                *s += d.r[[i, i]].ln();
            }
            self.renorms += 1;
            if self.renorms % self.trace_every == 0 {
                self.trace.push(TracePoint { time, exponents: self.sums.iter().map(|s| s / time).collect() });
            }
        }
        *frame = d.q;
        Ok(())
    }

    fn finish(self, time: f64) -> (Vec<f64>, Vec<TracePoint>) {
        let mut ex: Vec<f64> = self.sums.iter().map(|s| s / time).collect();
        ex.sort_by(|a, b| b.total_cmp(a));
        (ex, self.trace)
    }
}

/// The Lyapunov spectrum of a map from `x0` `(n)` driven by `inputs` (see [`LyapunovParams`]).
///
/// ```
/// use emt_core::ElmanWeights;
/// use emt_dynamics::{LyapunovParams, lyapunov_map};
/// // A linear map x' = A x (identity activation): exponents ln|eig A| = ln 0.9, ln 0.5.
/// let a = ndarray::array![[0.9, 0.3], [0.0, 0.5]];
/// let w = ElmanWeights::new(a, ndarray::array![[0.0], [0.0]], ndarray::array![[1.0, 0.0]])?
///     .with_activation(emt_core::Activation::Identity);
/// let params = LyapunovParams { steps: 2_000, transient: 100, ..Default::default() };
/// let s = lyapunov_map(&w, ndarray::array![1.0, 1.0].view(), ndarray::Array2::zeros((1, 1)).view(), &params)?;
/// assert!((s.exponents[0] - 0.9f64.ln()).abs() < 1e-9 && (s.exponents[1] - 0.5f64.ln()).abs() < 1e-9);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn lyapunov_map(
    map: &dyn DiscreteMap,
    x0: ArrayView1<'_, f64>,
    inputs: ArrayView2<'_, f64>,
    params: &LyapunovParams,
) -> Result<LyapunovSpectrum> {
    let p = params.check()?;
    let n = map.state_dim();
    let k = check_run(n, map.input_dim(), &x0, &inputs, &p)?;
    let mut x = x0.to_owned();
    let mut next = Array1::zeros(n);
    let mut jac = Array2::zeros((n, n));
    let mut frame = random_frame(n, k, p.seed)?;
    let mut z = Array2::zeros((n, k));
    let mut acc = Accumulator::new(k, &p);
    let with_det = p.sum_rule && k == n;
    let mut log_det = 0.0;
    for t in 0..p.transient + p.steps {
        emt_core::interrupt::check("Lyapunov spectrum")?;
        let u = input_at(&inputs, t);
        let measure = t >= p.transient;
        map.jacobian_into(x.view(), u, jac.view_mut())?;
        if with_det && measure {
            log_det += emt_linalg::log_abs_det(jac.view())?;
        }
        ndarray::linalg::general_mat_mul(1.0, &jac, &frame, 0.0, &mut z);
        std::mem::swap(&mut frame, &mut z);
        map.step_into(x.view(), u, next.view_mut())?;
        std::mem::swap(&mut x, &mut next);
        let (done, renormalize) = schedule(t, &p);
        if renormalize {
            acc.renormalize(&mut frame, measure, done as f64)?;
        }
    }
    check::finite("final state", &x.view()).map_err(|_| Error::Diverged {
        step: p.transient + p.steps,
        reason: "the trajectory became non-finite".into(),
    })?;
    let (exponents, trace) = acc.finish(p.steps as f64);
    let sum_rule =
        with_det.then(|| SumRule { exponent_sum: exponents.iter().sum(), reference: log_det / p.steps as f64 });
    let kaplan_yorke = KaplanYorke::of(&exponents, n);
    Ok(LyapunovSpectrum { exponents, time_unit: TimeUnit::Step, trace, sum_rule, kaplan_yorke, final_state: x })
}

/// The Lyapunov spectrum of a flow from `x0` by RK4 with step `params.dt` (inputs held over
/// each step; see [`LyapunovParams`]). Exponents per unit time; with `k = n` the sum rule
/// compares against the time-average of `tr Df`.
pub fn lyapunov_flow(
    flow: &dyn Flow,
    x0: ArrayView1<'_, f64>,
    inputs: ArrayView2<'_, f64>,
    params: &LyapunovParams,
) -> Result<LyapunovSpectrum> {
    let p = params.check()?;
    let n = flow.state_dim();
    let k = check_run(n, flow.input_dim(), &x0, &inputs, &p)?;
    let mut x = x0.to_owned();
    let mut frame = random_frame(n, k, p.seed)?;
    let mut rk = Rk4::new(n, k);
    let mut acc = Accumulator::new(k, &p);
    let mut trace_sum = 0.0;
    for t in 0..p.transient + p.steps {
        emt_core::interrupt::check("Lyapunov spectrum")?;
        let u = input_at(&inputs, t);
        let measure = t >= p.transient;
        let tr = rk.step_tangent(flow, &mut x, &mut frame, u, p.dt)?;
        if measure {
            trace_sum += tr;
        }
        let (done, renormalize) = schedule(t, &p);
        if renormalize {
            acc.renormalize(&mut frame, measure, done as f64 * p.dt)?;
        }
    }
    check::finite("final state", &x.view()).map_err(|_| Error::Diverged {
        step: p.transient + p.steps,
        reason: "the trajectory became non-finite".into(),
    })?;
    let (exponents, trace) = acc.finish(p.steps as f64 * p.dt);
    let sum_rule =
        (k == n).then(|| SumRule { exponent_sum: exponents.iter().sum(), reference: trace_sum / p.steps as f64 });
    let kaplan_yorke = KaplanYorke::of(&exponents, n);
    Ok(LyapunovSpectrum { exponents, time_unit: TimeUnit::Time, trace, sum_rule, kaplan_yorke, final_state: x })
}

/// `lambda_max` of a map by two nearby trajectories: `y = x + d0 v`, renormalised to distance
/// `d0 = 1e-8 max(1, |x0|)` every `renormalize_every` steps (f64 only). A cross-check of
/// [`lyapunov_map`]'s first exponent that uses no Jacobian.
pub fn lambda_max_map(
    map: &dyn DiscreteMap,
    x0: ArrayView1<'_, f64>,
    inputs: ArrayView2<'_, f64>,
    params: &LyapunovParams,
) -> Result<f64> {
    let p = params.check()?;
    let n = map.state_dim();
    check_run(n, map.input_dim(), &x0, &inputs, &LyapunovParams { exponents: Some(1), ..p })?;
    let d0 = 1e-8 * x0.dot(&x0).sqrt().max(1.0);
    let mut x = x0.to_owned();
    let mut y = &x + &(random_frame(n, 1, p.seed)?.column(0).to_owned() * d0);
    let (mut xn, mut yn) = (Array1::zeros(n), Array1::zeros(n));
    let mut sum = 0.0;
    for t in 0..p.transient + p.steps {
        emt_core::interrupt::check("Lyapunov spectrum")?;
        let u = input_at(&inputs, t);
        map.step_into(x.view(), u, xn.view_mut())?;
        map.step_into(y.view(), u, yn.view_mut())?;
        std::mem::swap(&mut x, &mut xn);
        std::mem::swap(&mut y, &mut yn);
        let measure = t >= p.transient;
        if schedule(t, &p).1 {
            sum += renormalize_pair(&x, &mut y, d0, measure, t)?;
        }
    }
    Ok(sum / p.steps as f64)
}

/// `lambda_max` of a flow by two nearby RK4 trajectories (see [`lambda_max_map`]).
pub fn lambda_max_flow(
    flow: &dyn Flow,
    x0: ArrayView1<'_, f64>,
    inputs: ArrayView2<'_, f64>,
    params: &LyapunovParams,
) -> Result<f64> {
    let p = params.check()?;
    let n = flow.state_dim();
    check_run(n, flow.input_dim(), &x0, &inputs, &LyapunovParams { exponents: Some(1), ..p })?;
    let d0 = 1e-8 * x0.dot(&x0).sqrt().max(1.0);
    let mut x = x0.to_owned();
    let mut y = &x + &(random_frame(n, 1, p.seed)?.column(0).to_owned() * d0);
    let mut rk = Rk4::new(n, 1);
    let mut sum = 0.0;
    for t in 0..p.transient + p.steps {
        emt_core::interrupt::check("Lyapunov spectrum")?;
        let u = input_at(&inputs, t);
        rk.step(flow, &mut x, u, p.dt)?;
        rk.step(flow, &mut y, u, p.dt)?;
        let measure = t >= p.transient;
        if schedule(t, &p).1 {
            sum += renormalize_pair(&x, &mut y, d0, measure, t)?;
        }
    }
    Ok(sum / (p.steps as f64 * p.dt))
}

/// The spectrum of a map ([`lyapunov_map`]) or a flow ([`lyapunov_flow`]), whichever `system` is.
pub fn lyapunov_spectrum(
    system: crate::System<'_>,
    x0: ArrayView1<'_, f64>,
    inputs: ArrayView2<'_, f64>,
    params: &LyapunovParams,
) -> Result<LyapunovSpectrum> {
    match system {
        crate::System::Map(m) => lyapunov_map(m, x0, inputs, params),
        crate::System::Flow(f) => lyapunov_flow(f, x0, inputs, params),
    }
}

/// `lambda_max` by two nearby trajectories of a map ([`lambda_max_map`]) or a flow
/// ([`lambda_max_flow`]), whichever `system` is: the cross-check of [`lyapunov_spectrum`]'s first
/// exponent.
pub fn lambda_max(
    system: crate::System<'_>,
    x0: ArrayView1<'_, f64>,
    inputs: ArrayView2<'_, f64>,
    params: &LyapunovParams,
) -> Result<f64> {
    match system {
        crate::System::Map(m) => lambda_max_map(m, x0, inputs, params),
        crate::System::Flow(f) => lambda_max_flow(f, x0, inputs, params),
    }
}

/// Pulls `y` back to distance `d0` from `x`; returns `ln(|y - x| / d0)` if `measure`, else 0.
fn renormalize_pair(x: &Array1<f64>, y: &mut Array1<f64>, d0: f64, measure: bool, t: usize) -> Result<f64> {
    let diff = &*y - x;
    let dist = diff.dot(&diff).sqrt();
    if dist == 0.0 {
        // Not a divergence: the perturbed copy fell exactly onto the reference (a locally
        // constant map, or contraction past the smallest f64 within one interval).
        return Err(Error::param(
            "perturbation",
            d0,
            format!(
                "the perturbed trajectory fell exactly onto the reference one by step {t}: the largest exponent is \
                 too negative for the two-trajectory estimate (the map is locally constant or contracts below f64 \
                 resolution); use the Jacobian (QR) spectrum instead"
            ),
        ));
    }
    if !dist.is_finite() {
        return Err(Error::Diverged {
            step: t,
            reason: format!(
                "the distance between the reference and the perturbed trajectory became {dist} (the state overflowed)"
            ),
        });
    }
    *y = x + &(diff * (d0 / dist));
    Ok(if measure { (dist / d0).ln() } else { 0.0 })
}
