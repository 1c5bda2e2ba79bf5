//! One-parameter sweeps of fixed points, with saddle-node, Hopf, Neimark-Sacker and flip
//! points located (docs/DYNAMICS.md §6), for flows, maps and model files alike.
//!
//! At each parameter value the fixed points are found from the given seeds plus the previous
//! value's points (continuation). Between neighbouring values, along each continued branch, a
//! test function that changes sign is refined by bisection (the fixed point re-solved at each
//! midpoint) to `tol`:
//!
//! - **Hopf** (flows): the largest real part among complex-pair eigenvalues crosses 0; the
//!   pair's frequency `omega` there is reported.
//! - **Neimark-Sacker** (maps): the largest modulus among complex-pair multipliers crosses 1;
//!   the pair's angle `arg mu` (the rotation per step of the invariant circle born) is reported.
//! - **Flip** (maps): `det(DF + I)` changes sign, i.e. a real multiplier crosses -1 (complex
//!   pairs contribute `|mu + 1|^2 > 0`).
//! - **Saddle-node**: two points of one value have no continuation at the next (they vanish),
//!   or two new ones appear; located by Newton on `{res(x, p) = 0, det A(x, p) = 0}` in `(x, p)`
//!   with `A = Df` (flows) or `DF - I` (maps), from the two points' midpoint.

use emt_core::cells::Model;
use emt_core::{DiscreteMap, Error, Flow, Result, check};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, concatenate};
use num_complex::Complex;

use crate::{FixedPoint, FixedPointParams, NewtonParams, System, find_fixed_points};

/// Anything that is a map or a flow: the family a sweep varies returns one per parameter value.
pub trait AsSystem {
    /// The system to analyse.
    fn system(&self) -> Result<System<'_>>;
}

/// A [`DiscreteMap`] as a swept system.
#[derive(Debug, Clone)]
pub struct AsMap<M>(pub M);

/// A [`Flow`] as a swept system.
#[derive(Debug, Clone)]
pub struct AsFlow<F>(pub F);

impl<M: DiscreteMap> AsSystem for AsMap<M> {
    fn system(&self) -> Result<System<'_>> {
        Ok(System::Map(&self.0))
    }
}

impl<F: Flow> AsSystem for AsFlow<F> {
    fn system(&self) -> Result<System<'_>> {
        Ok(System::Flow(&self.0))
    }
}

/// A model file's model: its map (elman, gru, ctrnn, oscillator) or its flow (ctgru, gated).
impl AsSystem for Model {
    fn system(&self) -> Result<System<'_>> {
        match (self.as_map(), self.as_flow()) {
            (Some(m), _) => Ok(System::Map(m)),
            (None, Some(f)) => Ok(System::Flow(f)),
            (None, None) => Err(Error::param("cell", self.kind(), "is neither a map nor a flow")),
        }
    }
}

/// Settings of [`sweep`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepParams {
    /// First parameter value.
    pub from: f64,
    /// Last parameter value.
    pub to: f64,
    /// Values swept (`from` and `to` included), at least 2.
    pub values: usize,
    /// Parameter tolerance of the located bifurcations.
    pub tol: f64,
}

/// A located bifurcation.
#[derive(Debug, Clone, PartialEq)]
pub enum Bifurcation {
    /// Two fixed points meet and vanish (or are born) at `parameter`.
    SaddleNode {
        /// Critical parameter.
        parameter: f64,
        /// The fixed point where they meet.
        state: Array1<f64>,
    },
    /// Flows: a complex pair crosses the imaginary axis at `parameter` with frequency `omega`.
    Hopf {
        /// Critical parameter.
        parameter: f64,
        /// The fixed point.
        state: Array1<f64>,
        /// `|Im lambda|` of the crossing pair.
        omega: f64,
    },
    /// Maps: a complex pair of multipliers crosses the unit circle at angle `angle`.
    NeimarkSacker {
        /// Critical parameter.
        parameter: f64,
        /// The fixed point.
        state: Array1<f64>,
        /// `|arg mu|` of the crossing pair, in `(0, pi)`.
        angle: f64,
    },
    /// Maps: a real multiplier crosses -1 (period doubling).
    Flip {
        /// Critical parameter.
        parameter: f64,
        /// The fixed point.
        state: Array1<f64>,
    },
}

impl Bifurcation {
    /// `"saddle_node"`, `"hopf"`, `"neimark_sacker"` or `"flip"`.
    pub fn name(&self) -> &'static str {
        match self {
            Bifurcation::SaddleNode { .. } => "saddle_node",
            Bifurcation::Hopf { .. } => "hopf",
            Bifurcation::NeimarkSacker { .. } => "neimark_sacker",
            Bifurcation::Flip { .. } => "flip",
        }
    }

    /// The critical parameter.
    pub fn parameter(&self) -> f64 {
        match self {
            Bifurcation::SaddleNode { parameter, .. }
            | Bifurcation::Hopf { parameter, .. }
            | Bifurcation::NeimarkSacker { parameter, .. }
            | Bifurcation::Flip { parameter, .. } => *parameter,
        }
    }

    /// The fixed point at the bifurcation.
    pub fn state(&self) -> &Array1<f64> {
        match self {
            Bifurcation::SaddleNode { state, .. }
            | Bifurcation::Hopf { state, .. }
            | Bifurcation::NeimarkSacker { state, .. }
            | Bifurcation::Flip { state, .. } => state,
        }
    }
}

/// The fixed points at one parameter value.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    /// The parameter.
    pub parameter: f64,
    /// Fixed points there, classified.
    pub fixed: Vec<FixedPoint>,
}

/// A sweep's values and the bifurcations located between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// One entry per swept value.
    pub points: Vec<SweepPoint>,
    /// Bifurcations, in sweep order.
    pub bifurcations: Vec<Bifurcation>,
}

/// Which local bifurcations a branch can show, with their test functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    Hopf,
    NeimarkSacker,
    Flip,
}

impl Test {
    /// The test function; a sign change brackets the bifurcation. `None`: not applicable
    /// (e.g. no complex pair at this point).
    fn value(self, p: &FixedPoint) -> Option<f64> {
        let complex = p.eigenvalues.iter().filter(|z| z.im.abs() > 1e-8);
        match self {
            Test::Hopf => complex.map(|z| z.re).reduce(f64::max),
            Test::NeimarkSacker => complex.map(|z| z.norm() - 1.0).reduce(f64::max),
            Test::Flip => Some(p.eigenvalues.iter().fold(Complex::new(1.0, 0.0), |acc, z| acc * (z + 1.0)).re),
        }
    }

    fn found(self, parameter: f64, p: &FixedPoint) -> Bifurcation {
        let lead = p.eigenvalues.iter().filter(|z| z.im.abs() > 1e-8);
        let state = p.state.clone();
        match self {
            Test::Hopf => {
                let omega = lead.max_by(|s, t| s.re.total_cmp(&t.re)).map_or(0.0, |z| z.im.abs());
                Bifurcation::Hopf { parameter, state, omega }
            }
            Test::NeimarkSacker => {
                let angle = lead.max_by(|s, t| s.norm().total_cmp(&t.norm())).map_or(0.0, |z| z.arg().abs());
                Bifurcation::NeimarkSacker { parameter, state, angle }
            }
            Test::Flip => Bifurcation::Flip { parameter, state },
        }
    }
}

fn tests_for(system: &System<'_>) -> &'static [Test] {
    match system {
        System::Flow(_) => &[Test::Hopf],
        System::Map(_) => &[Test::NeimarkSacker, Test::Flip],
    }
}

fn solve_at<S: AsSystem>(
    family: &impl Fn(f64) -> Result<S>,
    p: f64,
    u: ArrayView1<'_, f64>,
    seeds: ArrayView2<'_, f64>,
) -> Result<Vec<FixedPoint>> {
    let s = family(p)?;
    Ok(find_fixed_points(s.system()?, u, seeds, &FixedPointParams::default())?.fixed)
}

fn nearest<'a>(points: &'a [FixedPoint], x: &Array1<f64>) -> Option<&'a FixedPoint> {
    points.iter().min_by(|a, b| dist(&a.state, x).total_cmp(&dist(&b.state, x)))
}

fn dist(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Sweeps `family(p)` (a map, a flow or a model for each parameter value) over the values of
/// `params`, under the constant input `u`, with fixed points from `seeds` `(S, n)` plus
/// continuation from the previous value.
///
/// ```
/// use emt_dynamics::{AsMap, Bifurcation, SweepParams, sweep};
/// use emt_testkit::systems::Logistic;
/// // x' = r x (1 - x): the fixed point 1 - 1/r has multiplier 2 - r, a flip at r = 3.
/// let params = SweepParams { from: 2.5, to: 3.5, values: 6, tol: 1e-9 };
/// let s = sweep(|r| Ok(AsMap(Logistic { r })), ndarray::Array1::zeros(0).view(),
///     ndarray::array![[0.3], [0.7]].view(), &params)?;
/// let flip = s.bifurcations.iter().find(|b| matches!(b, Bifurcation::Flip { .. })).expect("a flip");
/// assert!((flip.parameter() - 3.0).abs() < 1e-6 && (flip.state()[0] - 2.0 / 3.0).abs() < 1e-6);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn sweep<S: AsSystem>(
    family: impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    seeds: ArrayView2<'_, f64>,
    params: &SweepParams,
) -> Result<Sweep> {
    if params.values < 2 {
        return Err(Error::param("values", params.values, "must be at least 2"));
    }
    for (name, v) in [("from", params.from), ("to", params.to)] {
        if !v.is_finite() {
            return Err(Error::param(name, v, "must be finite"));
        }
    }
    if !(params.tol.is_finite() && params.tol > 0.0) {
        return Err(Error::param("tol", params.tol, "must be finite and > 0"));
    }
    check::finite("seeds", &seeds)?;
    let step = (params.to - params.from) / (params.values - 1) as f64;
    let mut points: Vec<SweepPoint> = Vec::new();
    let mut bifurcations = Vec::new();
    for k in 0..params.values {
        emt_core::interrupt::check("parameter sweep")?;
        let p = params.from + step * k as f64;
        let mut all = seeds.to_owned();
        if let Some(prev) = points.last() {
            for fp in &prev.fixed {
                all = concatenate(Axis(0), &[all.view(), fp.state.view().insert_axis(Axis(0))])
                    .map_err(|e| Error::shape("seeds", "(S, n)", e.to_string()))?;
            }
        }
        let fixed = solve_at(&family, p, u, all.view())?;
        if let Some(prev) = points.last() {
            locate(&family, u, prev, p, &fixed, params.tol, &mut bifurcations)?;
        }
        points.push(SweepPoint { parameter: p, fixed });
    }
    Ok(Sweep { points, bifurcations: distinct_sorted(bifurcations, params.tol) })
}

/// The bifurcations in parameter order, each once: the same point is found from both branches
/// of a saddle-node, or from two fixed points whose nearest successor is the same (the CLI
/// listed such points twice, unsorted). Same kind, parameters within `10 tol` (bisection
/// accuracy) and states within 1e-3 are one point.
fn distinct_sorted(mut found: Vec<Bifurcation>, tol: f64) -> Vec<Bifurcation> {
    found.sort_by(|a, b| a.parameter().total_cmp(&b.parameter()));
    let mut out: Vec<Bifurcation> = Vec::with_capacity(found.len());
    for b in found {
        let same = out.iter().any(|a| {
            a.name() == b.name()
                && (a.parameter() - b.parameter()).abs() <= 10.0 * tol
                && a.state().len() == b.state().len()
                && dist(a.state(), b.state()) < 1e-3
        });
        if !same {
            out.push(b);
        }
    }
    out
}

/// [`sweep`] for a family of flows.
///
/// ```
/// use emt_dynamics::{Bifurcation, SweepParams, sweep_flow};
/// use emt_testkit::systems::StuartLandau;
/// // Stuart-Landau with l = p: a Hopf bifurcation of the origin at p = 0 with frequency w = 1.
/// let params = SweepParams { from: -1.0, to: 1.0, values: 9, tol: 1e-9 };
/// let sweep = sweep_flow(|p| Ok(StuartLandau { l: p, w: 1.0, q: 0.0 }), ndarray::Array1::zeros(0).view(),
///     ndarray::array![[0.1, 0.1]].view(), &params)?;
/// let Bifurcation::Hopf { parameter, omega, .. } = &sweep.bifurcations[0] else { panic!("not a Hopf point") };
/// assert!(parameter.abs() < 1e-6 && (omega - 1.0).abs() < 1e-6);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn sweep_flow<F: Flow>(
    family: impl Fn(f64) -> Result<F>,
    u: ArrayView1<'_, f64>,
    seeds: ArrayView2<'_, f64>,
    params: &SweepParams,
) -> Result<Sweep> {
    sweep(|p| family(p).map(AsFlow), u, seeds, params)
}

/// [`sweep`] for a family of maps.
pub fn sweep_map<M: DiscreteMap>(
    family: impl Fn(f64) -> Result<M>,
    u: ArrayView1<'_, f64>,
    seeds: ArrayView2<'_, f64>,
    params: &SweepParams,
) -> Result<Sweep> {
    sweep(|p| family(p).map(AsMap), u, seeds, params)
}

fn locate<S: AsSystem>(
    family: &impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    prev: &SweepPoint,
    p: f64,
    fixed: &[FixedPoint],
    tol: f64,
    out: &mut Vec<Bifurcation>,
) -> Result<()> {
    let tests = tests_for(&family(p)?.system()?);
    // Local bifurcations along each continued branch.
    for a in &prev.fixed {
        let Some(b) = nearest(fixed, &a.state) else { continue };
        for &test in tests {
            let (Some(ta), Some(tb)) = (test.value(a), test.value(b)) else { continue };
            if (ta < 0.0) == (tb < 0.0) {
                continue;
            }
            let (mut lo, mut hi, mut last) = (prev.parameter, p, a.clone());
            while (hi - lo).abs() > tol {
                let mid = 0.5 * (lo + hi);
                let seed = last.state.view().insert_axis(Axis(0));
                let Some(fp) = solve_at(family, mid, u, seed)?.into_iter().next() else { break };
                match test.value(&fp) {
                    Some(v) if (v < 0.0) == (ta < 0.0) => lo = mid,
                    Some(_) => hi = mid,
                    None => break,
                }
                last = fp;
            }
            out.push(test.found(0.5 * (lo + hi), &last));
        }
    }
    // Saddle-node: two points without continuation on one side (vanishing going forward, or
    // born). At the critical value a double root may remain, so counts need not differ by two.
    let unmatched = |from: &[FixedPoint], to: &[FixedPoint]| -> Vec<Array1<f64>> {
        from.iter()
            .filter(|a| nearest(to, &a.state).is_none_or(|b| dist(&a.state, &b.state) > 1e-3))
            .map(|a| a.state.clone())
            .collect()
    };
    for (gone, p_start) in [(unmatched(&prev.fixed, fixed), prev.parameter), (unmatched(fixed, &prev.fixed), p)] {
        if gone.len() >= 2 {
            let guess = (&gone[0] + &gone[1]) * 0.5;
            if let Some((state, parameter)) = fold_newton(family, u, guess, p_start, tol)? {
                if parameter >= prev.parameter.min(p) - tol && parameter <= prev.parameter.max(p) + tol {
                    out.push(Bifurcation::SaddleNode { parameter, state });
                }
            }
        }
    }
    Ok(())
}

/// `[res(x, p); det A(x, p)]`, with `A = Df` (flow) or `DF - I` (map).
pub(crate) fn fold_system<S: AsSystem>(
    family: &impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    y: &Array1<f64>,
) -> Result<Array1<f64>> {
    let n = y.len() - 1;
    let s = family(y[n])?;
    let system = s.system()?;
    let x = y.slice(ndarray::s![..n]).to_owned();
    let (mut res, mut a) = (Array1::zeros(n), Array2::zeros((n, n)));
    system.residual(&x, u, &mut res, &mut a)?;
    // det A as the product of the eigenvalues (real for a real matrix).
    let det = emt_linalg::eigenvalues(a.view())?.iter().fold(Complex::new(1.0, 0.0), |acc, z| acc * z).re;
    let mut out = Array1::zeros(n + 1);
    out.slice_mut(ndarray::s![..n]).assign(&res);
    out[n] = det;
    Ok(out)
}

/// Newton on `G(x, p) = [res(x, p); det A(x, p)]` with a central-difference Jacobian: full
/// steps until the correction is below `tol / 100`, 50 at most; `None` if it does not converge.
pub(crate) fn fold_newton<S: AsSystem>(
    family: &impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    x0: Array1<f64>,
    p0: f64,
    tol: f64,
) -> Result<Option<(Array1<f64>, f64)>> {
    let n = x0.len();
    let mut y = Array1::zeros(n + 1);
    y.slice_mut(ndarray::s![..n]).assign(&x0);
    y[n] = p0;
    let eval = |y: ArrayView1<'_, f64>| -> Result<(Array1<f64>, Array2<f64>)> {
        let y = y.to_owned();
        let gy = fold_system(family, u, &y)?;
        let mut jac = Array2::zeros((n + 1, n + 1));
        for k in 0..=n {
            let h = 1e-7 * y[k].abs().max(1.0);
            let (mut yp, mut ym) = (y.clone(), y.clone());
            yp[k] += h;
            ym[k] -= h;
            jac.column_mut(k).assign(&((fold_system(family, u, &yp)? - fold_system(family, u, &ym)?) / (2.0 * h)));
        }
        Ok((gy, jac))
    };
    if tol.is_nan() || tol <= 0.0 {
        // No step can be shorter than 0: this Newton could not converge.
        return Ok(None);
    }
    let p = NewtonParams {
        tol_residual: 0.0,
        tol_step: tol * 1e-2,
        max_iters: 50,
        line_search: false,
        ..Default::default()
    };
    let out = crate::newton(eval, y, &p)?;
    Ok(out.converged().then(|| (out.x.slice(ndarray::s![..n]).to_owned(), out.x[n])))
}

/// How a cycle's period diverges at a global bifurcation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Divergence {
    /// A saddle-node on the cycle (SNIC): `T ~ C (p - p_c)^(-1/2)`, so `1/T^2` is linear in `p`.
    SaddleNodeOnCycle,
    /// A homoclinic orbit to a saddle with unstable eigenvalue `lambda_u`:
    /// `T ~ -(1/lambda_u) ln|p - p_c| + C`, so `exp(-lambda_u T)` is linear in `p`.
    Homoclinic {
        /// The saddle's unstable eigenvalue (> 0).
        lambda_u: f64,
    },
}

/// The critical value from periods `periods[i]` measured at `params[i]` approaching it:
/// the root of the least-squares line through the linearised periods (docs/DYNAMICS.md §6), with
/// the fit's largest relative residual as a quality measure.
///
/// ```
/// use emt_dynamics::{Divergence, fit_period_divergence};
/// // dtheta/dt = p - sin(theta): a SNIC at p_c = 1 with T = 2 pi / sqrt(p^2 - 1).
/// let ps: Vec<f64> = (1..=8).map(|k| 1.0 + 1e-4 * k as f64).collect();
/// let ts: Vec<f64> = ps.iter().map(|p| 2.0 * std::f64::consts::PI / (p * p - 1.0f64).sqrt()).collect();
/// let (p_c, residual) = fit_period_divergence(&ps, &ts, Divergence::SaddleNodeOnCycle)?;
/// assert!((p_c - 1.0).abs() < 1e-6 && residual < 1e-3);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn fit_period_divergence(params: &[f64], periods: &[f64], kind: Divergence) -> Result<(f64, f64)> {
    if params.len() != periods.len() || params.len() < 3 {
        return Err(Error::shape(
            "periods",
            format!("{} values, at least 3", params.len()),
            format!("{}", periods.len()),
        ));
    }
    if let Some(t) = periods.iter().find(|t| !(t.is_finite() && **t > 0.0)) {
        return Err(Error::param("period", t, "must be finite and > 0"));
    }
    let ys: Vec<f64> = match kind {
        Divergence::SaddleNodeOnCycle => periods.iter().map(|t| 1.0 / (t * t)).collect(),
        Divergence::Homoclinic { lambda_u } => {
            if !(lambda_u.is_finite() && lambda_u > 0.0) {
                return Err(Error::param("lambda_u", lambda_u, "must be finite and > 0"));
            }
            periods.iter().map(|t| (-lambda_u * t).exp()).collect()
        }
    };
    let n = params.len() as f64;
    let (mx, my) = (params.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let sxx: f64 = params.iter().map(|p| (p - mx).powi(2)).sum();
    let sxy: f64 = params.iter().zip(&ys).map(|(p, y)| (p - mx) * (y - my)).sum();
    if sxx == 0.0 || sxy == 0.0 {
        return Err(Error::singular("period fit", "the parameters or the linearised periods do not vary"));
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let scale = ys.iter().fold(0.0f64, |m, y| m.max(y.abs()));
    let residual = params.iter().zip(&ys).map(|(p, y)| (intercept + slope * p - y).abs()).fold(0.0, f64::max) / scale;
    Ok((-intercept / slope, residual))
}

/// One fit of [`PeriodDivergence`].
#[derive(Debug, Clone, PartialEq)]
pub struct DivergenceFit {
    /// Which law.
    pub kind: Divergence,
    /// The critical parameter.
    pub critical: f64,
    /// The fit's largest relative residual.
    pub residual: f64,
}

/// Where a family of cycles is lost with a growing period ([`locate_cycle_loss`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodDivergence {
    /// The better fit (smaller residual).
    pub best: DivergenceFit,
    /// Every law that could be fitted: the saddle-node on the cycle always, the homoclinic one
    /// when a saddle with `lambda_u > 0` is known at the edge.
    pub fits: Vec<DivergenceFit>,
    /// The parameters used (the up to 6 cycles nearest the loss).
    pub parameters: Vec<f64>,
    /// Their periods.
    pub periods: Vec<f64>,
}

impl Divergence {
    /// `"saddle_node_on_cycle"` or `"homoclinic"`.
    pub fn name(&self) -> &'static str {
        match self {
            Divergence::SaddleNodeOnCycle => "saddle_node_on_cycle",
            Divergence::Homoclinic { .. } => "homoclinic",
        }
    }
}

/// Along a sweep, `rows[i] = (parameter, period if the attractor is a cycle, lambda_u of a
/// saddle there or NaN)` in sweep order: where the cycles end with a growing period, fits the
/// divergence ([`fit_period_divergence`]) on the up to 6 cycles nearest that end, by both laws
/// where it can, and keeps the better. `None` when fewer than 4 values have cycles, when no end
/// of the cycle range borders a value without one while its period grows towards it, or when no
/// fit succeeds.
///
/// ```
/// use emt_dynamics::locate_cycle_loss;
/// // A SNIC at p_c = 1, T = 2 pi / sqrt(p^2 - 1), swept down through it.
/// let rows: Vec<(f64, Option<f64>, f64)> = (0..14)
///     .map(|k| 1.2 - 0.02 * k as f64)
///     .map(|p| (p, (p > 1.0).then(|| 2.0 * std::f64::consts::PI / (p * p - 1.0).sqrt()), f64::NAN))
///     .collect();
/// let d = locate_cycle_loss(&rows).expect("a fit");
/// assert_eq!(d.best.kind.name(), "saddle_node_on_cycle");
/// assert!((d.best.critical - 1.0).abs() < 3e-3);
/// ```
pub fn locate_cycle_loss(rows: &[(f64, Option<f64>, f64)]) -> Option<PeriodDivergence> {
    let cycles: Vec<(usize, f64)> = rows.iter().enumerate().filter_map(|(i, r)| r.1.map(|t| (i, t))).collect();
    if cycles.len() < 4 {
        return None;
    }
    // Which end of the cycle range borders the loss of the cycle with growing period?
    let (first, last) = (cycles[0].0, cycles[cycles.len() - 1].0);
    let grows_up = cycles[cycles.len() - 1].1 > cycles[cycles.len() - 2].1 && last + 1 < rows.len();
    let grows_down = cycles[0].1 > cycles[1].1 && first > 0;
    let take: Vec<(usize, f64)> = if grows_up && (!grows_down || cycles[cycles.len() - 1].1 >= cycles[0].1) {
        cycles[cycles.len().saturating_sub(6)..].to_vec()
    } else if grows_down {
        cycles[..6.min(cycles.len())].to_vec()
    } else {
        return None;
    };
    let (parameters, periods): (Vec<f64>, Vec<f64>) = take.iter().map(|&(i, t)| (rows[i].0, t)).unzip();
    let mut fits = Vec::new();
    let mut fit = |kind: Divergence| {
        if let Ok((critical, residual)) = fit_period_divergence(&parameters, &periods, kind) {
            fits.push(DivergenceFit { kind, critical, residual });
        }
    };
    fit(Divergence::SaddleNodeOnCycle);
    let edge = if grows_up { take[take.len() - 1].0 } else { take[0].0 };
    let lambda_u = rows[edge].2;
    if lambda_u.is_finite() && lambda_u > 0.0 {
        fit(Divergence::Homoclinic { lambda_u });
    }
    // The first fit wins ties (the saddle-node law when both fit equally well).
    let best = fits.iter().fold(None::<&DivergenceFit>, |b, f| match b {
        Some(b) if !f.residual.lt(&b.residual) => Some(b),
        _ => Some(f),
    })?;
    Some(PeriodDivergence { best: best.clone(), fits: fits.clone(), parameters, periods })
}

/// The orbit `(steps, n)` of `map` from `x` under the constant input `u`: `x` and the next
/// `steps - 1` states (e.g. one period of a cycle, for drawing it).
pub fn orbit(
    map: &dyn emt_core::DiscreteMap,
    x: ndarray::ArrayView1<'_, f64>,
    u: ndarray::ArrayView1<'_, f64>,
    steps: usize,
) -> Result<ndarray::Array2<f64>> {
    emt_core::check::shape("x", &x, &[map.state_dim()])?;
    let mut out = ndarray::Array2::zeros((steps, x.len()));
    let mut x = x.to_owned();
    for (k, mut row) in out.rows_mut().into_iter().enumerate() {
        row.assign(&x);
        if k + 1 < steps {
            emt_core::interrupt::check("orbit")?;
            x = map.step(x.view(), u)?;
        }
    }
    Ok(out)
}

/// The range `[min, max]` of coordinate `coord` over `steps` steps of `map` from `x` under the
/// constant input `u` (`x` included): an attractor's extent, e.g. a cycle's min and max for a
/// bifurcation diagram. Errors on a bad `coord` or a step that fails.
pub fn orbit_range(
    map: &dyn emt_core::DiscreteMap,
    x: ndarray::ArrayView1<'_, f64>,
    u: ndarray::ArrayView1<'_, f64>,
    steps: usize,
    coord: usize,
) -> Result<[f64; 2]> {
    if coord >= x.len() {
        return Err(Error::param("coord", coord, format!("must be < the state dimension {}", x.len())));
    }
    let mut x = x.to_owned();
    let (mut lo, mut hi) = (x[coord], x[coord]);
    for _ in 0..steps {
        emt_core::interrupt::check("orbit range")?;
        x = map.step(x.view(), u)?;
        lo = lo.min(x[coord]);
        hi = hi.max(x[coord]);
    }
    Ok([lo, hi])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cycles everywhere, or too few of them: nothing diverges inside the range.
    #[test]
    fn no_cycle_loss_without_an_end_or_enough_cycles() {
        let rows: Vec<(f64, Option<f64>, f64)> = (0..10).map(|k| (k as f64, Some(5.0 + k as f64), f64::NAN)).collect();
        assert!(locate_cycle_loss(&rows).is_none());
        let few: Vec<(f64, Option<f64>, f64)> =
            (0..10).map(|k| (k as f64, (k < 3).then_some(9.0 - k as f64), f64::NAN)).collect();
        assert!(locate_cycle_loss(&few).is_none());
    }

    /// A homoclinic loss (T = -ln(p_c - p) / lambda_u + C) with its saddle known: the homoclinic
    /// law fits better than the saddle-node one and finds p_c.
    #[test]
    fn a_homoclinic_loss_prefers_the_homoclinic_law() {
        let lambda_u = 0.8;
        let rows: Vec<(f64, Option<f64>, f64)> = (0..14)
            .map(|k| 0.9 + 0.009 * k as f64)
            .map(|p: f64| (p, (p < 1.0).then(|| -(1.0 - p).ln() / lambda_u + 2.0), lambda_u))
            .collect();
        let d = locate_cycle_loss(&rows).expect("a fit");
        assert_eq!(d.fits.len(), 2);
        assert_eq!(d.best.kind.name(), "homoclinic");
        assert!((d.best.critical - 1.0).abs() < 1e-9, "{d:?}");
    }

    /// A rotation by 2 pi / 8 on the unit circle: over 8 steps from (1, 0) the first coordinate
    /// spans [-1, 1]; a coordinate beyond the state is refused by name.
    #[test]
    fn orbit_range_of_a_rotation() {
        let a = std::f64::consts::FRAC_PI_4;
        let w = ndarray::array![[a.cos(), -a.sin()], [a.sin(), a.cos()]];
        let net = emt_core::ElmanWeights::new(w, ndarray::Array2::zeros((2, 1)), ndarray::Array2::zeros((1, 2)))
            .unwrap()
            .with_activation(emt_core::Activation::Identity);
        let (x, u) = (ndarray::array![1.0, 0.0], ndarray::array![0.0]);
        let [lo, hi] = orbit_range(&net, x.view(), u.view(), 8, 0).unwrap();
        assert!((lo + 1.0).abs() < 1e-12 && (hi - 1.0).abs() < 1e-12, "{lo} {hi}");
        assert_eq!(orbit_range(&net, x.view(), u.view(), 0, 1).unwrap(), [0.0, 0.0]);
        let o = orbit(&net, x.view(), u.view(), 9).unwrap();
        assert_eq!(o.dim(), (9, 2));
        assert!((&o.row(8) - &x).iter().all(|v| v.abs() < 1e-12), "8 steps are one turn");
        assert!(orbit(&net, ndarray::array![1.0].view(), u.view(), 3).is_err());
        assert!(orbit_range(&net, x.view(), u.view(), 8, 2).unwrap_err().to_string().contains("coord"));
    }

    #[test]
    fn bifurcations_are_sorted_and_each_listed_once() {
        let at = |p: f64, x: f64| Bifurcation::SaddleNode { parameter: p, state: ndarray::array![x] };
        let hopf = Bifurcation::Hopf { parameter: 0.5, state: ndarray::array![0.0], omega: 1.0 };
        let found = vec![at(2.0, 1.0), hopf.clone(), at(1.0, 0.0), at(2.0 + 1e-10, 1.0), at(2.0, -1.0)];
        let out = distinct_sorted(found, 1e-9);
        let seen: Vec<(&str, f64)> = out.iter().map(|b| (b.name(), b.parameter())).collect();
        assert_eq!(seen, [("hopf", 0.5), ("saddle_node", 1.0), ("saddle_node", 2.0), ("saddle_node", 2.0)]);
        assert_eq!(out[2].state()[0] * out[3].state()[0], -1.0, "two saddle-nodes at one value, apart in state");
    }
}
