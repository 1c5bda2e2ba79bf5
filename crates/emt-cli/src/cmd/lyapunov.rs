//! `emt lyapunov`: the Lyapunov spectrum of any model file's zero-input dynamics.
//!
//! ```text
//! emt lyapunov --weights F [--k K] [--steps T] [--transient T0] [--dt DT] [--seed S]
//! ```
//!
//! Maps (elman, gru, ctrnn) run their step; flows (ctgru, gated) are integrated by RK4 with
//! `--dt`. The run starts from the file's `h0`, else from a seeded small random state (never
//! exactly on an equilibrium such as the origin). Last stdout line:
//! `{"exponents":[...],"time_unit":"step"|"time","kaplan_yorke":x,"sum":s}` plus `cell`, `k`,
//! `steps`, `lambda_max_two_trajectories` (the cross-check) and `sum_rule_reference` (the
//! time-average of ln|det DF| or tr Df when all exponents were computed; else null).
//! `kaplan_yorke` is null when more exponents are needed to decide it; an exponent of `-inf`
//! (a direction the map annihilates) prints as null.

use emt_core::Result;
use emt_core::cells::ModelFile;
use emt_dynamics::{AsSystem, LyapunovParams, LyapunovSpectrum, lambda_max, lyapunov_spectrum};
use ndarray::Array2;
use serde_json::json;

/// The flags shared by `emt lyapunov` and `emt plot lyapunov`.
#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: crate::common::ModelArgs,
    /// Exponents to compute (default: all).
    #[arg(long)]
    pub k: Option<usize>,
    /// Measured steps (maps: map steps; flows: RK4 steps of --dt).
    #[arg(long, default_value_t = 10_000)]
    pub steps: usize,
    /// Unmeasured steps first.
    #[arg(long, default_value_t = 1_000)]
    pub transient: usize,
    /// RK4 step for flows.
    #[arg(long, default_value_t = 0.01)]
    pub dt: f64,
    /// Steps between QR re-orthonormalisations.
    #[arg(long, default_value_t = 1)]
    pub renormalize_every: usize,
    /// Seed of the tangent frame and of the starting state when the file has no h0.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    run: RunArgs,
}

/// The spectrum, the two-trajectory cross-check, and the file it came from.
pub fn spectrum(args: &RunArgs) -> Result<(ModelFile, LyapunovSpectrum, f64)> {
    let file = args.model.load()?;
    let model = &file.model;
    let _n = model.state_dim();
    let x0 = file.start_state(args.seed);
    let inputs = Array2::zeros((1, model.input_dim()));
    let params = LyapunovParams {
        exponents: args.k,
        steps: args.steps,
        transient: args.transient,
        renormalize_every: args.renormalize_every,
        dt: args.dt,
        seed: args.seed,
        ..Default::default()
    };
    let system = model.system()?;
    let s = lyapunov_spectrum(system, x0.view(), inputs.view(), &params)?;
    let l1 = lambda_max(system, x0.view(), inputs.view(), &params)?;
    Ok((file, s, l1))
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    let (file, s, l1) = spectrum(&args.run)?;
    let shown: Vec<String> = s.exponents.iter().take(6).map(|l| format!("{l:+.4}")).collect();
    outln!(
        "{} cell, {} of {} exponents per {}: {}{}",
        file.model.kind(),
        s.exponents.len(),
        file.model.state_dim(),
        s.time_unit.name(),
        shown.join(", "),
        if s.exponents.len() > 6 { ", ..." } else { "" }
    );
    outln!(
        "  lambda_max {:+.5} (two trajectories: {l1:+.5}); Kaplan-Yorke {}; sum {:+.5}{}",
        s.exponents[0],
        s.kaplan_yorke.value().map_or("undetermined (more exponents needed)".into(), |d| format!("{d:.4}")),
        s.sum(),
        s.sum_rule.map_or(String::new(), |r| format!(" (sum rule: {:+.5})", r.reference))
    );
    Ok(json!({
        "exponents": s.exponents,
        "time_unit": s.time_unit.name(),
        "kaplan_yorke": s.kaplan_yorke.value(),
        "sum": s.sum(),
        "cell": file.model.kind().name(),
        "k": s.exponents.len(),
        "steps": args.run.steps,
        "lambda_max_two_trajectories": l1,
        "sum_rule_reference": s.sum_rule.map(|r| r.reference),
    }))
}
