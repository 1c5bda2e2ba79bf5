//! `emt sweep-param` as a library call: a model-file family swept along one scalar, with its
//! fixed points and bifurcations ([`sweep`]), the zero-input attractor at every value (kind,
//! period, the range of one coordinate over it), the law by which a cycle's period diverges where
//! it is lost ([`locate_cycle_loss`]), and optionally every first-value fixed point continued by
//! pseudo-arclength ([`continue_branch`]).

use emt_core::cells::Model;
use emt_core::{Error, Result};
use ndarray::{Array1, ArrayView1};

use crate::{
    AsSystem, AttractorKind, AttractorParams, Bifurcation, Branch, ContinuationParams, FixedPoint, FixedPointParams,
    PeriodDivergence, SeedParams, SweepParams, System, classify_attractor, continue_branch, find_fixed_points,
    locate_cycle_loss, orbit_range, seed_states, sweep,
};

/// Settings of [`parameter_sweep`]; [`Default`] is `emt sweep-param`'s (21 values from 0 to 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParameterSweepParams {
    /// Values (`from`, `to`, `values` >= 2 with the ends) and the bifurcations' tolerance.
    pub sweep: SweepParams,
    /// Random starting states of the fixed-point search at the first value (plus the `h0` given).
    pub starts: usize,
    /// Seed of those starts.
    pub seed: u64,
    /// State coordinate whose range over the attractor is reported.
    pub coord: usize,
    /// Steps (maps) or time (flows) the attractor run examines after its transient (default:
    /// [`AttractorParams::for_system`]; the transient becomes at least half of it).
    pub length: Option<f64>,
    /// Continue every fixed point of the first value by pseudo-arclength.
    pub continuation: bool,
}

impl Default for ParameterSweepParams {
    fn default() -> Self {
        ParameterSweepParams {
            sweep: SweepParams { from: 0.0, to: 1.0, values: 21, tol: 1e-8 },
            starts: 32,
            seed: 0,
            coord: 0,
            length: None,
            continuation: false,
        }
    }
}

/// One value of a [`ParameterSweep`].
#[derive(Debug, Clone, PartialEq)]
pub struct SweepValue {
    /// The parameter.
    pub parameter: f64,
    /// Its fixed points.
    pub fixed: Vec<FixedPoint>,
    /// What the zero-input run from `x0` settles on.
    pub attractor: AttractorKind,
    /// Its period (steps for maps, time for flows), if it has one.
    pub period: Option<f64>,
    /// `[min, max]` of the `coord`-th coordinate over one period (or 200 steps) of it.
    pub range: [f64; 2],
}

/// What [`parameter_sweep`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSweep {
    /// One entry per value, in sweep order.
    pub values: Vec<SweepValue>,
    /// Bifurcations located between values.
    pub bifurcations: Vec<Bifurcation>,
    /// Where a cycle is lost inside the range: the better of the SNIC and homoclinic laws.
    pub divergence: Option<PeriodDivergence>,
    /// Each first-value fixed point continued (empty unless asked).
    pub branches: Vec<Branch>,
}

/// The attractor of the zero-input run at one value: kind, period, range of `coord` over it.
fn attractor(
    model: &Model,
    x0: ArrayView1<'_, f64>,
    coord: usize,
    length: Option<f64>,
) -> Result<(AttractorKind, Option<f64>, [f64; 2])> {
    let system = model.system()?;
    let mut params = AttractorParams::for_system(system);
    if let Some(l) = length {
        params.length = l;
        params.transient = params.transient.max(l / 2.0);
    }
    let u = Array1::zeros(model.input_dim());
    let a = classify_attractor(system, x0, u.view(), &params)?;
    // The range over one period (or 200 steps) of the cell's step map from the final state.
    let steps = a.period.map_or(200, |p| ((p / model.step_time()).ceil() as usize).clamp(1, 100_000));
    let range = orbit_range(model.cell().map().as_ref(), a.state.view(), u.view(), steps, coord)?;
    Ok((a.kind, a.period, range))
}

/// Sweeps `family` (the model at each parameter value) under zero input: fixed points from
/// `params.starts` box starts plus `h0` and their trajectories (noise 0.02) at the first value,
/// continued value to value; the attractor of the run from `x0` at every value; the period
/// divergence where a cycle ends; the continuation if asked. Errors on a `coord` outside the
/// state, too few values, or a non-finite range.
///
/// ```
/// use emt_core::cells::{CtGruWeights, Model};
/// use emt_dynamics::{ParameterSweepParams, SweepParams, parameter_sweep};
/// // The 2-D continuous-time GRU with U_h = [[p, -b], [b, b]], b = 4 sin(pi/4): a Hopf point at
/// // p = 4 - 2 sqrt(2), a limit cycle above it.
/// let b = 4.0 * std::f64::consts::FRAC_PI_4.sin();
/// let family = |p: f64| -> emt_core::Result<Model> {
///     let mut w = ndarray::Array2::<f64>::zeros((6, 2));
///     w.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[p, -b], [b, b]]);
///     Ok(Model::CtGru(CtGruWeights::new(w, None, None, 0.1, None)?))
/// };
/// let params = ParameterSweepParams { sweep: SweepParams { from: 0.0, to: 2.5, values: 6, tol: 1e-8 }, ..Default::default() };
/// let s = parameter_sweep(family, ndarray::array![0.05, 0.0].view(), None, &params)?;
/// let hopf = s.bifurcations.iter().find(|b| b.name() == "hopf").expect("a Hopf point");
/// assert!((hopf.parameter() - (4.0 - 2.0 * 2f64.sqrt())).abs() < 1e-6);
/// assert_eq!(s.values.last().map(|v| v.attractor.name()), Some("limit_cycle"));
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn parameter_sweep(
    family: impl Fn(f64) -> Result<Model>,
    x0: ArrayView1<'_, f64>,
    h0: Option<ArrayView1<'_, f64>>,
    params: &ParameterSweepParams,
) -> Result<ParameterSweep> {
    let p = params.sweep;
    if p.values < 2 {
        return Err(Error::param("values", p.values, "must be at least 2"));
    }
    if !(p.from.is_finite() && p.to.is_finite()) || p.from == p.to {
        return Err(Error::param("from/to", format!("{} .. {}", p.from, p.to), "must be finite and differ"));
    }
    let model0 = family(p.from)?;
    let n = model0.state_dim();
    if params.coord >= n {
        return Err(Error::param("coord", params.coord, format!("the state has {n} coordinates")));
    }
    let u = Array1::zeros(model0.input_dim());
    let seed_params = SeedParams { starts: params.starts, noise: 0.02, seed: params.seed, ..Default::default() };
    let seeds = seed_states(model0.system()?, u.view(), h0, &seed_params)?.seeds;
    let swept = sweep(&family, u.view(), seeds.view(), &p)?;
    let flow = matches!(model0.system()?, System::Flow(_));
    let mut values = Vec::with_capacity(swept.points.len());
    let mut rows = Vec::with_capacity(swept.points.len());
    for pt in swept.points {
        emt_core::interrupt::check("parameter sweep")?;
        let model = family(pt.parameter)?;
        let (kind, period, range) = attractor(&model, x0, params.coord, params.length)?;
        let cycle = matches!(kind, AttractorKind::LimitCycle | AttractorKind::InvariantCircle);
        // The unstable eigenvalue of a saddle there (per unit time, or ln|mu| per step).
        let lambda_u = pt
            .fixed
            .iter()
            .filter(|f| f.unstable_dims == 1)
            .map(|f| {
                let z = f.leading_eigenvalue();
                if flow { z.re } else { z.norm().ln() }
            })
            .fold(f64::NAN, f64::max);
        rows.push((pt.parameter, if cycle { period } else { None }, lambda_u));
        values.push(SweepValue { parameter: pt.parameter, fixed: pt.fixed, attractor: kind, period, range });
    }
    let mut branches = Vec::new();
    if params.continuation {
        let (lo, hi) = (p.from.min(p.to), p.from.max(p.to));
        let ds = (hi - lo) / (4.0 * p.values as f64);
        let fps = find_fixed_points(model0.system()?, u.view(), seeds.view(), &FixedPointParams::default())?.fixed;
        for fp in &fps {
            let cp = ContinuationParams {
                ds: if p.to > p.from { ds } else { -ds },
                ds_max: 2.0 * ds,
                ds_min: ds * 1e-4,
                steps: 40 * p.values,
                p_min: lo,
                p_max: hi,
                tol: 1e-10,
            };
            branches.push(continue_branch(&family, u.view(), fp.state.view(), p.from, &cp)?);
        }
    }
    Ok(ParameterSweep { values, bifurcations: swept.bifurcations, divergence: locate_cycle_loss(&rows), branches })
}
