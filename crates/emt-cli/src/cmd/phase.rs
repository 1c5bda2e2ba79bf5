//! `emt phase`: how much each input pulse shifts the phase of a model's oscillation.
//!
//! ```text
//! emt phase --weights F --pulses P.safetensors [--pulse-steps 2]
//! ```
//!
//! P holds one `(d_in)` tensor per symbol, named by the symbol. The model's zero-input run
//! (from its `h0`, else a seeded small state) must settle on a periodic orbit or an invariant
//! circle of its step map (flows: the Euler map with the file's `dt`); each pulse is held for
//! `--pulse-steps` steps at `--arrivals` phases spread evenly over one period. Last stdout line:
//! `{"period":p,"shifts":{"NAME":rad,...},"spread":{"NAME":circ_std,...}}` plus `kind` and
//! `resultant` (mean resultant length per symbol). Shifts are circular means in `(-pi, pi]`,
//! positive an advance.

use std::collections::BTreeMap;
use std::path::PathBuf;

use emt_core::io::Tensors;
use emt_core::{Error, Result};
use emt_dynamics::{AttractorKind, AttractorParams, PhaseParams, System, classify_attractor, phase_response_map};
use ndarray::Array1;
use serde_json::json;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[command(flatten)]
    model: crate::common::ModelArgs,
    /// Safetensors file with one (d_in) pulse vector per symbol.
    #[arg(long)]
    pulses: PathBuf,
    /// Steps each pulse is held.
    #[arg(long, default_value_t = 2)]
    pulse_steps: usize,
    /// Arrival phases per pulse, spread over one period.
    #[arg(long, default_value_t = 16)]
    arrivals: usize,
    /// Steps run before looking for the orbit.
    #[arg(long, default_value_t = 2000)]
    transient: usize,
    /// Seed of the starting state when the file has no h0.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// The oscillation and one phase response curve per symbol.
pub struct Responses {
    pub cell: emt_core::cells::CellKind,
    pub kind: AttractorKind,
    pub period: f64,
    pub curves: Vec<(String, emt_dynamics::PhaseResponse)>,
}

impl Args {
    /// The files this command reads (an output must be none of them).
    pub fn input_paths(&self) -> Vec<&std::path::Path> {
        vec![&self.model.weights, &self.pulses]
    }
}

/// Loads the model and pulses, finds the oscillation and measures every symbol's PRC.
pub fn responses(args: &Args) -> Result<Responses> {
    let file = args.model.load()?;
    let model = &file.model;
    let (_n, d) = (model.state_dim(), model.input_dim());
    let pulses = Tensors::read(&args.pulses)?;
    let mut symbols = BTreeMap::new();
    for (name, t) in &pulses.tensors {
        if t.shape() != [d] {
            return Err(Error::shape(name.as_str(), format!("({d})"), emt_core::check::fmt_shape(t.shape())));
        }
        symbols.insert(name.clone(), Array1::from_iter(t.iter().copied()));
    }
    if symbols.is_empty() {
        return Err(Error::Format { path: args.pulses.display().to_string(), reason: "no pulse tensors".into() });
    }
    let x0 = file.start_state(args.seed);
    let map = model.cell().map();
    let zero = Array1::zeros(d);
    let params = AttractorParams { transient: args.transient as f64, ..Default::default() };
    let orbit = classify_attractor(System::Map(map.as_ref()), x0.view(), zero.view(), &params)?;
    let period = match (orbit.kind, orbit.period) {
        (AttractorKind::LimitCycle | AttractorKind::InvariantCircle, Some(p)) if p >= 2.0 => p,
        _ => {
            return Err(Error::param(
                "--weights",
                args.model.weights.display(),
                format!("the zero-input run settles on no oscillation ({}: {})", orbit.kind.name(), orbit.evidence),
            ));
        }
    };
    let phase = PhaseParams { pulse_steps: args.pulse_steps, arrivals: args.arrivals, ..Default::default() };
    let mut curves = Vec::new();
    for (name, pulse) in &symbols {
        curves
            .push((name.clone(), phase_response_map(map.as_ref(), orbit.state.view(), period, pulse.view(), &phase)?));
    }
    Ok(Responses { cell: model.kind(), kind: orbit.kind, period, curves })
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    let Responses { cell, kind, period, curves } = responses(args)?;
    let (mut shifts, mut spread, mut resultant) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    outln!("{cell} cell: {} with period {period:.4} steps", kind.name());
    for (name, prc) in &curves {
        outln!(
            "  {name}: shift {:+.6} rad ({:+.2} deg), circular spread {:.2e}",
            prc.mean,
            prc.mean.to_degrees(),
            prc.spread
        );
        shifts.insert(name.clone(), prc.mean);
        spread.insert(name.clone(), prc.spread);
        resultant.insert(name.clone(), prc.resultant);
    }
    Ok(json!({
        "period": period,
        "shifts": shifts,
        "spread": spread,
        "resultant": resultant,
        "kind": kind.name(),
        "cell": cell.name(),
    }))
}
