//! The dynamical-systems instruments (emt-dynamics) on a `Model`: each function makes the same
//! library calls with the same settings as the `emt` command of the same name, so a Python call
//! and the CLI give the same numbers for the same file and seeds.

use emt::core::cells::{CellKind, Model as CellModel};
use emt::core::io::{ParamPath, Tensors};
use emt::core::{Error, Flow, check};
use emt::dynamics::{
    AsSystem, Attractor, AttractorKind, AttractorParams, CertifiedParams, CycleParams, FixedPoint, FixedPointParams,
    Interval, LyapunovParams, ParameterSweepParams, PhaseParams, SeedParams, Stability, SweepParams, System,
    box_half_width, classify_attractor, find_fixed_points_per_input, limit_cycle, parameter_sweep, phase_response_map,
    seed_states,
};
use emt::ndarray::{Array1, Array2, Array3, ArrayView1, Axis};
use num_complex::Complex64;
use numpy::{IntoPyArray, PyArray2, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArrayDyn};
use pyo3::prelude::*;
use pyo3::types::{PyAny, PyDict, PyList};

use crate::errors::{IntoPy, param};
use crate::model::Model;
use crate::run::{detached, detached_progress};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(find_fixed_points, m)?)?;
    m.add_function(wrap_pyfunction!(sample_states, m)?)?;
    m.add_function(wrap_pyfunction!(lyapunov_spectrum, m)?)?;
    m.add_function(wrap_pyfunction!(lambda_max, m)?)?;
    m.add_function(wrap_pyfunction!(classify_attractor_py, m)?)?;
    m.add_function(wrap_pyfunction!(limit_cycle_py, m)?)?;
    m.add_function(wrap_pyfunction!(phase_response, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_py, m)?)?;
    m.add_function(wrap_pyfunction!(certified_fixed_points, m)?)?;
    Ok(())
}

/// Builds a dict from `key => value` pairs.
macro_rules! dict {
    ($py:expr, { $($k:literal => $v:expr),* $(,)? }) => {{
        let d = PyDict::new($py);
        $( d.set_item($k, $v)?; )*
        d
    }};
}
pub(crate) use dict;

fn threads_or_all(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `u` `(d_in)` or zeros.
fn input_or_zero(model: &Model, u: Option<PyReadonlyArray1<'_, f64>>) -> Array1<f64> {
    u.map_or_else(|| Array1::zeros(model.file.model.input_dim()), |u| u.as_array().to_owned())
}

/// `x0` `(n)` or the file's start state (its h0, else a seeded small state).
fn start_or(model: &Model, x0: Option<PyReadonlyArray1<'_, f64>>, seed: u64) -> Array1<f64> {
    x0.map_or_else(|| model.file.start_state(seed), |x| x.as_array().to_owned())
}

fn complex_rows(rows: &[&Vec<Complex64>], n: usize) -> Array2<Complex64> {
    let mut out = Array2::from_elem((rows.len(), n), Complex64::new(f64::NAN, f64::NAN));
    for (mut o, r) in out.rows_mut().into_iter().zip(rows) {
        for (slot, z) in o.iter_mut().zip(r.iter()) {
            *slot = *z;
        }
    }
    out
}

/// The arrays of a list of points (each with its input), FixedPointFinder's names.
fn points_dict<'py>(
    py: Python<'py>,
    system: System<'_>,
    points: &[(&FixedPoint, &Array1<f64>)],
    n: usize,
    d: usize,
    jacobians: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let k = points.len();
    let mut xstar = Array2::zeros((k, n));
    let mut inputs = Array2::zeros((k, d));
    let mut j_xstar = Array3::zeros((if jacobians { k } else { 0 }, n, n));
    for (i, (p, u)) in points.iter().enumerate() {
        xstar.row_mut(i).assign(&p.state);
        inputs.row_mut(i).assign(*u);
        if jacobians {
            let j = match system {
                System::Map(m) => m.jacobian(p.state.view(), u.view()),
                System::Flow(f) => f.jacobian(p.state.view(), u.view()),
            }
            .py()?;
            j_xstar.index_axis_mut(Axis(0), i).assign(&j);
        }
    }
    let eig: Vec<&Vec<Complex64>> = points.iter().map(|(p, _)| &p.eigenvalues).collect();
    let vectors = points.iter().all(|(p, _)| p.eigenvectors.ncols() == n) && k > 0;
    let mut eigvec = Array3::from_elem((if vectors { k } else { 0 }, n, n), Complex64::default());
    if vectors {
        for (i, (p, _)) in points.iter().enumerate() {
            eigvec.index_axis_mut(Axis(0), i).assign(&p.eigenvectors);
        }
    }
    let col = |f: &dyn Fn(&FixedPoint) -> f64| Array1::from_iter(points.iter().map(|(p, _)| f(p)));
    let flag = |s: Stability| points.iter().map(|(p, _)| p.stability == s).collect::<Vec<bool>>();
    Ok(dict!(py, {
        "xstar" => xstar.into_pyarray(py),
        "inputs" => inputs.into_pyarray(py),
        "qstar" => col(&|p| p.q).into_pyarray(py),
        "speed" => col(&|p| p.speed).into_pyarray(py),
        "unstable_dims" => points.iter().map(|(p, _)| p.unstable_dims).collect::<Vec<usize>>(),
        "is_stable" => flag(Stability::Stable),
        "is_marginal" => flag(Stability::Marginal),
        "eigval_J_xstar" => complex_rows(&eig, n).into_pyarray(py),
        "eigvec_J_xstar" => vectors.then(|| eigvec.into_pyarray(py)),
        "J_xstar" => jacobians.then(|| j_xstar.into_pyarray(py)),
    }))
}

/// Fixed and slow points (see `emt.find_fixed_points`).
#[pyfunction]
#[pyo3(signature = (
    model, initial_states=None, inputs=None, *, tol_q=1e-12, tol_dq=1e-20, max_iters=5000, tol_unique=1e-3,
    outlier_distance_scale=10.0, boundary_tol=1e-6, reduce=true, compute_jacobians=true,
    decompose_jacobians=true, n_inits=None, steps=200, noise_scale=0.05, seed=0, threads=None, progress=None
))]
#[allow(clippy::too_many_arguments)]
fn find_fixed_points<'py>(
    py: Python<'py>,
    model: &Model,
    initial_states: Option<PyReadonlyArray2<'py, f64>>,
    inputs: Option<PyReadonlyArray2<'py, f64>>,
    tol_q: f64,
    tol_dq: f64,
    max_iters: usize,
    tol_unique: f64,
    outlier_distance_scale: f64,
    boundary_tol: f64,
    reduce: bool,
    compute_jacobians: bool,
    decompose_jacobians: bool,
    n_inits: Option<usize>,
    steps: usize,
    noise_scale: f64,
    seed: u64,
    threads: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let m = &model.file.model;
    let (n, d) = (m.state_dim(), m.input_dim());
    let system = m.system().py()?;
    let inputs = inputs.map_or_else(|| Array2::zeros((1, d)), |u| u.as_array().to_owned());
    let given = initial_states.as_ref().map(|s| s.as_array());
    let threads = threads_or_all(threads);
    let params = FixedPointParams {
        tol_q,
        tol_dq,
        max_iters,
        tol_unique,
        outlier_distance_scale,
        boundary_tol,
        threads,
        eigenvectors: decompose_jacobians,
        reduce,
    };
    let h0 = model.file.h0.as_ref().map(|h| h.view());
    let work = || {
        check::finite("inputs", &inputs)?;
        // The recipe actually used, when it was scaled down from the default (n_inits not given).
        let mut scaled = None;
        let (starts, seeds, bound) = match given {
            Some(states) => {
                check::shape("initial_states", &states, &[states.nrows(), n])?;
                check::finite("initial_states", &states)?;
                (states.to_owned(), states.to_owned(), box_half_width(system, inputs.row(0)))
            }
            None if inputs.nrows() > 1 => {
                return Err(Error::param(
                    "inputs",
                    format!("{} rows", inputs.nrows()),
                    "one input per seed needs the seeds too: give initial_states (or one input row for all)",
                ));
            }
            None => {
                let chosen =
                    SeedParams { starts: n_inits.unwrap_or(64), steps, noise: noise_scale, seed, ..Default::default() };
                // As `emt fixed-points`: the default recipe shrinks with the cube of the unknowns.
                let p = if n_inits.is_some() {
                    chosen
                } else {
                    let (p, note) = chosen.scaled_with_note(system.search_dim());
                    scaled = note.map(|note| format!("{note}; pass n_inits to choose"));
                    p
                };
                check::shape("inputs", &inputs, &[1, d])?;
                let s = seed_states(system, inputs.row(0), h0, &p)?;
                (s.starts, s.seeds, s.bound)
            }
        };
        let groups = find_fixed_points_per_input(system, inputs.view(), seeds.view(), &params)?;
        Ok((groups, starts, bound, scaled))
    };
    let (groups, starts, bound, scaled) = detached_progress(py, work, progress.as_ref())?;
    let gather = |slow: bool| -> Vec<(&FixedPoint, &Array1<f64>)> {
        groups.iter().flat_map(|(u, g)| (if slow { &g.slow } else { &g.fixed }).iter().map(move |p| (p, u))).collect()
    };
    let total = |f: &dyn Fn(&emt::dynamics::FixedPoints) -> usize| groups.iter().map(|(_, g)| f(g)).sum::<usize>();
    Ok(dict!(py, {
        "fixed" => points_dict(py, system, &gather(false), n, d, compute_jacobians)?,
        "slow" => points_dict(py, system, &gather(true), n, d, compute_jacobians)?,
        "n_outliers" => total(&|g| g.outliers),
        "n_saturated" => total(&|g| g.saturated),
        "n_out_of_bounds" => total(&|g| g.out_of_bounds),
        "n_seeds" => total(&|g| g.seeds),
        "n_inputs" => groups.len(),
        "seeding_note" => scaled,
        "starts" => starts.into_pyarray(py),
        "bound" => bound,
        "is_flow" => matches!(system, System::Flow(_)),
        "cell" => m.kind().name(),
    }))
}

/// FixedPointFinder's `sample_states` (see `emt.sample_states`).
#[pyfunction]
#[pyo3(signature = (states, n_inits, noise_scale=0.0, seed=0))]
fn sample_states<'py>(
    py: Python<'py>,
    states: PyReadonlyArrayDyn<'py, f64>,
    n_inits: usize,
    noise_scale: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let s = emt::dynamics::sample_states(states.as_array(), n_inits, noise_scale, seed).py()?;
    Ok(s.into_pyarray(py))
}

fn lyapunov_params(
    k: Option<usize>,
    steps: usize,
    transient: usize,
    dt: f64,
    renormalize_every: usize,
    seed: u64,
) -> LyapunovParams {
    LyapunovParams { exponents: k, steps, transient, renormalize_every, dt, seed, ..Default::default() }
}

/// The Lyapunov spectrum (see `emt.lyapunov_spectrum`).
#[pyfunction]
#[pyo3(signature = (model, x0=None, inputs=None, *, k=None, steps=10_000, transient=1_000, dt=0.01, renormalize_every=1, seed=0))]
#[allow(clippy::too_many_arguments)]
fn lyapunov_spectrum<'py>(
    py: Python<'py>,
    model: &Model,
    x0: Option<PyReadonlyArray1<'py, f64>>,
    inputs: Option<PyReadonlyArray2<'py, f64>>,
    k: Option<usize>,
    steps: usize,
    transient: usize,
    dt: f64,
    renormalize_every: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let m = &model.file.model;
    let x0 = start_or(model, x0, seed);
    let inputs = inputs.map_or_else(|| Array2::zeros((1, m.input_dim())), |u| u.as_array().to_owned());
    let params = lyapunov_params(k, steps, transient, dt, renormalize_every, seed);
    let system = m.system().py()?;
    let s = detached(py, || emt::dynamics::lyapunov_spectrum(system, x0.view(), inputs.view(), &params))?;
    let times: Vec<f64> = s.trace.iter().map(|t| t.time).collect();
    let kk = s.exponents.len();
    let trace =
        Array2::from_shape_fn((s.trace.len(), kk), |(i, j)| s.trace[i].exponents.get(j).copied().unwrap_or(f64::NAN));
    Ok(dict!(py, {
        "exponents" => s.exponents.clone(),
        "time_unit" => s.time_unit.name(),
        "kaplan_yorke" => s.kaplan_yorke.value(),
        "sum" => s.sum(),
        "sum_rule_reference" => s.sum_rule.map(|r| r.reference),
        "trace_times" => times,
        "trace" => trace.into_pyarray(py),
        "final_state" => s.final_state.clone().into_pyarray(py),
        "cell" => m.kind().name(),
    }))
}

/// `lambda_max` by two nearby trajectories (see `emt.lambda_max`).
#[pyfunction]
#[pyo3(signature = (model, x0=None, inputs=None, *, steps=10_000, transient=1_000, dt=0.01, renormalize_every=1, seed=0))]
#[allow(clippy::too_many_arguments)]
fn lambda_max(
    py: Python<'_>,
    model: &Model,
    x0: Option<PyReadonlyArray1<'_, f64>>,
    inputs: Option<PyReadonlyArray2<'_, f64>>,
    steps: usize,
    transient: usize,
    dt: f64,
    renormalize_every: usize,
    seed: u64,
) -> PyResult<f64> {
    let m = &model.file.model;
    let x0 = start_or(model, x0, seed);
    let inputs = inputs.map_or_else(|| Array2::zeros((1, m.input_dim())), |u| u.as_array().to_owned());
    let params = lyapunov_params(None, steps, transient, dt, renormalize_every, seed);
    let system = m.system().py()?;
    detached(py, || emt::dynamics::lambda_max(system, x0.view(), inputs.view(), &params))
}

/// `emt cycle`'s settings ([`AttractorParams::for_system`]) with `transient` / `length` given.
fn attractor_params(system: System<'_>, transient: Option<f64>, length: Option<f64>) -> AttractorParams {
    let defaults = AttractorParams::for_system(system);
    AttractorParams {
        transient: transient.unwrap_or(defaults.transient),
        length: length.unwrap_or(defaults.length),
        ..defaults
    }
}

fn complex_list(z: &[Complex64]) -> Vec<(f64, f64)> {
    z.iter().map(|z| (z.re, z.im)).collect()
}

fn attractor_dict<'py>(py: Python<'py>, a: &Attractor, flow: bool, cell: CellKind) -> PyResult<Bound<'py, PyDict>> {
    Ok(dict!(py, {
        "kind" => a.kind.name(),
        "period" => a.period,
        "floquet" => complex_list(&a.floquet),
        "pc_variance" => a.pc_variance.clone(),
        "trivial_multiplier" => a.trivial_multiplier.map(|z| (z.re, z.im)),
        "rotation_number" => a.rotation_number,
        "lambda_max" => a.lambda_max,
        "state" => a.state.clone().into_pyarray(py),
        "time_unit" => if flow { "time" } else { "step" },
        "cell" => cell.name(),
        "evidence" => a.evidence.clone(),
    }))
}

/// What the run settles on (see `emt.classify_attractor`).
#[pyfunction(name = "classify_attractor")]
#[pyo3(signature = (model, x0=None, u=None, *, transient=None, length=None, seed=0))]
fn classify_attractor_py<'py>(
    py: Python<'py>,
    model: &Model,
    x0: Option<PyReadonlyArray1<'py, f64>>,
    u: Option<PyReadonlyArray1<'py, f64>>,
    transient: Option<f64>,
    length: Option<f64>,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let m = &model.file.model;
    let system = m.system().py()?;
    let flow = matches!(system, System::Flow(_));
    let (x0, u) = (start_or(model, x0, seed), input_or_zero(model, u));
    let params = attractor_params(system, transient, length);
    let a = detached(py, || classify_attractor(system, x0.view(), u.view(), &params))?;
    attractor_dict(py, &a, flow, m.kind())
}

/// A flow's limit cycle by shooting (see `emt.limit_cycle`).
#[pyfunction(name = "limit_cycle")]
#[pyo3(signature = (model, x0=None, u=None, *, transient=200.0, search=200.0, steps=4000, max_iters=30, tol=1e-10, seed=0))]
#[allow(clippy::too_many_arguments)]
fn limit_cycle_py<'py>(
    py: Python<'py>,
    model: &Model,
    x0: Option<PyReadonlyArray1<'py, f64>>,
    u: Option<PyReadonlyArray1<'py, f64>>,
    transient: f64,
    search: f64,
    steps: usize,
    max_iters: usize,
    tol: f64,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let m = &model.file.model;
    let flow: &dyn Flow = m.as_flow().ok_or_else(|| {
        param("model", m.kind().name(), "is a map: limit_cycle shoots flows (ctgru, gated); use classify_attractor")
    })?;
    let (x0, u) = (start_or(model, x0, seed), input_or_zero(model, u));
    let params = CycleParams { transient, search, steps, max_iters, tol };
    let c = detached(py, || limit_cycle(flow, x0.view(), u.view(), &params))?;
    Ok(dict!(py, {
        "point" => c.point.clone().into_pyarray(py),
        "period" => c.period,
        "section_period" => c.section_period,
        "residual" => c.residual,
        "trivial_multiplier" => (c.trivial_multiplier.re, c.trivial_multiplier.im),
        "multipliers" => complex_list(&c.multipliers),
        "floquet_exponents" => c.floquet_exponents.clone(),
        "stable" => c.stable,
        "liouville" => c.liouville,
    }))
}

/// Phase response curves of pulses (see `emt.phase_response`).
#[pyfunction]
#[pyo3(signature = (model, pulses, *, pulse_steps=2, arrivals=16, transient=2000, seed=0))]
fn phase_response<'py>(
    py: Python<'py>,
    model: &Model,
    pulses: std::collections::BTreeMap<String, PyReadonlyArray1<'py, f64>>,
    pulse_steps: usize,
    arrivals: usize,
    transient: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let m = &model.file.model;
    let d = m.input_dim();
    let symbols: Vec<(String, ArrayView1<'_, f64>)> = pulses.iter().map(|(k, v)| (k.clone(), v.as_array())).collect();
    if symbols.is_empty() {
        return Err(param("pulses", "{}", "give at least one pulse (name -> (d_in,) array)"));
    }
    let x0 = model.file.start_state(seed);
    let map = model.map();
    let map = map.as_ref();
    let (kind, period, curves) = detached(py, || {
        for (name, p) in &symbols {
            check::shape(name, p, &[d])?;
            check::finite(name, p)?;
        }
        let zero = Array1::zeros(d);
        let params = AttractorParams { transient: transient as f64, ..Default::default() };
        let orbit = classify_attractor(System::Map(map), x0.view(), zero.view(), &params)?;
        let period = match (orbit.kind, orbit.period) {
            (AttractorKind::LimitCycle | AttractorKind::InvariantCircle, Some(p)) if p >= 2.0 => p,
            _ => {
                return Err(Error::param(
                    "model",
                    m.kind(),
                    format!("the zero-input run settles on no oscillation ({}: {})", orbit.kind.name(), orbit.evidence),
                ));
            }
        };
        let phase = PhaseParams { pulse_steps, arrivals, ..Default::default() };
        let mut curves = Vec::new();
        for (name, pulse) in &symbols {
            curves.push((name.clone(), phase_response_map(map, orbit.state.view(), period, *pulse, &phase)?));
        }
        Ok((orbit.kind, period, curves))
    })?;
    let out = PyDict::new(py);
    for (name, c) in curves {
        out.set_item(
            name,
            dict!(py, {
                "phases" => c.phases.clone(),
                "shifts" => c.shifts.clone(),
                "mean" => c.mean,
                "resultant" => c.resultant,
                "spread" => c.spread,
            }),
        )?;
    }
    Ok(dict!(py, { "kind" => kind.name(), "period" => period, "curves" => out, "cell" => m.kind().name() }))
}

/// `emt sweep-param` (see `emt.sweep`): fixed points, bifurcations, attractors along one
/// parameter.
#[pyfunction(name = "sweep")]
#[pyo3(signature = (model, param, start, stop, values=21, *, tol=1e-8, starts=32, seed=0, coord=0, length=None, continuation=false))]
#[allow(clippy::too_many_arguments)]
fn sweep_py<'py>(
    py: Python<'py>,
    model: &Model,
    param: &str,
    start: f64,
    stop: f64,
    values: usize,
    tol: f64,
    starts: usize,
    seed: u64,
    coord: usize,
    length: Option<f64>,
    continuation: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let file = &model.file;
    let params = ParameterSweepParams {
        sweep: SweepParams { from: start, to: stop, values, tol },
        starts,
        seed,
        coord,
        length,
        continuation,
    };
    let (swept, original) = detached(py, || {
        let tensors = Tensors::from_bytes(&file.to_bytes()?, "model")?;
        let target = ParamPath::parse(param, &tensors)?;
        let at = |v: f64| -> emt::core::Result<CellModel> {
            Ok(emt::core::cells::ModelFile::from_tensors(&target.set(&tensors, v)?)?.model)
        };
        let x0 = file.start_state(seed);
        let swept = parameter_sweep(at, x0.view(), file.h0.as_ref().map(|h| h.view()), &params)?;
        Ok((swept, target.get(&tensors)))
    })?;
    let rows = PyList::empty(py);
    for v in &swept.values {
        let fixed = PyList::empty(py);
        for f in &v.fixed {
            let z = f.leading_eigenvalue();
            fixed.append(dict!(py, {
                "state" => f.state.clone().into_pyarray(py),
                "stable" => f.stability == Stability::Stable,
                "unstable_dims" => f.unstable_dims,
                "leading_eigenvalue" => (z.re, z.im),
            }))?;
        }
        rows.append(dict!(py, {
            "parameter" => v.parameter,
            "fixed_points" => fixed,
            "attractor" => v.attractor.name(),
            "period" => v.period,
            "range" => (v.range[0], v.range[1]),
        }))?;
    }
    let found = PyList::empty(py);
    for b in &swept.bifurcations {
        let entry = dict!(py, {
            "kind" => b.name(),
            "parameter" => b.parameter(),
            "state" => b.state().clone().into_pyarray(py),
        });
        match b {
            emt::dynamics::Bifurcation::Hopf { omega, .. } => entry.set_item("omega", *omega)?,
            emt::dynamics::Bifurcation::NeimarkSacker { angle, .. } => entry.set_item("angle", *angle)?,
            _ => {}
        }
        found.append(entry)?;
    }
    let divergence = match &swept.divergence {
        Some(d) => {
            let fits = PyDict::new(py);
            for f in &d.fits {
                let fit = dict!(py, { "critical" => f.critical, "residual" => f.residual });
                if let emt::dynamics::Divergence::Homoclinic { lambda_u } = f.kind {
                    fit.set_item("lambda_u", lambda_u)?;
                }
                fits.set_item(f.kind.name(), fit)?;
            }
            Some(dict!(py, {
                "kind" => d.best.kind.name(), "critical" => d.best.critical, "residual" => d.best.residual,
                "fits" => fits, "periods" => d.periods.clone(), "parameters" => d.parameters.clone(),
            }))
        }
        None => None,
    };
    let branches = PyList::empty(py);
    for b in &swept.branches {
        let n = b.points.first().map_or(0, |q| q.state.len());
        let mut states = Array2::zeros((b.points.len(), n));
        for (mut row, q) in states.rows_mut().into_iter().zip(&b.points) {
            row.assign(&q.state);
        }
        branches.append(dict!(py, {
            "parameters" => b.points.iter().map(|q| q.parameter).collect::<Vec<f64>>(),
            "states" => states.into_pyarray(py),
            "stable" => b.points.iter().map(|q| q.stable).collect::<Vec<bool>>(),
            "folds" => b.folds.iter().map(|f| f.parameter()).collect::<Vec<f64>>(),
            "end" => format!("{:?}", b.end),
        }))?;
    }
    Ok(dict!(py, {
        "points" => rows, "bifurcations" => found, "original" => original, "param" => param,
        "period_divergence" => divergence, "branches" => branches,
    }))
}

/// Every fixed point of a 2-D continuous-time GRU in [-1, 1]^2, proven by interval arithmetic
/// (see `emt.certified_fixed_points`).
#[pyfunction]
#[pyo3(signature = (model, u=None, *, max_boxes=200_000, min_width=1e-9))]
fn certified_fixed_points<'py>(
    py: Python<'py>,
    model: &Model,
    u: Option<PyReadonlyArray1<'py, f64>>,
    max_boxes: usize,
    min_width: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let m = &model.file.model;
    let CellModel::CtGru(net) = m else {
        return Err(param("model", m.kind().name(), "the certified census needs a ctgru (its interval field)"));
    };
    let u = input_or_zero(model, u);
    let n = Flow::state_dim(net);
    let (zeros, stable, undecided, boxes, complete) = detached(py, || {
        let field = emt::dynamics::CtGruField::new(net, u.view())?;
        let params = CertifiedParams { max_boxes, min_width, ..Default::default() };
        let found = emt::dynamics::certified_zeros(&field, &vec![Interval::new(-1.0, 1.0); n], &params)?;
        let mut zeros = Array2::zeros((found.zeros.len(), n));
        let mut stable = Vec::new();
        for (i, z) in found.zeros.iter().enumerate() {
            zeros.row_mut(i).assign(&z.point);
            let jac = net.jacobian(z.point.view(), u.view())?;
            stable.push(emt::linalg::eigenvalues(jac.view())?.iter().all(|z| z.re < 0.0));
        }
        Ok((zeros, stable, found.undecided.len(), found.boxes, found.complete()))
    })?;
    Ok(dict!(py, {
        "xstar" => zeros.into_pyarray(py),
        "is_stable" => stable,
        "undecided" => undecided,
        "boxes" => boxes,
        "complete" => complete,
    }))
}
