//! The rest of the library as calls: training (emt-rnn's recipe), the closed-form circuits
//! (emt-circuit), the variable-memory basis (emt-basis), automaton extraction (emt-dynamics) and
//! the reproductions (emt-repro).

use std::collections::BTreeMap;

use emt::circuit::{LinearCircuit, MemoryBasis, TanhCircuit};
use emt::core::cells::{CellKind, Model as CellModel, ModelFile};
use emt::core::{Activation, Error, rng};
use emt::dynamics::{Automaton, ExtractParams};
use emt::ndarray::{Array1, Array2};
use emt::rnn::recipe::{Optimizer, TrainSettings, TrainTask, Trained};
use emt::rnn::{Control, Event, Observer, StopReason, TrainerView};
use emt::tasks::{LinearVb, TaskId};
use numpy::{IntoPyArray, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::prelude::*;
use pyo3::types::{PyAny, PyDict};

use crate::analysis::dict;
use crate::errors::{IntoPy, param};
use crate::model::Model;
use crate::run::{detached, detached_keep};

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(circuit, m)?)?;
    m.add_function(wrap_pyfunction!(variable_basis, m)?)?;
    m.add_function(wrap_pyfunction!(extract_automaton, m)?)?;
    m.add_function(wrap_pyfunction!(automaton_cyclic_group, m)?)?;
    m.add_function(wrap_pyfunction!(reproduce, m)?)?;
    m.add_function(wrap_pyfunction!(plot_fixed_points, m)?)?;
    m.add_function(wrap_pyfunction!(plot_lyapunov, m)?)?;
    Ok(())
}

/// Forwards training events to a Python callable (from the worker thread, taking the GIL):
/// every `every`-th step, every curriculum advance and every evaluation, as dicts. The callable
/// returning `False` stops the run; an exception it raises stops the run and is re-raised.
struct PyObserver {
    callback: Option<Py<PyAny>>,
    every: u64,
    raised: Option<PyErr>,
}

impl Observer for PyObserver {
    fn observe(&mut self, _: &TrainerView<'_>, event: &Event) -> emt::core::Result<Control> {
        let Some(callback) = &self.callback else { return Ok(Control::Continue) };
        if matches!(event, Event::Step(s) if s.step % self.every.max(1) != 0) {
            return Ok(Control::Continue);
        }
        let answer = Python::attach(|py| -> PyResult<bool> {
            let d = match event {
                Event::Step(s) => dict!(py, {
                    "event" => "step", "step" => s.step, "horizon" => s.horizon, "loss" => s.stats.loss,
                    "accuracy" => s.stats.accuracy, "grad_norm" => s.grad_norm,
                }),
                Event::Advanced { step, level, horizon } => dict!(py, {
                    "event" => "advanced", "step" => *step, "level" => *level, "horizon" => *horizon,
                }),
                Event::Eval(e) => dict!(py, {
                    "event" => "eval", "step" => e.step, "horizon" => e.horizon, "loss" => e.stats.loss,
                    "accuracy" => e.stats.accuracy,
                }),
            };
            let out = callback.bind(py).call1((d,))?;
            // Only an explicit False stops: None (a callback that returns nothing) goes on.
            Ok(!out.is(pyo3::types::PyBool::new(py, false)))
        });
        match answer {
            Ok(true) => Ok(Control::Continue),
            Ok(false) => Ok(Control::Stop),
            Err(e) => {
                self.raised = Some(e);
                Ok(Control::Stop)
            }
        }
    }
}

fn stop_name(stop: StopReason) -> &'static str {
    match stop {
        StopReason::TargetReached => "target_reached",
        StopReason::MaxSteps => "max_steps",
        StopReason::Observer => "observer",
        StopReason::Interrupted => "interrupted",
    }
}

/// Trains a network (see `emt.train`): the model and the report.
#[pyfunction]
#[pyo3(signature = (
    *, task=None, s=8, d=8, flipflop=None, p_flip=0.05, horizon=100, cell="elman", nonlinearity="tanh",
    hidden=128, seed=0, max_steps=20_000, threads=1, optimizer="adam", lr=1e-3, weight_decay=0.0, alpha=0.1,
    dt=0.1, noise=0.0, rate_penalty=0.0, bias=false, init="pytorch", h0_ones=false, observer=None,
    observe_every=10
))]
#[allow(clippy::too_many_arguments)]
fn train<'py>(
    py: Python<'py>,
    task: Option<&str>,
    s: usize,
    d: usize,
    flipflop: Option<usize>,
    p_flip: f64,
    horizon: usize,
    cell: &str,
    nonlinearity: &str,
    hidden: usize,
    seed: u64,
    max_steps: u64,
    threads: usize,
    optimizer: &str,
    lr: f64,
    weight_decay: f64,
    alpha: f64,
    dt: f64,
    noise: f64,
    rate_penalty: f64,
    bias: bool,
    init: &str,
    h0_ones: bool,
    observer: Option<Py<PyAny>>,
    observe_every: u64,
) -> PyResult<(Model, Bound<'py, PyDict>)> {
    let task = match (flipflop, task) {
        (Some(_), Some(t)) => return Err(param("task", t, "give a variable-binding task or flipflop, not both")),
        (Some(bits), None) => TrainTask::FlipFlop { bits, p_flip, horizon },
        (None, t) => {
            let id = match t {
                None => TaskId::repeat_copy(d),
                Some(text) => task_id(text, d)?,
            };
            TrainTask::VariableBinding { id, s, d }
        }
    };
    let settings = TrainSettings {
        task,
        cell: cell.parse::<CellKind>().py()?,
        nonlinearity: nonlinearity.parse::<Activation>().py()?,
        hidden,
        seed,
        max_steps,
        threads,
        optimizer: match optimizer {
            "adam" => Optimizer::Adam,
            "adamw" => Optimizer::AdamW,
            other => return Err(param("optimizer", other, "must be \"adam\" or \"adamw\"")),
        },
        lr,
        weight_decay,
        alpha,
        dt,
        noise,
        rate_penalty,
        bias,
        init: match init {
            "pytorch" => emt::rnn::Init::PyTorch,
            "glorot" => emt::rnn::Init::GlorotNormal,
            other => return Err(param("init", other, "must be \"pytorch\" or \"glorot\"")),
        },
        h0_ones,
    };
    let mut watcher = PyObserver { callback: observer, every: observe_every, raised: None };
    let (Trained { file, report }, interrupt) =
        detached_keep(py, || emt::rnn::recipe::train(&settings, &mut [&mut watcher]))?;
    if let Some(e) = watcher.raised.take() {
        return Err(e);
    }
    let report = dict!(py, {
        "steps" => report.steps,
        "stop" => if interrupt.is_some() { "interrupted" } else { stop_name(report.stop) },
        "train_seconds" => report.train_seconds,
        "eval_seconds" => report.eval_seconds,
        "eval_horizon" => report.eval.horizon,
        "eval_accuracy" => report.eval.stats.accuracy,
        "eval_loss" => report.eval.stats.loss,
        "final_loss" => report.final_loss,
        "level" => report.level,
        "cell" => settings.cell_spec().py()?.name(),
    });
    Ok((Model { file }, report))
}

/// A closed-form circuit of a variable-binding task (see `emt.circuit`).
#[pyfunction]
#[pyo3(signature = (task, s=8, d=8, *, kind="tanh", hidden=None, gain=1.5, write=3.0, seed=0))]
#[allow(clippy::too_many_arguments)]
fn circuit(
    task: &str,
    s: usize,
    d: usize,
    kind: &str,
    hidden: Option<usize>,
    gain: f64,
    write: f64,
    seed: u64,
) -> PyResult<(Model, bool)> {
    let id = task_id(task, d)?;
    let task = LinearVb::new(id, s, d).py()?;
    let n = s * d;
    let hidden = hidden.unwrap_or(n.max(96));
    // The seed streams of `emt circuit`: 2 for the linear basis, 3 for the tanh one.
    let (weights, realizable) = match kind {
        "linear" => {
            let basis = MemoryBasis::orthonormal(hidden, n, &mut rng::stream(seed, 2)).py()?;
            let c = LinearCircuit::new(&task, &basis).py()?;
            let realizable = c.realizable();
            (c.into_weights(), realizable)
        }
        "tanh" => {
            let basis = MemoryBasis::signed_permutation(hidden, n, &mut rng::stream(seed, 3)).py()?;
            (TanhCircuit::new(gain, write).py()?.build(&task, &basis).py()?, true)
        }
        other => return Err(param("kind", other, "must be \"linear\" or \"tanh\"")),
    };
    let meta = emt::core::io::WeightsMetadata {
        task: Some(id.to_string()),
        s: Some(s),
        d: Some(d),
        seed: Some(seed),
        ..Default::default()
    };
    Ok((Model { file: ModelFile::new(CellModel::Elman(weights)).with_meta(meta) }, realizable))
}

/// The variable-memory basis of an Elman network (see `emt.variable_basis`).
#[pyfunction]
#[pyo3(signature = (model, task=None, s=None, d=None, *, method="dual", pca=10, seed=0, ground_on_input=false))]
#[allow(clippy::too_many_arguments)]
fn variable_basis<'py>(
    py: Python<'py>,
    model: &Model,
    task: Option<&str>,
    s: Option<usize>,
    d: Option<usize>,
    method: &str,
    pca: usize,
    seed: u64,
    ground_on_input: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let CellModel::Elman(weights) = &model.file.model else {
        return Err(param("model", model.file.model.kind().name(), "the variable-memory basis needs an elman model"));
    };
    if !emt::basis::METHODS.contains(&method) {
        return Err(param("method", method, "must be \"dual\", \"paper\" or \"least_squares\""));
    }
    let meta = &model.file.meta;
    let (s, d) = (s.or(meta.s).unwrap_or(8), d.or(meta.d).unwrap_or(8));
    let id = match task.map(str::to_string).or_else(|| meta.task.clone()) {
        Some(t) => task_id(&t, d)?,
        None => {
            return Err(param(
                "task",
                "None",
                "the model has no `task` metadata: say which variable-binding task it was trained on (task=\"255,0,0\", s=8, d=8 for repeat copy)",
            ));
        }
    };
    let grounding = if ground_on_input { emt::basis::Grounding::Input } else { emt::basis::Grounding::Readout };
    let (compared, accuracy, spectral, projection) = detached(py, || {
        let task = LinearVb::new(id, s, d)?;
        let fit = emt::basis::task_fit(weights, &task, seed)?;
        let compared = emt::basis::compare_methods(weights, &task, seed, pca, grounding)?;
        let projection = match compared.iter().find(|(n, _)| *n == method) {
            Some((_, Ok((b, _)))) => Some(b.project(fit.first_hidden.view())?),
            _ => None,
        };
        Ok((compared, fit.accuracy, fit.spectral.radians, projection))
    })?;
    let methods = PyDict::new(py);
    let mut chosen = None;
    for (name, entry) in compared {
        let summary = match &entry {
            Ok((b, dec)) => dict!(py, {
                "coordinates" => b.coordinates().len(),
                "phi_error" => b.phi_error(),
                "max_closure_residual" => b.max_closure_residual(),
                "gain" => b.gain(),
                "decoding_accuracy" => dec.mean,
                "decoding_by_slot" => dec.by_slot.clone(),
            }),
            Err(e) => dict!(py, { "error" => e.to_string() }),
        };
        methods.set_item(name, summary)?;
        if name == method {
            chosen = Some(entry);
        }
    }
    let (basis, decoding) = match chosen {
        Some(Ok(found)) => found,
        Some(Err(e)) => return Err(crate::errors::to_py(e)),
        None => return Err(param("method", method, "unknown")),
    };
    let coordinates: Vec<usize> = basis.coordinates().to_vec();
    Ok(dict!(py, {
        "method" => method,
        "task" => id.to_string(),
        "s" => s,
        "d" => d,
        "psi" => basis.psi().to_owned().into_pyarray(py),
        "psi_dual" => basis.psi_dual().to_owned().into_pyarray(py),
        "phi_emp" => basis.phi_emp().to_owned().into_pyarray(py),
        "phi_theory" => basis.phi_theory().to_owned().into_pyarray(py),
        "coordinates" => coordinates,
        "projection" => projection.map(|p| p.into_pyarray(py)),
        "phi_error" => basis.phi_error(),
        "max_closure_residual" => basis.max_closure_residual(),
        "gain" => basis.gain(),
        "decoding_accuracy" => decoding.mean,
        "decoding_by_slot" => decoding.by_slot.clone(),
        "accuracy_h200" => accuracy,
        "spectral_error_rad" => spectral,
        "methods" => methods,
    }))
}

/// An automaton from states at input-free moments (see `emt.extract_automaton`).
#[pyfunction]
#[pyo3(signature = (states, words, letters, *, tol=1e-3, min_share=0.05))]
fn extract_automaton<'py>(
    py: Python<'py>,
    states: PyReadonlyArray3<'py, f64>,
    words: PyReadonlyArray2<'py, i64>,
    letters: usize,
    tol: f64,
    min_share: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let (states, words) = (states.as_array(), words.as_array());
    let (b, moments, _) = states.dim();
    if words.nrows() != b || words.ncols() + 1 != moments {
        return Err(crate::errors::to_py(Error::shape(
            "words",
            format!("(B, T) = ({b}, {}) for states (B, T + 1, n)", moments.saturating_sub(1)),
            emt::core::check::fmt_shape(words.shape()),
        )));
    }
    let mut runs_words = Vec::with_capacity(b);
    for (i, row) in words.rows().into_iter().enumerate() {
        let mut w = Vec::with_capacity(row.len());
        for (t, &c) in row.iter().enumerate() {
            match usize::try_from(c) {
                Ok(c) if c < letters => w.push(c),
                _ => return Err(param(&format!("words[{i}, {t}]"), c, &format!("must be a letter in 0..{letters}"))),
            }
        }
        runs_words.push(w);
    }
    let runs: Vec<Vec<Array1<f64>>> =
        states.outer_iter().map(|run| run.outer_iter().map(|x| x.to_owned()).collect()).collect();
    let params = ExtractParams { tol, min_share };
    let e = detached(py, || Automaton::extract(&runs, &runs_words, letters, &params))?;
    automaton_dict(py, &e.automaton, Some(&e.labels))
}

fn automaton_dict<'py>(py: Python<'py>, a: &Automaton, labels: Option<&[Vec<usize>]>) -> PyResult<Bound<'py, PyDict>> {
    let delta = Array2::from_shape_fn((a.states, a.letters), |(q, c)| a.delta[q][c].map_or(-1, |t| t as i64));
    let determinism = Array2::from_shape_fn((a.states, a.letters), |(q, c)| a.determinism[q][c]);
    let labels = labels.map(|l| {
        let t = l.first().map_or(0, Vec::len);
        Array2::from_shape_fn((l.len(), t), |(b, k)| l[b].get(k).map_or(-1, |&q| q as i64))
    });
    Ok(dict!(py, {
        "states" => a.states,
        "letters" => a.letters,
        "start" => a.start,
        "delta" => delta.into_pyarray(py),
        "determinism" => determinism.into_pyarray(py),
        "labels" => labels.map(|l| l.into_pyarray(py)),
    }))
}

/// Whether the automaton `(delta, start)` is the cyclic group `Z_k` (see `Automaton.cyclic_group`):
/// the state of each element and each letter's generator power, or None.
#[pyfunction]
fn automaton_cyclic_group(
    delta: PyReadonlyArray2<'_, i64>,
    start: usize,
    k: usize,
) -> PyResult<Option<(Vec<usize>, Vec<usize>)>> {
    let delta = delta.as_array();
    let (states, letters) = delta.dim();
    let table: Vec<Vec<Option<usize>>> = delta
        .rows()
        .into_iter()
        .map(|r| r.iter().map(|&t| usize::try_from(t).ok().filter(|&t| t < states)).collect())
        .collect();
    let a = Automaton { states, letters, start, delta: table, determinism: vec![vec![1.0; letters]; states] };
    a.cyclic_group(k).py()
}

/// Sets `field` from `overrides[key]` when present, removing the key.
macro_rules! take {
    ($overrides:expr, $settings:expr, $($key:ident),* $(,)?) => {{
        $(
            if let Some(v) = $overrides.remove(stringify!($key)) {
                $settings.$key = v.extract().map_err(|e: PyErr| {
                    param(stringify!($key), v.to_string(), &format!("has the wrong type: {e}"))
                })?;
            }
        )*
    }};
}

/// A task id from `"id1,id2,id3"` or `"repeat_copy"` (of `d`-bit variables).
fn task_id(text: &str, d: usize) -> PyResult<TaskId> {
    if text == "repeat_copy" { Ok(TaskId::repeat_copy(d)) } else { text.parse::<TaskId>().py() }
}

/// Runs one reproduction (see `emt.reproduce`): its report as JSON text.
#[pyfunction]
#[pyo3(signature = (paper, quick, overrides, say=None))]
fn reproduce(
    py: Python<'_>,
    paper: &str,
    quick: bool,
    overrides: BTreeMap<String, Bound<'_, PyAny>>,
    say: Option<Py<PyAny>>,
) -> PyResult<String> {
    let mut overrides = overrides;
    let mut tell = move |line: &str| {
        if let Some(say) = &say {
            Python::attach(|py| {
                let _ = say.bind(py).call1((line,));
            });
        }
    };
    let json = match paper {
        "gating" => {
            let mut s = if quick { emt_repro::gating::GatingSettings::quick() } else { Default::default() };
            take!(overrides, s, n, seed, timescale_time, lyapunov_steps, g_h, alpha_r, alpha_r_scan, transition_seeds);
            take!(overrides, s, transition_steps, inputs, input_only, fp_n, fp_seeds, threads, figure, phase_diagram);
            unknown(&overrides)?;
            let r = detached(py, || emt_repro::gating::run(&s, &mut tell))?;
            serde_json::to_string(&r)
        }
        "gru" => {
            let mut s = if quick { emt_repro::gru::GruSettings::quick() } else { Default::default() };
            take!(overrides, s, samples, seed, out, snic_values, snic_deltas, line_seeds, line_steps, line_dt);
            unknown(&overrides)?;
            let r = detached(py, || emt_repro::gru::run(&s, &mut tell))?;
            serde_json::to_string(&r)
        }
        "phase_codes" => {
            let mut s = if quick { emt_repro::phase_codes::PhaseSettings::quick() } else { Default::default() };
            take!(overrides, s, seeds, epochs, hidden, out, repeats);
            unknown(&overrides)?;
            let r = detached(py, || emt_repro::phase_codes::run(&s, &mut tell, &mut |_| {}))?;
            serde_json::to_string(&r)
        }
        other => return Err(param("paper", other, "must be \"gating\", \"gru\" or \"phase_codes\"")),
    };
    json.map_err(|e| crate::errors::to_py(Error::param("report", paper, e.to_string())))
}

fn unknown(rest: &BTreeMap<String, Bound<'_, PyAny>>) -> PyResult<()> {
    match rest.keys().next() {
        Some(key) => Err(param(key, "given", "is not a setting of this reproduction")),
        None => Ok(()),
    }
}

/// A `FixedPoints` result (the Python dataclass) back as the library's type.
fn fixed_points_of(fps: &Bound<'_, PyAny>) -> PyResult<emt::dynamics::FixedPoints> {
    use emt::dynamics::{FixedPoint, Stability};
    let xstar: PyReadonlyArray2<'_, f64> = fps.getattr("xstar")?.extract()?;
    let eig: numpy::PyReadonlyArray2<'_, num_complex::Complex64> = fps.getattr("eigval_J_xstar")?.extract()?;
    let qstar: Vec<f64> = fps.getattr("qstar")?.extract()?;
    let speed: Vec<f64> = fps.getattr("speed")?.extract()?;
    let unstable: Vec<usize> = fps.getattr("unstable_dims")?.extract()?;
    let stable: Vec<bool> = fps.getattr("is_stable")?.extract()?;
    let marginal: Vec<bool> = fps.getattr("is_marginal")?.extract()?;
    let (xstar, eig) = (xstar.as_array(), eig.as_array());
    let k = xstar.nrows();
    if [eig.nrows(), qstar.len(), speed.len(), unstable.len(), stable.len(), marginal.len()].iter().any(|&l| l != k) {
        return Err(param("fixed_points", k, "its per-point arrays differ in length"));
    }
    let n = xstar.ncols();
    let fixed = (0..k)
        .map(|i| FixedPoint {
            state: xstar.row(i).to_owned(),
            q: qstar[i],
            speed: speed[i],
            eigenvalues: eig.row(i).iter().copied().filter(|z| z.re.is_finite()).collect(),
            eigenvectors: Array2::zeros((n, 0)),
            unstable_dims: unstable[i],
            stability: if stable[i] {
                Stability::Stable
            } else if marginal[i] {
                Stability::Marginal
            } else {
                Stability::Unstable
            },
        })
        .collect();
    Ok(emt::dynamics::FixedPoints {
        fixed,
        slow: vec![],
        outliers: fps.getattr("n_outliers")?.extract()?,
        out_of_bounds: fps.getattr("n_out_of_bounds")?.extract()?,
        saturated: fps.getattr("n_saturated")?.extract()?,
        seeds: fps.getattr("n_seeds")?.extract()?,
    })
}

/// The portrait of `emt plot fixed-points` (see `emt.plot_fixed_points`).
#[pyfunction]
#[pyo3(signature = (model, fixed_points, path, *, u=None, starts=None, steps=200, bound=1.0, title=None, size=(1000, 1000), seed=0))]
#[allow(clippy::too_many_arguments)]
fn plot_fixed_points(
    py: Python<'_>,
    model: &Model,
    fixed_points: &Bound<'_, PyAny>,
    path: std::path::PathBuf,
    u: Option<numpy::PyReadonlyArray1<'_, f64>>,
    starts: Option<PyReadonlyArray2<'_, f64>>,
    steps: usize,
    bound: f64,
    title: Option<String>,
    size: (u32, u32),
    seed: u64,
) -> PyResult<()> {
    use emt::dynamics::AsSystem;
    let found = fixed_points_of(fixed_points)?;
    let file = &model.file;
    let u = u.map_or_else(|| Array1::zeros(file.model.input_dim()), |u| u.as_array().to_owned());
    let starts = starts.map_or_else(|| Array2::zeros((0, file.model.state_dim())), |s| s.as_array().to_owned());
    let kind = file.model.kind();
    let title = title.unwrap_or_else(|| {
        format!("Fixed points of the {kind} cell: {} ({} stable)", found.fixed.len(), found.stable_count())
    });
    detached(py, || {
        emt::core::check::finite("u", &u)?;
        emt::core::check::finite("starts", &starts)?;
        let system = file.model.system()?;
        let runs = emt_plot::phase_portrait::runs(system, u.view(), starts.view(), steps.max(50))?;
        let zero = Array1::zeros(file.model.input_dim());
        let orbit = emt::dynamics::cycle_orbit(&file.model, file.start_state(seed).view(), zero.view())?;
        let data = emt_plot::phase_portrait::PortraitData {
            system,
            u: u.view(),
            found: &found,
            runs: &runs,
            cycle: orbit.as_ref().map(|o| o.view()),
            ends: &[],
            reference: None,
            bound,
        };
        let portrait = emt_plot::phase_portrait::fixed_point_portrait(&data)?;
        emt_plot::save(&path, size, &emt_plot::Figure::Portrait { title: &title, portrait: &portrait })
    })
}

/// The figure of `emt plot lyapunov` (see `emt.plot_lyapunov`).
#[pyfunction]
#[pyo3(signature = (spectrum, path, *, title=None))]
fn plot_lyapunov(
    py: Python<'_>,
    spectrum: &Bound<'_, PyAny>,
    path: std::path::PathBuf,
    title: Option<String>,
) -> PyResult<()> {
    use emt::dynamics::{KaplanYorke, LyapunovSpectrum, TimeUnit, TracePoint};
    let exponents: Vec<f64> = spectrum.getattr("exponents")?.extract()?;
    let unit: String = spectrum.getattr("time_unit")?.extract()?;
    let times: Vec<f64> = spectrum.getattr("trace_times")?.extract()?;
    let trace: PyReadonlyArray2<'_, f64> = spectrum.getattr("trace")?.extract()?;
    let final_state: numpy::PyReadonlyArray1<'_, f64> = spectrum.getattr("final_state")?.extract()?;
    let cell: String = spectrum.getattr("cell")?.extract()?;
    let trace = trace.as_array();
    if trace.nrows() != times.len() || trace.ncols() != exponents.len() {
        return Err(param("spectrum.trace", format!("{:?}", trace.shape()), "must be (len(trace_times), k)"));
    }
    let n = final_state.as_array().len();
    let s = LyapunovSpectrum {
        kaplan_yorke: KaplanYorke::of(&exponents, n),
        time_unit: if unit == "step" { TimeUnit::Step } else { TimeUnit::Time },
        trace: times
            .iter()
            .zip(trace.rows())
            .map(|(&time, row)| TracePoint { time, exponents: row.to_vec() })
            .collect(),
        sum_rule: None,
        final_state: final_state.as_array().to_owned(),
        exponents,
    };
    let title = title.unwrap_or_else(|| format!("Lyapunov spectrum of the {cell} cell (per {unit})"));
    detached(py, || emt_plot::save_lyapunov(&path, &s, &title))
}
