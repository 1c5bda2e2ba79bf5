//! What a run settles on (docs/DYNAMICS.md §4): a fixed point, a periodic orbit (maps) or limit
//! cycle (flows), an invariant circle of a map (quasi-periodic, with its rotation number), or
//! chaos (positive largest Lyapunov exponent), with the evidence.

use emt_core::{DiscreteMap, Error, Flow, Result, check};
use ndarray::{Array1, Array2, ArrayView1, Axis};
use num_complex::Complex64;

use crate::{CycleParams, Dopri5Params, LyapunovParams, System, dopri5, limit_cycle, lyapunov_flow, lyapunov_map};

/// The kinds of attractor told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttractorKind {
    /// The run stops moving.
    FixedPoint,
    /// A periodic orbit of a map, or a limit cycle of a flow.
    LimitCycle,
    /// A map's orbit on a closed curve without exact return (quasi-periodic).
    InvariantCircle,
    /// A positive largest Lyapunov exponent.
    Chaotic,
    /// None of the tests decided.
    Undecided,
}

impl AttractorKind {
    /// `"fixed_point"`, `"limit_cycle"`, `"invariant_circle"`, `"chaotic"` or `"undecided"`.
    pub fn name(self) -> &'static str {
        match self {
            AttractorKind::FixedPoint => "fixed_point",
            AttractorKind::LimitCycle => "limit_cycle",
            AttractorKind::InvariantCircle => "invariant_circle",
            AttractorKind::Chaotic => "chaotic",
            AttractorKind::Undecided => "undecided",
        }
    }
}

/// Settings of [`classify_attractor`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttractorParams {
    /// Steps (maps) or time (flows) run first.
    pub transient: f64,
    /// Steps (maps) or time (flows) examined.
    pub length: f64,
    /// Relative tolerance (of the attractor's size) for "returns" and "stops".
    pub tol: f64,
    /// Longest map period looked for.
    pub max_period: usize,
    /// Lyapunov exponent above which the run is chaotic (per step or per unit time).
    pub chaos_threshold: f64,
}

impl Default for AttractorParams {
    fn default() -> Self {
        AttractorParams { transient: 2_000.0, length: 2_000.0, tol: 1e-6, max_period: 200, chaos_threshold: 5e-3 }
    }
}

impl AttractorParams {
    /// The settings `emt cycle` uses for `system`: the defaults (2,000 + 2,000 steps) for a map,
    /// 200 + 200 time units for a flow (whose periods are a few to tens of time units).
    pub fn for_system(system: System<'_>) -> Self {
        match system {
            System::Map(_) => AttractorParams::default(),
            System::Flow(_) => AttractorParams { transient: 200.0, length: 200.0, ..Default::default() },
        }
    }
}

/// One period of the attractor of `model`'s run from `x0` under `u`, sampled by the cell's step
/// map `(steps, n)`, when the run settles on a limit cycle or an invariant circle
/// ([`AttractorParams::for_system`]); `None` otherwise. What figures draw as "the cycle".
///
/// ```
/// use emt_core::cells::{CtGruWeights, Model};
/// // The 2-D continuous-time GRU whose U_h = 4 R(pi/4) oscillates with period 12.8325.
/// let (c, s) = (4.0 * std::f64::consts::FRAC_PI_4.cos(), 4.0 * std::f64::consts::FRAC_PI_4.sin());
/// let mut w_hh = ndarray::Array2::<f64>::zeros((6, 2));
/// w_hh.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -s], [s, c]]);
/// let model = Model::CtGru(CtGruWeights::new(w_hh, None, None, 0.1, None)?);
/// let x0 = ndarray::array![0.05, 0.0];
/// let orbit = emt_dynamics::cycle_orbit(&model, x0.view(), ndarray::Array1::zeros(0).view())?.expect("a cycle");
/// assert_eq!(orbit.nrows(), 129); // ceil(12.8325 / 0.1) steps of dt = 0.1
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn cycle_orbit(
    model: &emt_core::cells::Model,
    x0: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
) -> Result<Option<Array2<f64>>> {
    use crate::AsSystem;
    let system = model.system()?;
    let a = classify_attractor(system, x0, u, &AttractorParams::for_system(system))?;
    let Some(period) = a.period else { return Ok(None) };
    if !matches!(a.kind, AttractorKind::LimitCycle | AttractorKind::InvariantCircle) {
        return Ok(None);
    }
    let steps = ((period / model.step_time()).ceil() as usize).clamp(2, 100_000);
    Ok(Some(crate::orbit(model.cell().map().as_ref(), a.state.view(), u, steps)?))
}

/// A classified attractor.
#[derive(Debug, Clone, PartialEq)]
pub struct Attractor {
    /// The kind.
    pub kind: AttractorKind,
    /// Period (steps for maps, time for flows) of a cycle; `1 / rotation number` for a circle.
    pub period: Option<f64>,
    /// Floquet multipliers, the trivial one excluded (flows) — or of the map's orbit.
    pub floquet: Vec<Complex64>,
    /// The flow's trivial multiplier (1 up to the discretisation).
    pub trivial_multiplier: Option<Complex64>,
    /// A map's rotation number in `[0, 1/2]` (invariant circles and periodic orbits on one).
    pub rotation_number: Option<f64>,
    /// The largest Lyapunov exponent measured on the run.
    pub lambda_max: f64,
    /// Variance fractions of the top principal components of the run.
    pub pc_variance: Vec<f64>,
    /// The final state.
    pub state: Array1<f64>,
    /// What decided it, in words.
    pub evidence: String,
}

fn samples_map(
    map: &dyn DiscreteMap,
    x0: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    transient: usize,
    length: usize,
) -> Result<Array2<f64>> {
    let n = map.state_dim();
    let (mut x, mut next) = (x0.to_owned(), Array1::zeros(n));
    let mut out = Array2::zeros((length, n));
    for t in 0..transient + length {
        emt_core::interrupt::check("attractor classification")?;
        map.step_into(x.view(), u, next.view_mut())?;
        std::mem::swap(&mut x, &mut next);
        if t >= transient {
            out.row_mut(t - transient).assign(&x);
        }
    }
    check::finite("trajectory", &out)
        .map_err(|_| Error::Diverged { step: transient + length, reason: "the run became non-finite".into() })?;
    Ok(out)
}

/// Rotation number in `[0, 1/2]` from the angle in the top-2 PCA plane, if the orbit winds
/// steadily around the centroid.
fn rotation(states: &Array2<f64>, pca: &emt_linalg::Pca) -> Option<f64> {
    if pca.components.nrows() < 2 {
        return None;
    }
    let centred = states - &pca.mean;
    let a = centred.dot(&pca.components.row(0));
    let b = centred.dot(&pca.components.row(1));
    let mut total = 0.0;
    let mut steps = Vec::with_capacity(a.len());
    for t in 1..a.len() {
        let d = (b[t].atan2(a[t]) - b[t - 1].atan2(a[t - 1]) + std::f64::consts::PI)
            .rem_euclid(2.0 * std::f64::consts::PI)
            - std::f64::consts::PI;
        total += d;
        steps.push(d);
    }
    let mean = total / steps.len() as f64;
    // Winding once around: every step turns the same way.
    if mean == 0.0 || steps.iter().any(|d| d.signum() != mean.signum()) {
        return None;
    }
    let rho = (mean.abs() / (2.0 * std::f64::consts::PI)).rem_euclid(1.0);
    Some(rho.min(1.0 - rho))
}

/// Classifies the attractor `system` reaches from `x0` under the constant input `u`.
pub fn classify_attractor(
    system: System<'_>,
    x0: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    params: &AttractorParams,
) -> Result<Attractor> {
    let p = *params;
    // One named parameter per error (a CLI user sees `--steps 0`, not a struct dump).
    if !(p.transient.is_finite() && p.transient >= 0.0) {
        return Err(Error::param("transient", p.transient, "must be finite and >= 0"));
    }
    if !(p.length.is_finite() && p.length > 0.0) {
        return Err(Error::param("length (steps)", p.length, "must be finite and > 0"));
    }
    if !(p.tol.is_finite() && p.tol > 0.0) {
        return Err(Error::param("tol", p.tol, "must be finite and > 0"));
    }
    match system {
        System::Map(m) => classify_map(m, x0, u, &p),
        System::Flow(f) => classify_flow(f, x0, u, &p),
    }
}

fn classify_map(
    map: &dyn DiscreteMap,
    x0: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    p: &AttractorParams,
) -> Result<Attractor> {
    let (transient, length) = (p.transient as usize, (p.length as usize).max(2 * p.max_period + 2));
    let states = samples_map(map, x0, u, transient, length)?;
    let pca = emt_linalg::pca(states.view(), 3)?;
    let pc_variance = pca.explained.to_vec();
    let size = pca.variance.sum().sqrt().max(states.row(length - 1).dot(&states.row(length - 1)).sqrt()).max(1e-12);
    let last = states.row(length - 1).to_owned();
    let lyap = lyapunov_map(
        map,
        last.view(),
        u.insert_axis(Axis(0)),
        &LyapunovParams { exponents: Some(1), steps: length, transient: 0, ..Default::default() },
    )?;
    let lambda_max = lyap.exponents[0];
    let base = Attractor {
        kind: AttractorKind::Undecided,
        period: None,
        floquet: vec![],
        trivial_multiplier: None,
        rotation_number: None,
        lambda_max,
        pc_variance,
        state: last.clone(),
        evidence: String::new(),
    };
    let gap = |k: usize| {
        (0..p.max_period)
            .map(|i| {
                (&states.row(length - 1 - i) - &states.row(length - 1 - i - k))
                    .mapv(f64::abs)
                    .fold(0.0f64, |a, &b| a.max(b))
            })
            .fold(0.0, f64::max)
    };
    if gap(1) < p.tol * size {
        let jac = map.jacobian(last.view(), u)?;
        return Ok(Attractor {
            kind: AttractorKind::FixedPoint,
            floquet: emt_linalg::eigenvalues(jac.view())?,
            evidence: format!("|x_(t+1) - x_t| < {:.1e} over {} steps", p.tol * size, p.max_period),
            ..base
        });
    }
    if let Some(k) = (2..=p.max_period).find(|&k| gap(k) < p.tol * size) {
        // Multipliers of the period-k orbit: eigenvalues of the product of k Jacobians.
        let mut prod = Array2::<f64>::eye(map.state_dim());
        let mut x = last.clone();
        for _ in 0..k {
            prod = map.jacobian(x.view(), u)?.dot(&prod);
            x = map.step(x.view(), u)?;
        }
        let rot = rotation(&states.slice(ndarray::s![length - 4 * k.min(length / 4)..length, ..]).to_owned(), &pca);
        return Ok(Attractor {
            kind: AttractorKind::LimitCycle,
            period: Some(k as f64),
            floquet: emt_linalg::eigenvalues(prod.view())?,
            rotation_number: rot,
            evidence: format!("exact return after {k} steps (tolerance {:.1e})", p.tol * size),
            ..base
        });
    }
    if lambda_max > p.chaos_threshold {
        return Ok(Attractor {
            kind: AttractorKind::Chaotic,
            evidence: format!("lambda_max = {lambda_max:.4} per step > {}", p.chaos_threshold),
            ..base
        });
    }
    if let Some(rho) = rotation(&states, &pca) {
        if lambda_max.abs() <= p.chaos_threshold {
            return Ok(Attractor {
                kind: AttractorKind::InvariantCircle,
                period: Some(1.0 / rho),
                rotation_number: Some(rho),
                evidence: format!(
                    "no return within {} steps; steady rotation {rho:.6} per step in the top-2 PCs; lambda_max {lambda_max:.1e}",
                    p.max_period
                ),
                ..base
            });
        }
    }
    Ok(Attractor {
        evidence: format!("no return within {} steps, no steady rotation, lambda_max {lambda_max:.1e}", p.max_period),
        ..base
    })
}

fn classify_flow(
    flow: &dyn Flow,
    x0: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    p: &AttractorParams,
) -> Result<Attractor> {
    let tight = Dopri5Params {
        rtol: 1e-10,
        atol: 1e-12,
        max_steps: Dopri5Params::budget_for(p.transient.max(p.length)),
        ..Default::default()
    };
    let (after, _) = dopri5(flow, x0, u, p.transient, &tight, |_| {})?;
    let mut samples = Vec::new();
    let every = p.length / 2000.0;
    let mut next_t = 0.0;
    let (end, _) = dopri5(flow, after.view(), u, p.length, &tight, |s| {
        while next_t <= s.t1 {
            samples.push(s.interpolate(next_t));
            next_t += every;
        }
    })?;
    let n = flow.state_dim();
    let states = Array2::from_shape_fn((samples.len(), n), |(i, j)| samples[i][j]);
    let pca = emt_linalg::pca(states.view(), 3)?;
    let pc_variance = pca.explained.to_vec();
    let speed = flow.field(end.view(), u)?;
    let size = pca.variance.sum().sqrt().max(end.dot(&end).sqrt()).max(1e-12);
    let lyap = lyapunov_flow(
        flow,
        end.view(),
        u.insert_axis(Axis(0)),
        &LyapunovParams {
            exponents: Some(1),
            steps: 20_000,
            transient: 0,
            dt: (p.length / 20_000.0).min(0.05),
            ..Default::default()
        },
    )?;
    let lambda_max = lyap.exponents[0];
    let base = Attractor {
        kind: AttractorKind::Undecided,
        period: None,
        floquet: vec![],
        trivial_multiplier: None,
        rotation_number: None,
        lambda_max,
        pc_variance,
        state: end.clone(),
        evidence: String::new(),
    };
    if speed.dot(&speed).sqrt() < p.tol * size.max(1.0) {
        let jac = flow.jacobian(end.view(), u)?;
        return Ok(Attractor {
            kind: AttractorKind::FixedPoint,
            floquet: emt_linalg::eigenvalues(jac.view())?,
            evidence: format!("|f(x)| = {:.1e} at the end", speed.dot(&speed).sqrt()),
            ..base
        });
    }
    if lambda_max > p.chaos_threshold {
        return Ok(Attractor {
            kind: AttractorKind::Chaotic,
            evidence: format!("lambda_max = {lambda_max:.4} per unit time > {}", p.chaos_threshold),
            ..base
        });
    }
    let cycle =
        limit_cycle(flow, end.view(), u, &CycleParams { transient: 0.0, search: p.length, ..Default::default() });
    match cycle {
        Ok(c) => Ok(Attractor {
            kind: AttractorKind::LimitCycle,
            period: Some(c.period),
            floquet: c.multipliers.clone(),
            trivial_multiplier: Some(c.trivial_multiplier),
            state: c.point.clone(),
            evidence: format!(
                "shooting closed the orbit to {:.1e} (section period {:.6}, shooting {:.6})",
                c.residual, c.section_period, c.period
            ),
            ..base
        }),
        Err(e) => Ok(Attractor {
            evidence: format!("no fixed point, lambda_max {lambda_max:.1e}, and no cycle: {e}"),
            ..base
        }),
    }
}
