//! One-parameter sweeps of a flow's fixed points, with saddle-node and Hopf points located
//! (DYNAMICS.md §6).
//!
//! At each parameter value the fixed points are found from the given seeds plus the previous
//! value's points (continuation). Between neighbouring values:
//!
//! - **Hopf**: on a continued branch, the largest real part among complex-pair eigenvalues
//!   changes sign; the crossing is bisected (the fixed point re-solved at each midpoint) to
//!   `tol`, and the pair's frequency there reported.
//! - **Saddle-node**: the number of fixed points drops by two (two branches meet and vanish);
//!   the point is located by Newton on `{f(x, p) = 0, det D_x f(x, p) = 0}` in `(x, p)` from the
//!   two vanishing points' midpoint.

use emt_core::{Error, Flow, Result, check};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, concatenate};
use num_complex::Complex;

use crate::{FixedPoint, FixedPointParams, System, find_fixed_points};

/// Settings of [`sweep_flow`].
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
    /// Two fixed points meet and vanish at `parameter`.
    SaddleNode {
        /// Critical parameter.
        parameter: f64,
        /// The fixed point where they meet.
        state: Array1<f64>,
    },
    /// A complex pair crosses the imaginary axis at `parameter` with frequency `omega`.
    Hopf {
        /// Critical parameter.
        parameter: f64,
        /// The fixed point.
        state: Array1<f64>,
        /// `|Im lambda|` of the crossing pair.
        omega: f64,
    },
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

/// Largest real part among complex-pair eigenvalues (`-inf` if none).
fn hopf_test(p: &FixedPoint) -> f64 {
    p.eigenvalues.iter().filter(|z| z.im.abs() > 1e-8).map(|z| z.re).fold(f64::NEG_INFINITY, f64::max)
}

fn solve_at<F: Flow>(
    family: &impl Fn(f64) -> Result<F>,
    p: f64,
    u: ArrayView1<'_, f64>,
    seeds: ArrayView2<'_, f64>,
) -> Result<Vec<FixedPoint>> {
    let flow = family(p)?;
    Ok(find_fixed_points(System::Flow(&flow), u, seeds, &FixedPointParams::default())?.fixed)
}

fn nearest<'a>(points: &'a [FixedPoint], x: &Array1<f64>) -> Option<&'a FixedPoint> {
    points.iter().min_by(|a, b| dist(&a.state, x).total_cmp(&dist(&b.state, x)))
}

fn dist(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Sweeps `family(p)` (a flow for each parameter value) over `params`, under the constant input
/// `u`, with fixed points from `seeds` `(S, n)` plus continuation.
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
    if params.values < 2 {
        return Err(Error::param("values", params.values, "must be at least 2"));
    }
    if !(params.from.is_finite() && params.to.is_finite() && params.tol > 0.0) {
        return Err(Error::param("sweep", format!("{params:?}"), "needs finite ends and tol > 0"));
    }
    check::finite("seeds", &seeds)?;
    let step = (params.to - params.from) / (params.values - 1) as f64;
    let mut points: Vec<SweepPoint> = Vec::new();
    let mut bifurcations = Vec::new();
    for k in 0..params.values {
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
    Ok(Sweep { points, bifurcations })
}

fn locate<F: Flow>(
    family: &impl Fn(f64) -> Result<F>,
    u: ArrayView1<'_, f64>,
    prev: &SweepPoint,
    p: f64,
    fixed: &[FixedPoint],
    tol: f64,
    out: &mut Vec<Bifurcation>,
) -> Result<()> {
    // Hopf along each continued branch.
    for a in &prev.fixed {
        let Some(b) = nearest(fixed, &a.state) else { continue };
        let (ha, hb) = (hopf_test(a), hopf_test(b));
        if ha.is_finite() && hb.is_finite() && (ha < 0.0) != (hb < 0.0) {
            let (mut lo, mut hi, mut x) = (prev.parameter, p, a.state.clone());
            let mut last = a.clone();
            while (hi - lo).abs() > tol {
                let mid = 0.5 * (lo + hi);
                let Some(fp) = solve_at(family, mid, u, x.view().insert_axis(Axis(0)))?.into_iter().next() else {
                    break;
                };
                if (hopf_test(&fp) < 0.0) == (ha < 0.0) {
                    lo = mid
                } else {
                    hi = mid
                }
                x = fp.state.clone();
                last = fp;
            }
            let omega = last
                .eigenvalues
                .iter()
                .filter(|z| z.im.abs() > 1e-8)
                .max_by(|s, t| s.re.total_cmp(&t.re))
                .map_or(0.0, |z| z.im.abs());
            out.push(Bifurcation::Hopf { parameter: 0.5 * (lo + hi), state: x, omega });
        }
    }
    // Saddle-node: two points of the previous value have no continuation (they may leave a
    // double root behind exactly at the critical value, so the count need not drop by two).
    if prev.fixed.len() > fixed.len() {
        let vanished: Vec<&FixedPoint> = prev
            .fixed
            .iter()
            .filter(|a| nearest(fixed, &a.state).is_none_or(|b| dist(&a.state, &b.state) > 1e-3))
            .collect();
        if vanished.len() >= 2 {
            let guess = (&vanished[0].state + &vanished[1].state) * 0.5;
            if let Some((state, parameter)) = fold_newton(family, u, guess, prev.parameter, tol)? {
                out.push(Bifurcation::SaddleNode { parameter, state });
            }
        }
    }
    Ok(())
}

/// Newton on `G(x, p) = [f(x, p); det D_x f(x, p)]` with a central-difference Jacobian.
fn fold_newton<F: Flow>(
    family: &impl Fn(f64) -> Result<F>,
    u: ArrayView1<'_, f64>,
    x0: Array1<f64>,
    p0: f64,
    tol: f64,
) -> Result<Option<(Array1<f64>, f64)>> {
    let n = x0.len();
    let g = |y: &Array1<f64>| -> Result<Array1<f64>> {
        let flow = family(y[n])?;
        let x = y.slice(ndarray::s![..n]);
        let f = flow.field(x, u)?;
        // det D_x f as the product of the eigenvalues (real for a real matrix).
        let det = emt_linalg::eigenvalues(flow.jacobian(x, u)?.view())?
            .iter()
            .fold(Complex::new(1.0, 0.0), |acc, z| acc * z)
            .re;
        let mut out = Array1::zeros(n + 1);
        out.slice_mut(ndarray::s![..n]).assign(&f);
        out[n] = det;
        Ok(out)
    };
    let mut y = Array1::zeros(n + 1);
    y.slice_mut(ndarray::s![..n]).assign(&x0);
    y[n] = p0;
    for _ in 0..50 {
        let gy = g(&y)?;
        let mut jac = Array2::zeros((n + 1, n + 1));
        for k in 0..=n {
            let h = 1e-7 * y[k].abs().max(1.0);
            let (mut yp, mut ym) = (y.clone(), y.clone());
            yp[k] += h;
            ym[k] -= h;
            jac.column_mut(k).assign(&((g(&yp)? - g(&ym)?) / (2.0 * h)));
        }
        let Ok(d) = emt_linalg::solve_vec(jac.view(), gy.view()) else { return Ok(None) };
        y -= &d;
        if d.iter().map(|v| v.abs()).fold(0.0, f64::max) < tol * 1e-2 {
            return Ok(Some((y.slice(ndarray::s![..n]).to_owned(), y[n])));
        }
    }
    Ok(None)
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
/// the root of the least-squares line through the linearised periods (DYNAMICS.md §6), with
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
