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
use emt_tasks::{LinearVb, Phi};
use ndarray::{Array1, Axis};
use plotters::style::RGBColor;
use serde_json::json;

use crate::common::{ModelTaskArgs, elman_of};
use crate::plots::{self, Curve, EigenSet, render};

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
    plots::register_fonts()?;
    match &args.plot {
        Plot::Spectrum { weights, task, out } => spectrum(weights, task, out),
        Plot::Phi { weights, task, out } => phi(weights, task, out),
        Plot::Memory { weights, task, horizon, seed, out } => memory(weights, task, *horizon, *seed, out),
        Plot::Training { log, out } => training(log, out),
        Plot::Lyapunov { run, out } => lyapunov(run, out),
    }
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
    let format = match plots::format_of(out)? {
        plots::Format::Png => "png",
        plots::Format::Svg => "svg",
    };
    let bytes = std::fs::metadata(out).map_err(|e| Error::file(out, e))?.len();
    println!("{kind} plot -> {} ({bytes} bytes)", out.display());
    Ok(json!({ "plot": kind, "out": out.display().to_string(), "format": format, "bytes": bytes }))
}

fn spectrum(weights: &Path, flags: &ModelTaskArgs, out: &Path) -> Result<serde_json::Value> {
    plots::check_out(out)?;
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
    render!(out, (900, 900), plots::spectrum, &title, &sets, flow);
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
    plots::check_out(out)?;
    let (_, task, basis) = basis_of(weights, flags, "plot phi")?;
    let m = basis.coordinates().len();
    let title = format!(
        "W_hh in the variable basis, {}: {m} coordinates, max |Phi_emp - Phi| = {:.2e}",
        label(&task),
        basis.phi_error()
    );
    let panels = [("Phi_emp = Psi* W_hh Psi / g", basis.phi_emp()), ("Phi (theory)", basis.phi_theory())];
    render!(
        out,
        (1500, 760),
        plots::heatmaps,
        &title,
        &panels,
        "memory coordinate",
        "memory coordinate",
        Some(task.d())
    );
    let mut j = summary("phi", out)?;
    j["coordinates"] = json!(m);
    j["phi_error"] = json!(basis.phi_error());
    j["gain"] = json!(basis.gain());
    Ok(j)
}

fn memory(weights: &Path, flags: &ModelTaskArgs, horizon: usize, seed: u64, out: &Path) -> Result<serde_json::Value> {
    plots::check_out(out)?;
    let (w, task, basis) = basis_of(weights, flags, "plot memory")?;
    let ep = task.sample(horizon, 1, &mut rng::seeded(seed))?;
    let traj = w.simulate(ep.inputs().mapv(f64::from).view())?;
    let hidden = traj.hidden.index_axis(Axis(1), 0).to_owned();
    // (T, m) -> rows = memory coordinates (grouped by slot of d), columns = time.
    let coords = basis.project(hidden.view())?.reversed_axes();
    let m = coords.nrows();
    let title = format!("One episode in the variable basis, {}, {m} coordinates", label(&task));
    let panel = [("coordinate value", coords.view())];
    render!(
        out,
        (1400, 800),
        plots::heatmaps,
        &title,
        &panel,
        "time step",
        "memory coordinate (slot-major)",
        Some(task.d())
    );
    let mut j = summary("memory", out)?;
    j["coordinates"] = json!(m);
    j["steps"] = json!(coords.ncols());
    Ok(j)
}

fn training(log: &Path, out: &Path) -> Result<serde_json::Value> {
    plots::check_out(out)?;
    let text = std::fs::read_to_string(log).map_err(|e| Error::file(log, e))?;
    let (mut loss, mut acc, mut horizon, mut eval) = (vec![], vec![], vec![], vec![]);
    for (k, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |reason: String| Error::Format {
            path: log.display().to_string(),
            reason: format!("line {}: {reason}", k + 1),
        };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
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
    render!(out, (1100, 1200), plots::curves, &title, &panels);
    let mut j = summary("training", out)?;
    j["steps"] = json!(loss.last().map_or(0.0, |p| p.0));
    j["evaluations"] = json!(eval.len());
    j["final_eval_accuracy"] = json!(eval.last().map(|p| p.1));
    Ok(j)
}

fn lyapunov(run: &crate::cmd::lyapunov::RunArgs, out: &Path) -> Result<serde_json::Value> {
    plots::check_out(out)?;
    let (file, s, _) = crate::cmd::lyapunov::spectrum(run)?;
    let unit = s.time_unit.name();
    let spectrum: Vec<(f64, f64)> = s.exponents.iter().enumerate().map(|(i, &l)| ((i + 1) as f64, l)).collect();
    // Running estimates in frame order, at most 8 of them (the largest first).
    let shown = s.exponents.len().min(8);
    let colours = [
        BLUE,
        RED,
        GREEN,
        GREY,
        RGBColor(118, 42, 131),
        RGBColor(230, 97, 1),
        RGBColor(1, 133, 113),
        RGBColor(0, 0, 0),
    ];
    let labels: Vec<String> = (1..=shown).map(|i| format!("lambda_{i}")).collect();
    let mut curves = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let mut pts: Vec<(f64, f64)> = s.trace.iter().map(|p| (p.time, p.exponents[i])).collect();
        pts.retain(|p| p.1.is_finite());
        curves.push(Curve { label, points: pts, color: colours[i % colours.len()] });
    }
    let panels = [
        ("Spectrum", "index i", "lambda_i", false, vec![Curve { label: "lambda_i", points: spectrum, color: BLUE }]),
        (
            "Convergence of the running estimates (frame order)",
            if unit == "step" { "steps measured" } else { "time measured" },
            "estimate",
            false,
            curves,
        ),
    ];
    let title = format!("Lyapunov spectrum of the {} cell (per {unit}), {}", file.model.kind(), run.weights.display());
    render!(out, (1100, 1000), plots::curves, &title, &panels);
    let mut j = summary("lyapunov", out)?;
    j["exponents"] = json!(s.exponents);
    j["time_unit"] = json!(unit);
    Ok(j)
}
