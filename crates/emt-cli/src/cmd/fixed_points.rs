//! `emt fixed-points`: fixed and slow points of any model file under a constant input.
//!
//! ```text
//! emt fixed-points --weights F [--input V.safetensors] [--seed S]
//! ```
//!
//! Maps (elman, gru, ctrnn): fixed points of the map; stable iff the spectral radius of the
//! Jacobian is below 1. Flows (ctgru, gated): zeros of the vector field; stable iff max Re < 0.
//! The input is zero unless `--input` names a safetensors file with a tensor `input` `(d_in)`.
//! Seeds: `--starts` states drawn uniformly in the box that holds every fixed point
//! (DYNAMICS.md §1; plus the file's h0), each run for `--steps` steps (flows: RK4 steps of 0.05)
//! with every 10th state kept and Gaussian noise of `--noise` added. Trajectory seeds promise no
//! completeness. Last stdout line: `{"count":n,"stable_count":k,"fixed_points":[{"state":[...],
//! "residual":q,"unstable_dims":u,"stable":b,"leading_eigenvalue":[re,im]},...]}` plus `cell`,
//! `slow_points` (same fields plus `speed`), `outliers` and `seeds`.

use std::path::PathBuf;

use emt_core::cells::{Model, ModelFile};
use emt_core::io::Tensors;
use emt_core::{Error, Result, rng};
use emt_dynamics::{
    AsSystem, FixedPoint, FixedPointParams, FixedPoints, Stability, System, find_fixed_points, trajectory_seeds,
};
use ndarray::{Array1, Array2, Axis, concatenate};
use rand::Rng;
use serde_json::json;

/// The flags shared by `emt fixed-points` and `emt plot fixed-points`.
#[derive(clap::Args, Debug, Clone)]
pub struct SearchArgs {
    #[command(flatten)]
    pub model: crate::common::ModelArgs,
    /// Safetensors file with the constant input `input` (d_in); default zero.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Seed of the starting states and the noise.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Starting states.
    #[arg(long, default_value_t = 64)]
    pub starts: usize,
    /// Steps run from each start.
    #[arg(long, default_value_t = 200)]
    pub steps: usize,
    /// Standard deviation of the noise added to trajectory states.
    #[arg(long, default_value_t = 0.05)]
    pub noise: f64,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    search: SearchArgs,
}

/// Everything a search produced, for the command and the plot.
pub struct Search {
    pub file: ModelFile,
    pub input: Array1<f64>,
    pub starts: Array2<f64>,
    pub bound: f64,
    pub found: FixedPoints,
}

impl Search {
    /// The model as a map or a flow.
    pub fn system(&self) -> Result<System<'_>> {
        self.file.model.system()
    }
}

/// Half-width of a box that holds every fixed point (DYNAMICS.md §1): 1 for tanh-bounded
/// states (elman, gru, ctgru), row sums of the couplings plus biases and input otherwise.
pub(crate) fn box_bound(model: &Model, u: &Array1<f64>) -> f64 {
    let row_bound =
        |w: ndarray::ArrayView2<'_, f64>, b: Option<ndarray::ArrayView1<'_, f64>>, drive: Option<Array1<f64>>| {
            (0..w.nrows())
                .map(|i| {
                    w.row(i).iter().map(|v| v.abs()).sum::<f64>()
                        + (b.map_or(0.0, |b| b[i]) + drive.as_ref().map_or(0.0, |d| d[i])).abs()
                })
                .fold(1.0f64, f64::max)
        };
    match model {
        Model::CtRnn(w) => row_bound(w.w_hh(), w.b(), Some(w.w_ih().dot(u))),
        Model::Gated(w) => {
            let [jh, jz, jr] = w.couplings();
            let [bh, bz, br] = w.biases();
            row_bound(jh, bh, Some(u.clone())).max(row_bound(jz, bz, None)).max(row_bound(jr, br, None))
        }
        _ => 1.0,
    }
}

fn point_json(p: &FixedPoint) -> serde_json::Value {
    let lead = p.leading_eigenvalue();
    json!({
        "state": p.state.to_vec(),
        "residual": p.q,
        "speed": p.speed,
        "unstable_dims": p.unstable_dims,
        "stable": p.stability == Stability::Stable,
        "marginal": p.stability == Stability::Marginal,
        "leading_eigenvalue": [lead.re, lead.im],
    })
}

/// Loads the model and input, seeds, and searches.
pub fn search(args: &SearchArgs) -> Result<Search> {
    let file = args.model.load()?;
    let model = &file.model;
    let (n, d) = (model.state_dim(), model.input_dim());
    let u = match &args.input {
        None => Array1::zeros(d),
        Some(path) => {
            let t = Tensors::read(path)?;
            let v = t.vector_optional("input")?.ok_or_else(|| Error::Format {
                path: path.display().to_string(),
                reason: format!("missing tensor \"input\" ({d}) (have: {:?})", t.tensors.keys().collect::<Vec<_>>()),
            })?;
            if v.len() != d {
                return Err(Error::shape("input", format!("({d})"), format!("({})", v.len())));
            }
            v
        }
    };
    let system = model.system()?;
    let bound = box_bound(model, &u);
    let mut r = rng::stream(args.seed, 3);
    let mut starts = Array2::from_shape_simple_fn((args.starts, n), || bound * (2.0 * r.random::<f64>() - 1.0));
    if let Some(h0) = &file.h0 {
        starts = concatenate(Axis(0), &[h0.view().insert_axis(Axis(0)), starts.view()])
            .map_err(|e| Error::shape("starts", format!("(S, {n})"), e.to_string()))?;
    }
    let trajectory = trajectory_seeds(system, u.view(), starts.view(), args.steps, 10, 0.05, args.noise, args.seed)?;
    let seeds = concatenate(Axis(0), &[starts.view(), trajectory.view()])
        .map_err(|e| Error::shape("seeds", format!("(S, {n})"), e.to_string()))?;
    let found = find_fixed_points(system, u.view(), seeds.view(), &FixedPointParams::default())?;
    Ok(Search { file, input: u, starts, bound, found })
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    let Search { file, found, .. } = search(&args.search)?;
    let model = &file.model;
    let n = model.state_dim();
    println!(
        "{} cell (state {n}): {} fixed points ({} stable), {} slow points, {} outliers, {} frozen and {} out-of-box candidates dropped, from {} seeds",
        model.kind(),
        found.fixed.len(),
        found.stable_count(),
        found.slow.len(),
        found.outliers,
        found.saturated,
        found.out_of_bounds,
        found.seeds
    );
    for p in found.fixed.iter().take(12) {
        let z = p.leading_eigenvalue();
        println!(
            "  {:?}, {} unstable dims, leading eigenvalue {:+.4}{:+.4}i, |res| {:.1e}",
            p.stability, p.unstable_dims, z.re, z.im, p.speed
        );
    }
    Ok(json!({
        "count": found.fixed.len(),
        "stable_count": found.stable_count(),
        "fixed_points": found.fixed.iter().map(point_json).collect::<Vec<_>>(),
        "slow_points": found.slow.iter().map(point_json).collect::<Vec<_>>(),
        "outliers": found.outliers,
        "saturated": found.saturated,
        "out_of_bounds": found.out_of_bounds,
        "seeds": found.seeds,
        "cell": model.kind().name(),
    }))
}
