//! `emt fixed-points`: fixed and slow points of any model file under constant inputs.
//!
//! ```text
//! emt fixed-points --weights F [--input V.safetensors | --inputs U.safetensors]
//!                  [--init-states S.safetensors] [--starts K] [--noise s] [--threads T] [--seed S]
//! ```
//!
//! Maps (elman, gru, lstm, ctrnn, stacks): fixed points of the map; stable iff the spectral
//! radius of the Jacobian is below 1. Flows (ctgru, gated): zeros of the vector field; stable iff
//! max Re < 0; gated models are solved in `h` alone (`emt_core::FixedPointReduction`) and each
//! root is lifted to `(h, z, r)` and classified there. The input is zero unless `--input` names a file with a tensor `input` `(d_in)`, or
//! `--inputs` one with `inputs` `(K, d_in)` (one input per seed, FixedPointFinder's way) or
//! `(1, d_in)` / `(d_in)` (one for all). Seeds: with `--init-states`, the file's `states` (or
//! `state`, as `emt simulate` writes it): `(K, n)` used as they are, or trajectories `(T, B, n)`
//! from which `--starts` states are sampled with Gaussian noise `--noise`
//! (`emt_dynamics::sample_states`). Otherwise emt's recipe (`emt_dynamics::seed_states`):
//! `--starts` states uniform in the box that holds every fixed point (plus the file's h0), each
//! run for `--steps` steps (flows: RK4 steps of 0.05) with every 10th state kept and noise of
//! `--noise` added; without `--starts`, above 256 unknowns the recipe is scaled down
//! (`SeedParams::scaled_to`, said on stderr). Seeds are minimised on `--threads` threads
//! (default: every core); the result does not depend on the count. Trajectory seeds promise no completeness. Last stdout line:
//! `{"count":n,"stable_count":k,"fixed_points":[{"state":[...],"input":[...],"residual":q,
//! "unstable_dims":u,"stable":b,"leading_eigenvalue":[re,im]},...]}` plus `cell`, `slow_points`
//! (same fields plus `speed`), `outliers`, `seeds` and `inputs` (distinct inputs searched).

use std::path::{Path, PathBuf};

use emt_core::cells::ModelFile;
use emt_core::io::Tensors;
use emt_core::{Error, Result, check};
use emt_dynamics::{
    AsSystem, FixedPoint, FixedPointParams, FixedPoints, SeedParams, Stability, System, box_half_width,
    find_fixed_points_per_input, sample_states, seed_states,
};
use ndarray::{Array1, Array2};
use serde_json::json;

/// The flags shared by `emt fixed-points` and `emt plot fixed-points`.
#[derive(clap::Args, Debug, Clone)]
pub struct SearchArgs {
    #[command(flatten)]
    pub model: crate::common::ModelArgs,
    /// Safetensors file with the constant input `input` (d_in); default zero.
    #[arg(long, conflicts_with = "inputs")]
    pub input: Option<PathBuf>,
    /// Safetensors file with `inputs`: (K, d_in), one per seed (K = the seeds from
    /// --init-states), or (1, d_in) / (d_in), one for all.
    #[arg(long)]
    pub inputs: Option<PathBuf>,
    /// Safetensors file with the initial states `states` (or `state`): (K, n) as they are, or
    /// trajectories (T, B, n) to sample --starts states from (with --noise).
    #[arg(long)]
    pub init_states: Option<PathBuf>,
    /// Seed of the starting states and the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Starting states (box starts, or states sampled from --init-states trajectories).
    /// Default 64; for emt's recipe above 256 unknowns, fewer seeds (the cost of a seed grows
    /// as n^3): 1,344 (256 / n)^3 of them, at least 4 (n = 512: 8 starts; n = 1000: 1 start;
    /// n = 2000: 1 start and every 66th state of its run). Give --starts to choose.
    #[arg(long)]
    pub starts: Option<usize>,
    /// Steps run from each box start (not with --init-states).
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Standard deviation of the noise added to trajectory or sampled states.
    #[arg(long, default_value_t = 0.05)]
    pub noise: f64,
    /// Threads the seeds are minimised on (default: every core; results do not depend on it).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    search: SearchArgs,
}

/// Everything a search produced, for the command and the plot.
pub struct Search {
    pub file: ModelFile,
    pub starts: Array2<f64>,
    pub bound: f64,
    /// Per distinct input (first appearance first): the input and what was found under it.
    pub groups: Vec<(Array1<f64>, FixedPoints)>,
}

impl Search {
    /// The model as a map or a flow.
    pub fn system(&self) -> Result<System<'_>> {
        self.file.model.system()
    }

    /// The first input searched (the only one unless --inputs gives one per seed).
    pub fn input(&self) -> &Array1<f64> {
        &self.groups[0].0
    }

    /// What was found under the first input.
    pub fn found(&self) -> &FixedPoints {
        &self.groups[0].1
    }
}

fn format_err(path: &Path, reason: String) -> Error {
    Error::Format { path: path.display().to_string(), reason }
}

/// The inputs `(1, d)` or `(K, d)` from --input / --inputs (zero by default).
fn read_inputs(args: &SearchArgs, d: usize) -> Result<Array2<f64>> {
    let (path, name) = match (&args.input, &args.inputs) {
        (Some(p), _) => (p, "input"),
        (None, Some(p)) => (p, "inputs"),
        (None, None) => return Ok(Array2::zeros((1, d))),
    };
    let t = Tensors::read(path)?;
    let a = t.tensors.get(name).ok_or_else(|| {
        format_err(path, format!("missing tensor {name:?} (have: {:?})", t.tensors.keys().collect::<Vec<_>>()))
    })?;
    let rows = match (name, a.shape()) {
        (_, [len]) if *len == d => 1,
        ("inputs", [k, len]) if *len == d && *k >= 1 => *k,
        _ => {
            let want = if name == "input" { format!("({d})") } else { format!("(K, {d}), (1, {d}) or ({d})") };
            return Err(Error::shape(name, want, check::fmt_shape(a.shape())));
        }
    };
    a.to_shape((rows, d)).map(|v| v.to_owned()).map_err(|e| format_err(path, e.to_string()))
}

/// Seeds from --init-states: `(K, n)` as given, or `--starts` states sampled from `(T, B, n)`.
fn read_states(args: &SearchArgs, path: &Path, n: usize) -> Result<Array2<f64>> {
    let t = Tensors::read(path)?;
    let a = ["states", "state"].iter().find_map(|k| t.tensors.get(*k)).ok_or_else(|| {
        format_err(path, format!("missing tensor \"states\" (have: {:?})", t.tensors.keys().collect::<Vec<_>>()))
    })?;
    match a.shape() {
        [k, m] if *m == n && *k >= 1 => {
            check::finite("states", a)?;
            a.to_shape((*k, n)).map(|v| v.to_owned()).map_err(|e| format_err(path, e.to_string()))
        }
        [_, _, m] if *m == n => sample_states(a.view(), args.starts.unwrap_or(DEFAULT_STARTS), args.noise, args.seed),
        s => Err(Error::shape("states", format!("(K, {n}) or (T, B, {n})"), check::fmt_shape(s))),
    }
}

impl SearchArgs {
    /// The files this search reads, and `extra` (an output must be none of them).
    pub fn input_paths<'a>(&'a self, extra: Option<&'a Path>) -> Vec<&'a Path> {
        let mut v: Vec<&Path> = vec![&self.model.weights];
        v.extend([&self.input, &self.inputs, &self.init_states].into_iter().flatten().map(PathBuf::as_path));
        v.extend(extra);
        v
    }
}

/// `--starts` when not given (for emt's recipe, scaled to the model's size: see `--help`).
const DEFAULT_STARTS: usize = 64;

/// Loads the model, inputs and seeds, and searches.
pub fn search(args: &SearchArgs) -> Result<Search> {
    let file = args.model.load()?;
    let model = &file.model;
    let (n, d) = (model.state_dim(), model.input_dim());
    let inputs = read_inputs(args, d)?;
    let system = model.system()?;
    let (starts, seeds, bound) = match &args.init_states {
        Some(path) => {
            let states = read_states(args, path, n)?;
            (states.clone(), states, box_half_width(system, inputs.row(0)))
        }
        None if inputs.nrows() > 1 => {
            return Err(Error::param(
                "--inputs",
                format!("{} rows", inputs.nrows()),
                "one input per seed needs the seeds too: give --init-states (or one input row for all)",
            ));
        }
        None => {
            let chosen = SeedParams {
                starts: args.starts.unwrap_or(DEFAULT_STARTS),
                steps: args.steps,
                noise: args.noise,
                seed: args.seed,
                ..Default::default()
            };
            // The default recipe shrinks with the cube of the unknowns; a chosen --starts stays.
            let (p, note) =
                if args.starts.is_some() { (chosen, None) } else { chosen.scaled_with_note(system.search_dim()) };
            if let Some(note) = note {
                errln!("{note}; --starts K to choose");
            }
            let s = seed_states(system, inputs.row(0), file.h0.as_ref().map(|h| h.view()), &p)?;
            (s.starts, s.seeds, s.bound)
        }
    };
    let threads = match args.threads {
        Some(t) => t,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    // The CLI reports eigenvalues only: no n x n eigenvector matrix per point.
    let params = FixedPointParams { threads, eigenvectors: false, ..Default::default() };
    // The search reports nothing until it is done: a spinner with the elapsed time says it is
    // alive (hidden when stderr is not a terminal).
    let spinner = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {prefix} {msg}") {
        spinner.set_style(style);
    }
    spinner.set_prefix(format!("0/{} seeds", seeds.nrows()));
    spinner.set_message(format!("minimised ({n}-dimensional state, {} input(s), {threads} thread(s))", inputs.nrows()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    // The seed count goes into the spinner's prefix (a ProgressBar is shared by reference
    // counting, so the workers' reports update it from their threads).
    let shown = spinner.clone();
    let groups = emt_core::progress::with_reporter(
        move |p: &emt_core::progress::Progress<'_>| shown.set_prefix(format!("{}/{} seeds", p.done, p.total)),
        || find_fixed_points_per_input(system, inputs.view(), seeds.view(), &params),
    );
    spinner.finish_and_clear();
    Ok(Search { file, starts, bound, groups: groups? })
}

fn point_json(p: &FixedPoint, input: &Array1<f64>) -> serde_json::Value {
    let lead = p.leading_eigenvalue();
    json!({
        "state": p.state.to_vec(),
        "input": input.to_vec(),
        "residual": p.q,
        "speed": p.speed,
        "unstable_dims": p.unstable_dims,
        "stable": p.stability == Stability::Stable,
        "marginal": p.stability == Stability::Marginal,
        "leading_eigenvalue": [lead.re, lead.im],
    })
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    let Search { file, groups, .. } = search(&args.search)?;
    let model = &file.model;
    let n = model.state_dim();
    let total = |f: fn(&FixedPoints) -> usize| groups.iter().map(|(_, g)| f(g)).sum::<usize>();
    let points = |slow: bool| {
        groups
            .iter()
            .flat_map(|(u, g)| (if slow { &g.slow } else { &g.fixed }).iter().map(move |p| point_json(p, u)))
            .collect::<Vec<_>>()
    };
    outln!(
        "{} cell (state {n}, {} layer(s)): {} fixed points ({} stable), {} slow points, {} outliers, {} frozen and {} out-of-box candidates dropped, from {} seeds under {} input(s)",
        model.kind(),
        model.num_layers(),
        total(|g| g.fixed.len()),
        total(FixedPoints::stable_count),
        total(|g| g.slow.len()),
        total(|g| g.outliers),
        total(|g| g.saturated),
        total(|g| g.out_of_bounds),
        total(|g| g.seeds),
        groups.len()
    );
    for p in groups.iter().flat_map(|(_, g)| &g.fixed).take(12) {
        let z = p.leading_eigenvalue();
        outln!(
            "  {:?}, {} unstable dims, leading eigenvalue {:+.4}{:+.4}i, |res| {:.1e}",
            p.stability,
            p.unstable_dims,
            z.re,
            z.im,
            p.speed
        );
    }
    Ok(json!({
        "count": total(|g| g.fixed.len()),
        "stable_count": total(FixedPoints::stable_count),
        "fixed_points": points(false),
        "slow_points": points(true),
        "outliers": total(|g| g.outliers),
        "saturated": total(|g| g.saturated),
        "out_of_bounds": total(|g| g.out_of_bounds),
        "seeds": total(|g| g.seeds),
        "inputs": groups.len(),
        "cell": model.kind().name(),
    }))
}
