//! `emt reproduce`: one command per dynamics paper (issue 12).
//!
//! ```text
//! emt reproduce phase-codes [--seeds 8] [--epochs 300] [--hidden 100] [--out DIR] [--quick]
//! emt reproduce gating [--n 400] [--seed 0] [--grid G1,..xA1,..] [--transition-seeds 1] [--transition-steps 3000]
//!                      [--input-max 1] [--input-only] [--fp-seeds 48] [--fp-n 100,200] [--figure F] [--quick]
//! emt reproduce gru [--samples 3000] [--seed 0] [--line-seeds 8] [--line-steps 10000] [--out DIR] [--quick]
//! ```
//!
//! Each prints one JSON summary (phase-codes: one line per network first) and says what it
//! measured on stderr; the submodules' docs list the keys.

mod gating;
mod gru;
mod phase_codes;

use emt_core::Result;
use serde_json::Value;

pub use gating::GatingArgs;
pub use gru::GruArgs;
pub use phase_codes::PhaseArgs;

#[derive(clap::Subcommand, Debug)]
pub enum Paper {
    /// The SET-task paper: phase codes on limit cycles vs lattices of fixed points.
    PhaseCodes(PhaseArgs),
    /// The theory of gating (docs/DYNAMICS.md §8): zero-state boundary, timescales, transition to chaos.
    Gating(GatingArgs),
    /// Continuous-time GRUs (Jordan, Sokol & Park): the 2-D repertoire (certified multistability,
    /// a limit cycle, a saddle-node on the cycle, a pseudo-line attractor) and 2-D GRUs trained to
    /// remember a continuous value.
    Gru(GruArgs),
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    paper: Paper,
}

pub fn run(args: &Args) -> Result<Value> {
    match &args.paper {
        Paper::PhaseCodes(a) => phase_codes::phase_codes(a),
        Paper::Gating(a) => gating::gating(a),
        Paper::Gru(a) => gru::gru(a),
    }
}
