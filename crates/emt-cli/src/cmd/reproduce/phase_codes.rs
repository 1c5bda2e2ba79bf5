//! `emt reproduce phase-codes`: the SET / mod-3 task (Murray; docs/DYNAMICS.md §7). Flags ->
//! [`emt_repro::phase_codes::PhaseSettings`] -> one JSON line per network
//! ([`emt_repro::phase_codes::NetworkReport`]), then the summary
//! ([`emt_repro::phase_codes::PhaseReport`]); the science, and the list of keys, is in emt-repro.

use std::path::PathBuf;

use emt_core::Result;
use emt_repro::phase_codes::PhaseSettings;
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct PhaseArgs {
    /// Networks per alpha (seeds 0..n) [default: 8; --quick: 1].
    #[arg(long)]
    seeds: Option<u64>,
    /// Epochs at most (14 batches each) [default: 300; --quick: 20].
    #[arg(long)]
    epochs: Option<u64>,
    /// Hidden size [default: 100; --quick: 32].
    #[arg(long)]
    hidden: Option<usize>,
    /// Where the trained models go.
    #[arg(long, default_value = "runs/phase_codes")]
    out: PathBuf,
    /// A reduced setting for CI: 1 seed, 20 epochs, N = 32 (flags given with it still apply).
    #[arg(long)]
    quick: bool,
}

/// [`emt_repro::phase_codes::run`] with the settings the flags give (`--quick`:
/// [`PhaseSettings::quick`], else the paper's; any flag given overrides either).
pub(super) fn phase_codes(a: &PhaseArgs) -> Result<Value> {
    let mut s = if a.quick { PhaseSettings::quick() } else { PhaseSettings::default() };
    s.out = a.out.clone();
    if let Some(k) = a.seeds {
        s.seeds = k;
    }
    if let Some(k) = a.epochs {
        s.epochs = k;
    }
    if let Some(k) = a.hidden {
        s.hidden = k;
    }
    // Through a Value, so the line's keys are sorted like every other emt JSON line.
    let mut each = |network: &emt_repro::phase_codes::NetworkReport| match serde_json::to_value(network) {
        Ok(line) => outln!("{line}"),
        Err(e) => errln!("error: cannot write the network's JSON line: {e}"),
    };
    let report = emt_repro::phase_codes::run(&s, &mut |line| errln!("{line}"), &mut each)?;
    serde_json::to_value(report).map_err(|e| emt_core::Error::param("report", "phase-codes", e.to_string()))
}
