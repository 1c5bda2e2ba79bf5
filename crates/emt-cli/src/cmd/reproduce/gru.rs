//! `emt reproduce gru`: continuous-time GRUs in 2-D (Jordan, Sokol & Park). Flags ->
//! [`emt_repro::gru::GruSettings`] -> the report as JSON; the science is in emt-repro.
//!
//! The summary's keys ([`emt_repro::gru::GruReport`]): `samples`, `count_histogram` (certified
//! fixed-point counts of random 2-D ctgrus), `undecided`, `most_fixed_points`,
//! `constructed_u_h_3i`, `limit_cycle`, `snic` (saddle-node located by the sweep vs the
//! period-divergence fit), `pseudo_line` (the hand-built slow manifold: `fixed_points`, `stable`
//! with their `rates`, `slow_span`, `max_speed_in_span`, `curve`, `weights`), `trained_lines`
//! (`dt`, `horizon`, `steps`, `networks`: per seed `mse`, `explained`, `max_error_by_delay` /
//! `rms_error_by_delay` at 1, 10 and 100 horizons, `end_states`, `runs_ending_at_stable_points`,
//! `manifold`, `weights`), `seconds`.

use std::path::PathBuf;

use emt_core::Result;
use emt_repro::gru::GruSettings;
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct GruArgs {
    /// Random 2-D ctgru parameter sets searched for the most fixed points [default: 3000;
    /// --quick: 200].
    #[arg(long)]
    samples: Option<usize>,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the networks are saved (the most multistable one, the pseudo-line attractor, the
    /// analog-memory networks).
    #[arg(long, default_value = "runs/gru")]
    out: PathBuf,
    /// 2-D ctgrus trained on analog memory (seeds 0..n) [default: 8; --quick: 1].
    #[arg(long)]
    line_seeds: Option<u64>,
    /// Training steps per analog-memory network [default: 10000; --quick: 300].
    #[arg(long)]
    line_steps: Option<u64>,
    /// Euler step of the analog-memory networks (the task is defined in time units).
    #[arg(long, default_value_t = 0.1)]
    line_dt: f64,
    /// A reduced setting for CI: 200 samples, one analog-memory network of 300 steps (flags
    /// given with it still apply).
    #[arg(long)]
    quick: bool,
}

/// [`emt_repro::gru::run`] with the settings the flags give (`--quick`: [`GruSettings::quick`],
/// else the paper's; any flag given overrides either).
pub(super) fn gru(a: &GruArgs) -> Result<Value> {
    let mut s = if a.quick { GruSettings::quick() } else { GruSettings::default() };
    s.seed = a.seed;
    s.out = a.out.clone();
    s.line_dt = a.line_dt;
    if let Some(k) = a.samples {
        s.samples = k;
    }
    if let Some(k) = a.line_seeds {
        s.line_seeds = k;
    }
    if let Some(k) = a.line_steps {
        s.line_steps = k;
    }
    let report = emt_repro::gru::run(&s, &mut |line| errln!("{line}"))?;
    serde_json::to_value(report).map_err(|e| emt_core::Error::param("report", "gru", e.to_string()))
}
