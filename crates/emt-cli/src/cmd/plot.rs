//! `emt plot`: figures a person would rather look at than numbers, as PNG or SVG.
//!
//! ```text
//! emt plot spectrum --weights F --out spectrum.png     # eigenvalues of W_hh and Phi, unit circle
//! emt plot phi      --weights F --out phi.svg          # Phi_emp beside Phi
//! emt plot memory   --weights F --out memory.png       # one episode in the variable basis
//! emt plot training --log run.jsonl --out training.png # loss, accuracy, horizon vs step
//! ```
//!
//! The last stdout line is one JSON object with keys `plot`, `out`, `format` and the plot's
//! own numbers (`eigenvalues`, `phi_error`, `coordinates`, `steps`, ...).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use emt_basis::{ExtractOptions, VariableBasis};
use emt_core::cells::ModelFile;
use emt_core::{Error, Result, Task, rng};
use emt_plot::RGBColor;
use emt_tasks::{LinearVb, Phi};
use ndarray::{Array1, Axis, s};
use serde_json::json;

use crate::common::{ModelTaskArgs, elman_of};
use emt_plot::{Curve, EigenSet};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    plot: Plot,
}

#[derive(Subcommand, Debug)]
enum Plot {
    /// Eigenvalues of W_hh and of Phi on the unit circle (other cells: of the Jacobian at h0).
    Spectrum {
        /// Model file.
        #[arg(long)]
        weights: PathBuf,
        #[command(flatten)]
        task: ModelTaskArgs,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// Phi_emp (W_hh read in the extracted variable basis) beside the theory's Phi.
    Phi {
        /// Model file (elman).
        #[arg(long)]
        weights: PathBuf,
        #[command(flatten)]
        task: ModelTaskArgs,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// The hidden state of one episode in the variable basis: the s x d slots over time.
    Memory {
        /// Model file (elman).
        #[arg(long)]
        weights: PathBuf,
        #[command(flatten)]
        task: ModelTaskArgs,
        /// Output-phase length of the episode.
        #[arg(long, default_value_t = 40)]
        horizon: usize,
        /// Seed of the episode.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// The Lyapunov spectrum (descending) and the convergence of each running estimate.
    Lyapunov {
        #[command(flatten)]
        run: crate::cmd::lyapunov::RunArgs,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// Fixed points by type: for 2-D states a phase portrait (nullclines, vector field,
    /// trajectories), otherwise trajectories and fixed points in their top-2 principal components.
    FixedPoints {
        #[command(flatten)]
        search: crate::cmd::fixed_points::SearchArgs,
        /// Safetensors with trial inputs `inputs` `(T, B, d_in)` and optional labels `accept`
        /// `(B)` (1 or 0): each trial's final state is drawn (accepted / rejected apart), with
        /// the zero-input run's state at the same time from the same start.
        #[arg(long)]
        trials: Option<PathBuf>,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// Phase response curves: each pulse's phase shift against its arrival phase (the flags of
    /// `emt phase`).
    Prc {
        #[command(flatten)]
        phase: crate::cmd::phase::Args,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// Bifurcation diagram from `emt sweep-param`'s output (saved JSON lines): the state
    /// coordinate and the cycle's period against the parameter.
    Bifurcation {
        /// The JSON Lines written by `emt sweep-param ... > sweep.jsonl`.
        #[arg(long)]
        sweep: PathBuf,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// Per-slot decoding accuracy of the three basis extractions (dual recursion, the paper's
    /// method, least squares) on fresh sequences (`emt analyze`'s `methods`).
    Decoding {
        /// Elman model file.
        #[arg(long)]
        weights: PathBuf,
        #[command(flatten)]
        task: ModelTaskArgs,
        /// Seed of the fitting and decoding sequences.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// The finite-state automaton of one trained SET network from `emt reproduce phase-codes`'s
    /// JSON lines: states (double circles accept, the arrow marks the start), transitions
    /// coloured by card colour with their determinism as opacity. `--key lattice_fsa` draws the
    /// count-lattice automaton of an attractive solution in layers (moments before each card
    /// and at the end), labelled by the colour counts read.
    Fsa {
        /// The JSON lines written by `emt reproduce phase-codes > F`.
        #[arg(long)]
        summary: PathBuf,
        /// The network's alpha.
        #[arg(long)]
        alpha: f64,
        /// The network's seed.
        #[arg(long)]
        seed: u64,
        /// Which automaton: `fsa` or `lattice_fsa`.
        #[arg(long, default_value = "fsa", value_parser = ["fsa", "lattice_fsa"])]
        key: String,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
    /// Loss, accuracy, curriculum horizon and evaluation accuracy against the step.
    Training {
        /// A JSON Lines log written by `emt train --log`.
        #[arg(long)]
        log: PathBuf,
        /// Output figure (.png or .svg).
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    match &args.plot {
        Plot::Spectrum { weights, task, out } => spectrum(weights, task, out),
        Plot::Phi { weights, task, out } => phi(weights, task, out),
        Plot::Memory { weights, task, horizon, seed, out } => memory(weights, task, *horizon, *seed, out),
        Plot::Training { log, out } => training(log, out),
        Plot::Lyapunov { run, out } => lyapunov(run, out),
        Plot::FixedPoints { search, trials, out } => fixed_points(search, trials.as_deref(), out),
        Plot::Prc { phase, out } => prc(phase, out),
        Plot::Decoding { weights, task, seed, out } => decoding(weights, task, *seed, out),
        Plot::Bifurcation { sweep, out } => bifurcation(sweep, out),
        Plot::Fsa { summary, alpha, seed, key, out } => fsa(summary, *alpha, *seed, key, out),
    }
}

fn decoding(weights: &Path, flags: &ModelTaskArgs, seed: u64, out: &Path) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &[weights])?;
    let file = ModelFile::load(weights)?;
    let w = crate::common::elman_of(&file, weights, "plot decoding")?;
    let task = task_of(&file, flags)?;
    let compared = emt_basis::compare_methods(&w, &task, seed, 0, emt_basis::Grounding::Readout)?;
    let groups: Vec<String> = (0..task.s()).map(|k| k.to_string()).collect();
    let mut series = Vec::new();
    let mut means = serde_json::Map::new();
    let mut lo = 1.0f64;
    for (name, entry) in &compared {
        if let Ok((_, dec)) = entry {
            lo = dec.by_slot.iter().flatten().fold(lo, |m, v| m.min(*v));
            series.push((format!("{name}: mean {:.4}", dec.mean), dec.by_slot.clone()));
            means.insert(name.to_string(), json!(dec.mean));
        } else {
            means.insert(name.to_string(), serde_json::Value::Null);
        }
    }
    // The axis starts near the lowest bar so differences show, and says so where it is not 0.
    let floor = (((lo - 0.05) * 20.0).floor() / 20.0).clamp(0.0, 0.95);
    let title = format!("Decoding accuracy per slot, {}", label(&task));
    let y_desc = if floor > 0.0 {
        format!("sign accuracy of the window content (axis from {floor:.2}, not 0)")
    } else {
        "sign accuracy of the window content".to_string()
    };
    emt_plot::save(
        out,
        (1100, 700),
        &emt_plot::Figure::Bars {
            title: &title,
            y_desc: &y_desc,
            groups: &groups,
            series: &series,
            y_range: (floor, 1.0),
        },
    )?;
    let mut j = summary("decoding", out)?;
    j["y_axis_from"] = json!(floor);
    j["decoding_accuracy"] = json!(means);
    Ok(j)
}

fn prc(args: &crate::cmd::phase::Args, out: &Path) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &args.input_paths())?;
    let r = crate::cmd::phase::responses(args)?;
    let curves: Vec<(String, Vec<(f64, f64)>)> = r
        .curves
        .iter()
        .map(|(name, c)| {
            let mut pts: Vec<(f64, f64)> =
                c.phases.iter().zip(&c.shifts).map(|(&a, &s)| (emt_dynamics::wrap(a), s)).collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (format!("{name}: mean {:+.4} rad, spread {:.1e}", c.mean, c.spread), pts)
        })
        .collect();
    let title = format!("Phase response of the {} cell ({}, period {:.2})", r.cell, r.kind.name(), r.period);
    emt_plot::save(out, (1000, 750), &emt_plot::Figure::Prc { title: &title, curves: &curves })?;
    let mut j = summary("prc", out)?;
    j["period"] = json!(r.period);
    j["shifts"] =
        json!(r.curves.iter().map(|(n, c)| (n.clone(), c.mean)).collect::<std::collections::BTreeMap<_, _>>());
    Ok(j)
}

fn bifurcation(sweep: &Path, out: &Path) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &[sweep])?;
    let text = std::fs::read_to_string(sweep).map_err(|e| Error::file(sweep, e))?;
    let bad = |line: usize, why: String| Error::Format {
        path: sweep.display().to_string(),
        reason: format!("line {line}: {why}"),
    };
    let mut values = Vec::new();
    let mut summary_line = None;
    for (k, line) in text.lines().enumerate().filter(|(_, l)| l.trim_start().starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(k + 1, e.to_string()))?;
        if v.get("bifurcations").is_some() {
            summary_line = Some(v);
        } else if v.get("parameter").is_some() {
            values.push(v);
        }
    }
    let summary_line = summary_line
        .ok_or_else(|| bad(0, "no summary line (with \"bifurcations\"): is this emt sweep-param's output?".into()))?;
    if values.is_empty() {
        return Err(bad(0, "no per-value lines (with \"parameter\")".into()));
    }
    let coord = summary_line["coord"].as_u64().unwrap_or(0) as usize;
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    let mut points = Vec::new();
    let (mut cycles, mut periods) = (Vec::new(), Vec::new());
    for v in &values {
        let p = f(&v["parameter"]);
        for fp in v["fixed_points"].as_array().into_iter().flatten() {
            points.push((p, f(&fp["state"][coord]), fp["stable"].as_bool().unwrap_or(false)));
        }
        if matches!(v["attractor"].as_str(), Some("limit_cycle" | "invariant_circle")) {
            cycles.push((p, f(&v["range"][0]), f(&v["range"][1])));
            if let Some(t) = v["period"].as_f64() {
                periods.push((p, t));
            }
        }
    }
    let branches: Vec<Vec<(f64, f64, bool)>> = summary_line["branches"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            b["points"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|q| (f(&q[0]), f(&q[1]), q[2].as_bool().unwrap_or(false)))
                .collect()
        })
        .collect();
    let marks: Vec<(f64, String)> = summary_line["bifurcations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| (f(&b["parameter"]), b["kind"].as_str().unwrap_or("?").replace('_', "-")))
        .collect();
    let param = summary_line["param"].as_str().unwrap_or("parameter").to_string();
    let y_desc = format!("x{coord}");
    let diagram = emt_plot::Diagram { x_desc: &param, y_desc: &y_desc, branches, points, cycles, periods, marks };
    let title = format!("Bifurcation diagram of the {} cell in {param}", summary_line["cell"].as_str().unwrap_or("?"));
    emt_plot::save(out, (1000, 900), &emt_plot::Figure::Bifurcation { title: &title, diagram: &diagram })?;
    let mut j = summary("bifurcation", out)?;
    j["values"] = json!(values.len());
    j["bifurcations"] = summary_line["bifurcations"].clone();
    Ok(j)
}

fn fsa(path: &Path, alpha: f64, seed: u64, key: &str, out: &Path) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &[path])?;
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    let bad = |why: String| Error::Format { path: path.display().to_string(), reason: why };
    let mut found = None;
    for (k, line) in text.lines().enumerate().filter(|(_, l)| l.trim_start().starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(format!("line {}: {e}", k + 1)))?;
        if v["alpha"].as_f64() == Some(alpha) && v["seed"].as_u64() == Some(seed) {
            found = Some(v);
        }
    }
    let entry = found.ok_or_else(|| bad(format!("no network with alpha {alpha} and seed {seed}")))?;
    let automaton = entry.get(key).ok_or_else(|| {
        bad(format!("the network with alpha {alpha}, seed {seed} has no `{key}` (unsolved, or not attractive)"))
    })?;
    let graph: emt_repro::phase_codes::AutomatonGraph = serde_json::from_value(automaton.clone())
        .map_err(|why| bad(format!("alpha {alpha}, seed {seed}, `{key}`: {why}")))?;
    // A table that names states it does not have is the summary's fault: say which entry.
    emt_repro::phase_codes::automaton_figure(&graph)
        .map_err(|why| bad(format!("alpha {alpha}, seed {seed}, `{key}`: {why}")))?;
    let what = if key == "lattice_fsa" { "count-lattice automaton" } else { "automaton" };
    emt_repro::phase_codes::draw_automaton(&graph, out, what, alpha, seed)?;
    let mut j = summary("fsa", out)?;
    j["states"] = automaton["states"].clone();
    j["verdicts_match"] = automaton["verdicts_match"].clone();
    Ok(j)
}

const BLUE: RGBColor = RGBColor(33, 102, 172);
const RED: RGBColor = RGBColor(178, 24, 43);
const GREEN: RGBColor = RGBColor(27, 120, 55);
const GREY: RGBColor = RGBColor(110, 110, 110);

fn task_of(file: &ModelFile, flags: &ModelTaskArgs) -> Result<LinearVb> {
    let (id, s, d) = flags.resolve(&file.meta)?;
    LinearVb::new(id, s, d)
}

/// "task 255,0,0 (s = 8, d = 8)".
fn label(task: &LinearVb) -> String {
    format!("task {} (s = {}, d = {})", task.id(), task.s(), task.d())
}

fn summary(kind: &str, out: &Path) -> Result<serde_json::Value> {
    let format = match emt_plot::format_of(out)? {
        emt_plot::Format::Png => "png",
        emt_plot::Format::Svg => "svg",
    };
    let bytes = std::fs::metadata(out).map_err(|e| Error::file(out, e))?.len();
    outln!("{kind} plot -> {} ({bytes} bytes)", out.display());
    Ok(json!({ "plot": kind, "out": out.display().to_string(), "format": format, "bytes": bytes }))
}

fn spectrum(weights: &Path, flags: &ModelTaskArgs, out: &Path) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &[weights])?;
    let file = ModelFile::load(weights)?;
    let kind = file.model.kind();
    let (values, phi_values, title, flow) = match &file.model {
        emt_core::cells::Model::Elman(w) => {
            let task = task_of(&file, flags)?;
            let ev = emt_linalg::eigenvalues(w.w_hh())?;
            (
                ev,
                Some(Phi::new(&task).spectrum()),
                format!("Eigenvalues of W_hh (N = {}) and of Phi, {}", w.hidden_dim(), label(&task)),
                false,
            )
        }
        model => {
            let x = file.h0.clone().unwrap_or_else(|| Array1::zeros(model.state_dim()));
            let u = Array1::zeros(model.input_dim());
            let (jac, flow) = match (model.as_map(), model.as_flow()) {
                (Some(m), _) => (m.jacobian(x.view(), u.view())?, false),
                (None, Some(f)) => (f.jacobian(x.view(), u.view())?, true),
                (None, None) => return Err(Error::param("cell", kind, "is neither a map nor a flow")),
            };
            let at = if file.h0.is_some() { "h0" } else { "the origin" };
            (
                emt_linalg::eigenvalues(jac.view())?,
                None,
                format!("Jacobian eigenvalues of the {kind} cell at {at}"),
                flow,
            )
        }
    };
    let label = if kind == emt_core::cells::CellKind::Elman { "W_hh" } else { "Jacobian" };
    let mut sets = vec![EigenSet { label, values: &values, color: BLUE, cross: false }];
    if let Some(p) = &phi_values {
        sets.push(EigenSet { label: "Phi", values: p, color: RED, cross: true });
    }
    emt_plot::save(out, (900, 900), &emt_plot::Figure::Spectrum { title: &title, sets: &sets, flow })?;
    let mut j = summary("spectrum", out)?;
    j["cell"] = json!(kind.name());
    j["eigenvalues"] = json!(values.len());
    j["spectral_radius"] = json!(values.iter().map(|z| z.norm()).fold(0.0, f64::max));
    Ok(j)
}

fn basis_of(
    weights: &Path,
    flags: &ModelTaskArgs,
    command: &str,
) -> Result<(emt_core::ElmanWeights<f64>, LinearVb, VariableBasis)> {
    let file = ModelFile::load(weights)?;
    let w = elman_of(&file, weights, command)?;
    let task = task_of(&file, flags)?;
    let basis = VariableBasis::extract(&w, &Phi::new(&task), None, &ExtractOptions::default())?;
    Ok((w, task, basis))
}

fn phi(weights: &Path, flags: &ModelTaskArgs, out: &Path) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &[weights])?;
    let (_, task, basis) = basis_of(weights, flags, "plot phi")?;
    let m = basis.coordinates().len();
    let title = format!(
        "W_hh in the variable basis, {}: {m} coordinates, max |Phi_emp - Phi| = {:.2e}",
        label(&task),
        basis.phi_error()
    );
    let panels = [("Phi_emp = Psi* W_hh Psi / g", basis.phi_emp()), ("Phi (theory)", basis.phi_theory())];
    emt_plot::save(
        out,
        (1500, 760),
        &emt_plot::Figure::Heatmaps {
            title: &title,
            panels: &panels,
            x_desc: "memory coordinate",
            y_desc: "memory coordinate",
            row_groups: Some(task.d()),
        },
    )?;
    let mut j = summary("phi", out)?;
    j["coordinates"] = json!(m);
    j["phi_error"] = json!(basis.phi_error());
    j["gain"] = json!(basis.gain());
    Ok(j)
}

fn memory(weights: &Path, flags: &ModelTaskArgs, horizon: usize, seed: u64, out: &Path) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &[weights])?;
    let (w, task, basis) = basis_of(weights, flags, "plot memory")?;
    let ep = task.sample(horizon, 1, &mut rng::seeded(seed))?;
    let traj = w.simulate(ep.inputs().mapv(f64::from).view())?;
    let hidden = traj.hidden.index_axis(Axis(1), 0).to_owned();
    // (T, m) -> rows = memory coordinates (grouped by slot of d), columns = time.
    let coords = basis.project(hidden.view())?.reversed_axes();
    let m = coords.nrows();
    let title = format!("One episode in the variable basis, {}, {m} coordinates", label(&task));
    let panel = [("coordinate value", coords.view())];
    emt_plot::save(
        out,
        (1400, 800),
        &emt_plot::Figure::Heatmaps {
            title: &title,
            panels: &panel,
            x_desc: "time step",
            y_desc: "memory coordinate (slot-major)",
            row_groups: Some(task.d()),
        },
    )?;
    let mut j = summary("memory", out)?;
    j["coordinates"] = json!(m);
    j["steps"] = json!(coords.ncols());
    Ok(j)
}

fn training(log: &Path, out: &Path) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &[log])?;
    let text = std::fs::read_to_string(log).map_err(|e| Error::file(log, e))?;
    let (mut loss, mut acc, mut horizon, mut eval) = (vec![], vec![], vec![], vec![]);
    // A run killed mid-write leaves its last line without its newline: that one line is
    // skipped (and said); a bad line anywhere else is an error.
    let lines: Vec<&str> = text.lines().collect();
    let mut cut_last_line = false;
    for (k, line) in lines.iter().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |reason: String| Error::Format {
            path: log.display().to_string(),
            reason: format!("line {}: {reason}", k + 1),
        };
        let v: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) if k + 1 == lines.len() && !text.ends_with('\n') => {
                errln!(
                    "{}: line {} is cut short (the run was stopped mid-write); plotting the lines before it",
                    log.display(),
                    k + 1
                );
                cut_last_line = true;
                continue;
            }
            Err(e) => return Err(bad(e.to_string())),
        };
        let num =
            |key: &str| v.get(key).and_then(serde_json::Value::as_f64).ok_or_else(|| bad(format!("no number {key:?}")));
        match v.get("event").and_then(serde_json::Value::as_str) {
            Some("step") => {
                let step = num("step")?;
                loss.push((step, num("loss")?));
                acc.push((step, num("accuracy")?));
                horizon.push((step, num("horizon")?));
            }
            Some("eval") => eval.push((num("step")?, num("accuracy")?)),
            Some("advanced") => {}
            other => return Err(bad(format!("unknown event {other:?}"))),
        }
    }
    if loss.is_empty() {
        return Err(Error::Format { path: log.display().to_string(), reason: "no step events to plot".into() });
    }
    let panels = [
        (
            "Training loss (MSE)",
            "step",
            "loss",
            true,
            vec![Curve { label: "batch loss", points: loss.clone(), color: BLUE }],
        ),
        (
            "Sign accuracy",
            "step",
            "accuracy",
            false,
            vec![
                Curve { label: "training batch", points: acc, color: GREY },
                Curve { label: "evaluation (H = 200)", points: eval.clone(), color: RED },
            ],
        ),
        (
            "Curriculum",
            "step",
            "horizon H",
            false,
            vec![Curve { label: "training horizon", points: horizon, color: GREEN }],
        ),
    ];
    let title =
        format!("Training log {}", log.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()));
    emt_plot::save(out, (1100, 1200), &emt_plot::Figure::Curves { title: &title, panels: &panels })?;
    let mut j = summary("training", out)?;
    j["steps"] = json!(loss.last().map_or(0.0, |p| p.0));
    j["evaluations"] = json!(eval.len());
    j["cut_last_line"] = json!(cut_last_line);
    j["final_eval_accuracy"] = json!(eval.last().map(|p| p.1));
    Ok(j)
}

fn lyapunov(run: &crate::cmd::lyapunov::RunArgs, out: &Path) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &[&run.model.weights])?;
    let (file, s, _) = crate::cmd::lyapunov::spectrum(run)?;
    let unit = s.time_unit.name();
    let title =
        format!("Lyapunov spectrum of the {} cell (per {unit}), {}", file.model.kind(), run.model.weights.display());
    emt_plot::save_lyapunov(out, &s, &title)?;
    let mut j = summary("lyapunov", out)?;
    j["exponents"] = json!(s.exponents);
    j["time_unit"] = json!(unit);
    Ok(j)
}

/// Trial end states with their labels (accepted / rejected, if given).
type Ends = Vec<(Array1<f64>, Option<bool>)>;

/// Final states of the trials in `path` (from the model file's h0) with their labels, and the
/// zero-input run's state after as many steps.
fn trial_endpoints(file: &ModelFile, path: &Path) -> Result<(Ends, Array1<f64>)> {
    let t = emt_core::io::Tensors::read(path)?;
    let (key, x) = t.find("inputs")?;
    let x: ndarray::Array3<f64> = x
        .clone()
        .into_dimensionality()
        .map_err(|_| Error::shape(key, "(T, B, d_in)", emt_core::check::fmt_shape(x.shape())))?;
    let (steps, batch, _) = x.dim();
    let accept = t.vector_optional("accept")?;
    if let Some(a) = &accept {
        emt_core::check::shape("accept", a, &[batch])?;
    }
    let traj = file.simulate(x.view(), None)?;
    let zero = ndarray::Array3::zeros((steps, 1, file.model.input_dim()));
    let null = file.simulate(zero.view(), None)?;
    let ends = (0..batch)
        .map(|b| (traj.hidden.slice(s![steps - 1, b, ..]).to_owned(), accept.as_ref().map(|a| a[b] > 0.5)))
        .collect();
    Ok((ends, null.hidden.slice(s![steps - 1, 0, ..]).to_owned()))
}

fn fixed_points(
    args: &crate::cmd::fixed_points::SearchArgs,
    trials: Option<&Path>,
    out: &Path,
) -> Result<serde_json::Value> {
    emt_plot::check_out(out, &args.input_paths(trials))?;
    let search = crate::cmd::fixed_points::search(args)?;
    let ends = trials.map(|p| trial_endpoints(&search.file, p)).transpose()?;
    let system = search.system()?;
    let u = search.input();
    let trajs = emt_plot::phase_portrait::runs(system, u.view(), search.starts.view(), args.steps.max(50))?;
    let found = search.found();
    let kind = search.file.model.kind();
    let title = format!("Fixed points of the {kind} cell: {} ({} stable)", found.fixed.len(), found.stable_count());
    let orbit = crate::cmd::cycle::zero_input_orbit(&search.file, args.seed)?;
    let no_ends = Vec::new();
    let data = emt_plot::phase_portrait::PortraitData {
        system,
        u: u.view(),
        found,
        runs: &trajs,
        cycle: orbit.as_ref().map(|o| o.view()),
        ends: ends.as_ref().map_or(&no_ends, |(e, _)| e),
        reference: ends.as_ref().map(|(_, r)| r.view()),
        bound: search.bound,
    };
    let portrait = emt_plot::phase_portrait::fixed_point_portrait(&data)?;
    emt_plot::save(out, (1000, 1000), &emt_plot::Figure::Portrait { title: &title, portrait: &portrait })?;
    let mut j = summary("fixed-points", out)?;
    j["count"] = json!(found.fixed.len());
    j["stable_count"] = json!(found.stable_count());
    j["cell"] = json!(kind.name());
    if let Some((e, _)) = &ends {
        j["trials"] = json!(e.len());
    }
    Ok(j)
}
