//! `emt cycle`: what a model's zero-input run settles on.
//!
//! ```text
//! emt cycle --weights F [--steps T] [--transient T0]
//! ```
//!
//! The run starts from the file's `h0`, else from a seeded small random state (never exactly
//! on an equilibrium such as the origin, where an unstable one would hide a cycle). Maps count
//! steps; flows count time. Last stdout line:
//! `{"kind":"fixed_point"|"limit_cycle"|"invariant_circle"|"chaotic"|"undecided","period":p,
//! "floquet":[[re,im],...],"pc_variance":[...]}` plus `trivial_multiplier` (flows; excluded
//! from `floquet`), `rotation_number` (maps), `lambda_max`, `time_unit`, `cell` and `evidence`.

use emt_core::Result;
use emt_core::cells::ModelFile;
use emt_dynamics::{AsSystem, AttractorParams, System, classify_attractor};
use ndarray::Array1;
use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    model: crate::common::ModelArgs,
    /// Steps (maps) or time (flows) examined after the transient.
    #[arg(long)]
    steps: Option<f64>,
    /// Steps (maps) or time (flows) run first.
    #[arg(long)]
    transient: Option<f64>,
    /// Seed of the starting state when the file has no h0.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    let file = args.model.load()?;
    let model = &file.model;
    let (_n, d) = (model.state_dim(), model.input_dim());
    let x0 = file.start_state(args.seed);
    let system = model.system()?;
    let flow = matches!(system, System::Flow(_));
    let defaults = AttractorParams::for_system(system);
    let params = AttractorParams {
        transient: args.transient.unwrap_or(defaults.transient),
        length: args.steps.unwrap_or(defaults.length),
        ..defaults
    };
    let u = Array1::zeros(d);
    let a = classify_attractor(system, x0.view(), u.view(), &params)?;
    outln!(
        "{} cell: {}{}{} ({})",
        model.kind(),
        a.kind.name(),
        a.period.map_or(String::new(), |p| format!(", period {p:.6} {}", if flow { "time units" } else { "steps" })),
        a.rotation_number.map_or(String::new(), |r| format!(", rotation number {r:.6}")),
        a.evidence
    );
    if !a.floquet.is_empty() {
        let shown: Vec<String> = a.floquet.iter().take(4).map(|z| format!("{:.4}{:+.4}i", z.re, z.im)).collect();
        outln!("  multipliers (largest first): {}", shown.join(", "));
    }
    Ok(json!({
        "kind": a.kind.name(),
        "period": a.period,
        "floquet": a.floquet.iter().map(|z| [z.re, z.im]).collect::<Vec<_>>(),
        "pc_variance": a.pc_variance,
        "trivial_multiplier": a.trivial_multiplier.map(|z| [z.re, z.im]),
        "rotation_number": a.rotation_number,
        "lambda_max": a.lambda_max,
        "time_unit": if flow { "time" } else { "step" },
        "cell": model.kind().name(),
        "evidence": a.evidence,
    }))
}

/// One period of the zero-input attractor `(steps, n)` from the file's `h0` (else a seeded
/// small state), when it is a limit cycle or an invariant circle; `None` otherwise (for figures).
pub fn zero_input_orbit(file: &ModelFile, seed: u64) -> Result<Option<ndarray::Array2<f64>>> {
    let u = Array1::zeros(file.model.input_dim());
    emt_dynamics::cycle_orbit(&file.model, file.start_state(seed).view(), u.view())
}
