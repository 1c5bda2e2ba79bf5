//! Limit cycles of flows: the period from a Poincaré section, refined by shooting, and Floquet
//! multipliers with the trivial one identified (docs/DYNAMICS.md §4).
//!
//! Shooting solves for `(x0, T)` by Newton on
//!
//! ```text
//! [ M - I      f(phi_T(x0)) ] [dx]     [ phi_T(x0) - x0    ]
//! [ f(x_s)^T   0            ] [dT] = - [ f(x_s).(x0 - x_s) ]
//! ```
//!
//! with `phi_T` and the monodromy `M = d phi_T / d x0` from RK4 with tangents over `steps`
//! equal steps of `T / steps`. The Floquet multipliers are `eig(M)`; the one whose eigenvector
//! is most parallel to `f(x0)` is the trivial multiplier (1 up to the discretisation: its
//! distance from 1 is reported as the accuracy) and stability is judged by the others.

use emt_core::{Error, Flow, Result, check};
use ndarray::{Array1, Array2, ArrayView1, s};
use num_complex::Complex64;

use crate::{Dopri5Params, Rk4, dopri5};

/// Settings of [`limit_cycle`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CycleParams {
    /// Time integrated first to reach the attractor.
    pub transient: f64,
    /// Time searched for section crossings after the transient.
    pub search: f64,
    /// RK4 steps per period in shooting.
    pub steps: usize,
    /// Newton iterations at most.
    pub max_iters: usize,
    /// Stop when `|phi_T(x0) - x0|` is below this.
    pub tol: f64,
}

impl Default for CycleParams {
    fn default() -> Self {
        CycleParams { transient: 200.0, search: 200.0, steps: 4000, max_iters: 30, tol: 1e-10 }
    }
}

/// A periodic orbit of a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitCycle {
    /// A point on the cycle.
    pub point: Array1<f64>,
    /// The period from shooting.
    pub period: f64,
    /// The period from the Poincaré section before shooting (the cross-check).
    pub section_period: f64,
    /// `|phi_T(x0) - x0|` at the end of shooting.
    pub residual: f64,
    /// The multiplier along the flow (1 for an exact orbit).
    pub trivial_multiplier: Complex64,
    /// The other multipliers, largest modulus first.
    pub multipliers: Vec<Complex64>,
    /// `ln|mu| / T` of the other multipliers.
    pub floquet_exponents: Vec<f64>,
    /// Whether every non-trivial multiplier lies inside the unit circle.
    pub stable: bool,
    /// `exp(integral of tr Df over a period)`: equals the product of all multipliers.
    pub liouville: f64,
}

fn period_from_section(flow: &dyn Flow, x: &mut Array1<f64>, u: ArrayView1<'_, f64>, p: &CycleParams) -> Result<f64> {
    let tight = Dopri5Params {
        rtol: 1e-11,
        atol: 1e-13,
        max_steps: Dopri5Params::budget_for(p.transient.max(p.search)),
        ..Default::default()
    };
    let (after, _) = dopri5(flow, x.view(), u, p.transient, &tight, |_| {})?;
    *x = after;
    let normal = flow.field(x.view(), u)?;
    if normal.dot(&normal).sqrt() < 1e-12 {
        return Err(Error::param("start", "a fixed point", "the run settled on an equilibrium, not a cycle"));
    }
    let origin = x.clone();
    let side = |y: &Array1<f64>| normal.dot(&(y - &origin));
    let mut crossings = Vec::new();
    dopri5(flow, x.view(), u, p.search, &tight, |st| {
        let (a0, a1) = (side(&st.x0.to_owned()), side(&st.x1.to_owned()));
        if a0 < 0.0 && a1 >= 0.0 {
            let (mut lo, mut hi) = (st.t0, st.t1);
            for _ in 0..60 {
                let m = 0.5 * (lo + hi);
                if side(&st.interpolate(m)) < 0.0 { lo = m } else { hi = m }
            }
            crossings.push(0.5 * (lo + hi));
        }
    })?;
    if crossings.len() < 2 {
        return Err(Error::param(
            "search",
            p.search,
            "too short to see the orbit return twice (no cycle, or a longer period)",
        ));
    }
    Ok((crossings[crossings.len() - 1] - crossings[0]) / (crossings.len() - 1) as f64)
}

/// `phi_T(x0)`, the monodromy and `integral tr Df` by RK4 with `steps` steps.
fn flow_map(
    flow: &dyn Flow,
    x0: &Array1<f64>,
    u: ArrayView1<'_, f64>,
    t: f64,
    steps: usize,
) -> Result<(Array1<f64>, Array2<f64>, f64)> {
    let n = x0.len();
    let mut x = x0.clone();
    let mut v = Array2::eye(n);
    let mut rk = Rk4::new(n, n);
    let h = t / steps as f64;
    let mut trace = 0.0;
    for _ in 0..steps {
        emt_core::interrupt::check("limit-cycle shooting")?;
        trace += h * rk.step_tangent(flow, &mut x, &mut v, u, h)?;
    }
    Ok((x, v, trace))
}

/// Finds the limit cycle the flow settles on from `x0` under the constant input `u`: the
/// period from a Poincaré section, refined by shooting, with Floquet multipliers.
///
/// ```
/// use emt_dynamics::{CycleParams, limit_cycle};
/// use emt_testkit::systems::StuartLandau;
/// // Radius 1, period 2 pi, nontrivial multiplier e^{-4 pi}.
/// let c = limit_cycle(&StuartLandau { l: 1.0, w: 1.0, q: 0.0 }, ndarray::array![0.3, 0.0].view(),
///     ndarray::Array1::zeros(0).view(), &CycleParams { transient: 20.0, search: 20.0, ..Default::default() })?;
/// assert!((c.period - 2.0 * std::f64::consts::PI).abs() < 1e-8 && c.stable);
/// assert!((c.multipliers[0].re - (-4.0 * std::f64::consts::PI).exp()).abs() < 1e-8);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn limit_cycle(
    flow: &dyn Flow,
    x0: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    params: &CycleParams,
) -> Result<LimitCycle> {
    let n = flow.state_dim();
    check::shape("x0", &x0, &[n])?;
    check::finite("x0", &x0)?;
    check::positive("steps", params.steps)?;
    let mut x = x0.to_owned();
    let section_period = period_from_section(flow, &mut x, u, params)?;
    let mut cycle = shoot(flow, x.view(), section_period, u, params)?;
    cycle.section_period = section_period;
    Ok(cycle)
}

/// Shooting from a guess `(x, t)` near a cycle: Newton on `(x0, T)` with the phase condition
/// anchored at the guess, then Floquet multipliers (see the module docs). `section_period` of
/// the result is the guess `t`.
pub fn shoot(
    flow: &dyn Flow,
    x_guess: ArrayView1<'_, f64>,
    t_guess: f64,
    u: ArrayView1<'_, f64>,
    params: &CycleParams,
) -> Result<LimitCycle> {
    let n = flow.state_dim();
    check::shape("x", &x_guess, &[n])?;
    check::finite("x", &x_guess)?;
    check::positive("steps", params.steps)?;
    if !(t_guess.is_finite() && t_guess > 0.0) {
        return Err(Error::param("period guess", t_guess, "must be finite and > 0"));
    }
    let mut x = x_guess.to_owned();
    let mut t = t_guess;
    let anchor = x.clone();
    let f_anchor = flow.field(anchor.view(), u)?;
    let mut residual = f64::INFINITY;
    let mut iterations = 0;
    for _ in 0..params.max_iters {
        emt_core::interrupt::check("limit-cycle shooting")?;
        iterations += 1;
        let (end, m, _) = flow_map(flow, &x, u, t, params.steps)?;
        let gap = &end - &x;
        residual = gap.dot(&gap).sqrt();
        if residual < params.tol {
            break;
        }
        let f_end = flow.field(end.view(), u)?;
        let mut a = Array2::zeros((n + 1, n + 1));
        a.slice_mut(s![..n, ..n]).assign(&(&m - &Array2::<f64>::eye(n)));
        a.slice_mut(s![..n, n]).assign(&f_end);
        a.slice_mut(s![n, ..n]).assign(&f_anchor);
        let mut rhs = Array1::zeros(n + 1);
        rhs.slice_mut(s![..n]).assign(&(-&gap));
        rhs[n] = -f_anchor.dot(&(&x - &anchor));
        let d = emt_linalg::solve_vec(a.view(), rhs.view())?;
        x += &d.slice(s![..n]);
        t += d[n];
        if !(t.is_finite() && t > 0.0) {
            return Err(Error::Diverged { step: 0, reason: format!("shooting drove the period to {t}") });
        }
    }
    if residual >= params.tol {
        return Err(Error::NotConverged {
            what: format!("limit-cycle shooting to |phi_T(x0) - x0| < tol = {:e}", params.tol),
            iterations: Some(iterations),
            residual: Some(residual),
        });
    }
    let (_, m, trace) = flow_map(flow, &x, u, t, params.steps)?;
    let eig = emt_linalg::eig(m.view())?;
    let f = flow.field(x.view(), u)?;
    let fnorm = f.dot(&f).sqrt().max(f64::MIN_POSITIVE);
    // The trivial multiplier's eigenvector is parallel to f(x0).
    let alignment = |k: usize| {
        let col = eig.vectors.column(k);
        let dot: Complex64 = col.iter().zip(f.iter()).map(|(z, &fi)| z.conj() * fi).sum();
        let norm = col.iter().map(|z| z.norm_sqr()).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
        dot.norm() / (norm * fnorm)
    };
    let trivial = (0..n).max_by(|&a, &b| alignment(a).total_cmp(&alignment(b))).unwrap_or(0);
    let mut others: Vec<Complex64> = (0..n).filter(|&k| k != trivial).map(|k| eig.values[k]).collect();
    others.sort_by(|a, b| b.norm().total_cmp(&a.norm()));
    let floquet_exponents = others.iter().map(|z| z.norm().ln() / t).collect();
    Ok(LimitCycle {
        point: x,
        period: t,
        section_period: t_guess,
        residual,
        trivial_multiplier: eig.values[trivial],
        stable: others.iter().all(|z| z.norm() < 1.0),
        multipliers: others,
        floquet_exponents,
        liouville: trace.exp(),
    })
}

/// The infinitesimal phase response curve of a flow's limit cycle (the adjoint method).
#[derive(Debug, Clone, PartialEq)]
pub struct AdjointPrc {
    /// Phases `2 pi t / T` from the cycle's `point` (phase 0), `(samples)`.
    pub phases: Vec<f64>,
    /// States on the cycle at those phases, `(samples, n)`.
    pub states: Array2<f64>,
    /// `Z` at those phases, `(samples, n)`: a small kick `eps e` shifts the phase by `eps Z.e`.
    pub z: Array2<f64>,
}

/// The adjoint PRC: the periodic solution of `dZ/dt = -Df(x_cyc(t))^T Z` with
/// `Z.f = 2 pi / T`, found by integrating backward in time over `periods` periods (the other
/// Floquet modes decay backward) with RK4 at `cycle.steps` steps per period, then sampled at
/// `samples` evenly spread phases.
///
/// ```
/// use emt_dynamics::{CycleParams, adjoint_prc, limit_cycle};
/// use emt_testkit::systems::StuartLandau;
/// let sl = StuartLandau { l: 1.0, w: 1.0, q: 0.0 };
/// let none = ndarray::Array1::zeros(0);
/// let c = limit_cycle(&sl, ndarray::array![0.3, 0.0].view(), none.view(), &CycleParams { transient: 20.0, search: 20.0, ..Default::default() })?;
/// let prc = adjoint_prc(&sl, &c, none.view(), 2000, 8, 16)?;
/// // On the unit circle x = (cos a, sin a) the PRC is (-sin a, cos a).
/// for (x, z) in prc.states.rows().into_iter().zip(prc.z.rows()) {
///     assert!((z[0] + x[1]).abs() < 1e-3 && (z[1] - x[0]).abs() < 1e-3);
/// }
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn adjoint_prc(
    flow: &dyn Flow,
    cycle: &LimitCycle,
    u: ArrayView1<'_, f64>,
    steps: usize,
    periods: usize,
    samples: usize,
) -> Result<AdjointPrc> {
    let n = flow.state_dim();
    check::positive("steps", steps)?;
    check::positive("periods", periods)?;
    check::positive("samples", samples)?;
    let t = cycle.period;
    let h = t / steps as f64;
    // The cycle at every half step (2 steps + 1 points), by RK4 with step h/2.
    let mut path = Array2::zeros((2 * steps + 1, n));
    let mut x = cycle.point.clone();
    path.row_mut(0).assign(&x);
    let mut rk = Rk4::new(n, 1);
    for i in 1..=2 * steps {
        rk.step(flow, &mut x, u, h / 2.0)?;
        path.row_mut(i).assign(&x);
    }
    let jt = |i: usize| -> Result<Array2<f64>> { Ok(flow.jacobian(path.row(i), u)?.reversed_axes()) };
    let f0 = flow.field(cycle.point.view(), u)?;
    let norm = |z: &mut Array1<f64>| -> Result<()> {
        let dot = z.dot(&f0);
        if dot.abs() < f64::MIN_POSITIVE {
            return Err(Error::singular("adjoint", "Z became orthogonal to the flow"));
        }
        *z *= 2.0 * std::f64::consts::PI / t / dot;
        Ok(())
    };
    let mut z = f0.clone();
    norm(&mut z)?;
    let mut stored = Array2::zeros((steps + 1, n));
    for pass in 0..periods {
        emt_core::interrupt::check("phase response")?;
        // Backward from t = T (index 2 steps) to t = 0: in reverse time s, dZ/ds = J(x(T - s))^T Z.
        stored.row_mut(steps).assign(&z);
        for k in (0..steps).rev() {
            let (a, m, b) = (jt(2 * k + 2)?, jt(2 * k + 1)?, jt(2 * k)?);
            let k1 = a.dot(&z);
            let k2 = m.dot(&(&z + &(&k1 * (h / 2.0))));
            let k3 = m.dot(&(&z + &(&k2 * (h / 2.0))));
            let k4 = b.dot(&(&z + &(&k3 * h)));
            z = &z + &((&k1 + &(&k2 * 2.0) + &(&k3 * 2.0) + &k4) * (h / 6.0));
            stored.row_mut(k).assign(&z);
        }
        if pass + 1 < periods {
            norm(&mut z)?;
        }
    }
    // Z.f is conserved along the adjoint: one normalisation fixes every stored sample.
    let scale = 2.0 * std::f64::consts::PI / t / stored.row(0).dot(&f0);
    let (mut phases, mut states, mut zs) = (Vec::new(), Array2::zeros((samples, n)), Array2::zeros((samples, n)));
    for s in 0..samples {
        let k = ((s as f64 * steps as f64 / samples as f64).round() as usize).min(steps);
        phases.push(2.0 * std::f64::consts::PI * k as f64 / steps as f64);
        states.row_mut(s).assign(&path.row(2 * k));
        zs.row_mut(s).assign(&(&stored.row(k) * scale));
    }
    Ok(AdjointPrc { phases, states, z: zs })
}
