//! `emt reproduce gating`: the theory of gating (Krishnamurthy, Can & Schwab; docs/DYNAMICS.md §8).
//! Flags -> [`emt_repro::gating::GatingSettings`] -> the report as JSON; the science is in emt-repro.

use std::path::PathBuf;

use emt_core::Result;
use emt_repro::gating::{GatingSettings, inputs_up_to};
use serde_json::Value;

#[derive(clap::Args, Debug)]
pub struct GatingArgs {
    /// Units N (the state has 3N coordinates) [default: 400; --quick: 60].
    #[arg(long)]
    n: Option<usize>,
    /// Seed of the couplings.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Coupling draws (seeds seed..seed+K) averaged along the transition scan; with K >= 2 the
    /// summary gives each point's spread and a verdict on continuous vs abrupt [default: 1;
    /// --quick: 2].
    #[arg(long)]
    transition_seeds: Option<u64>,
    /// RK4 steps of 0.05 per lambda_max estimate along the transition scan [default: 3000;
    /// --quick: 400].
    #[arg(long)]
    transition_steps: Option<usize>,
    /// Largest r-gate input b_r of the input-driven scan: 17 values from 0 [default: 1; --quick:
    /// the 3 values 0, 0.5, 1].
    #[arg(long)]
    input_max: Option<f64>,
    /// Run only the input-driven scan (at N/2 and N) and its fixed-point census, skipping the
    /// timescales, the (g_h, alpha_r) grid and the alpha_r scan (the zero-state check still runs).
    #[arg(long)]
    input_only: bool,
    /// The (g_h, alpha_r) grid of the phase diagram as `G1,G2,..xA1,A2,..` (g_h values, then
    /// alpha_r values), e.g. `1,1.5,2,2.5,3,4x0,2,4,8` (the default; --quick: `1,3x0,4`).
    #[arg(long, value_parser = parse_grid)]
    grid: Option<Grid>,
    /// Seeds of the fixed-point search along the input-driven scan (0: skip it). Half are
    /// states of the flow, half random; see `input_fixed_points` [default: 48; --quick: 12].
    #[arg(long)]
    fp_seeds: Option<usize>,
    /// Sizes N of the fixed-point search along the input-driven scan (its cost grows as N^3)
    /// [default: 100,200; --quick: 12].
    #[arg(long, value_delimiter = ',')]
    fp_n: Option<Vec<usize>>,
    /// Draw the phase diagram over `--grid` here (.png or .svg): lambda_max without and with
    /// the bias b_h = 0.5, and the participation ratio without it, one labelled cell per point.
    #[arg(long)]
    phase_diagram: Option<PathBuf>,
    /// A reduced setting for CI: N = 60, small grids, short runs (flags given with it still apply).
    #[arg(long)]
    quick: bool,
    /// Draw lambda_max against alpha_r (one curve per g_h, with and without the bias, and the
    /// transition at N/2 and N), against the r-gate input (N/2 and N), and the fixed points
    /// found along that input, here (.png or .svg); with `--input-only`, the last two panels.
    #[arg(long)]
    figure: Option<PathBuf>,
}

/// A (g_h, alpha_r) grid: both lists non-empty, finite, alpha_r >= 0, g_h > 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    g_h: Vec<f64>,
    alpha_r: Vec<f64>,
}

fn parse_grid(text: &str) -> std::result::Result<Grid, String> {
    let (g, a) = text.split_once('x').ok_or_else(|| format!("`{text}`: expected G1,G2,..xA1,A2,.. (g_h x alpha_r)"))?;
    let list = |part: &str, name: &str, min: f64| -> std::result::Result<Vec<f64>, String> {
        let values = part
            .split(',')
            .map(|v| {
                let x: f64 = v.trim().parse().map_err(|_| format!("{name} value `{v}` is not a number"))?;
                if x.is_finite() && x >= min {
                    Ok(x)
                } else {
                    Err(format!("{name} value {x} must be finite and >= {min}"))
                }
            })
            .collect::<std::result::Result<Vec<f64>, String>>()?;
        if values.is_empty() { Err(format!("no {name} values")) } else { Ok(values) }
    };
    let g_h = list(g, "g_h", f64::MIN_POSITIVE)?;
    Ok(Grid { g_h, alpha_r: list(a, "alpha_r", 0.0)? })
}

/// The theory of gating (Krishnamurthy, Can & Schwab): [`emt_repro::gating::run`] with the
/// settings the flags give (`--quick`: [`GatingSettings::quick`], else the paper's defaults;
/// any flag given overrides either). The JSON keys are [`emt_repro::gating::GatingReport`]'s.
pub(super) fn gating(a: &GatingArgs) -> Result<Value> {
    if let (true, Some(path)) = (a.input_only, &a.phase_diagram) {
        // Named by its flags here; the library names the settings' fields.
        return Err(emt_core::Error::param(
            "--phase-diagram",
            path.display(),
            "needs the (g_h, alpha_r) grid, which --input-only skips",
        ));
    }
    let mut s = if a.quick { GatingSettings::quick() } else { GatingSettings::default() };
    s.seed = a.seed;
    if let Some(n) = a.n {
        s.n = n;
    }
    if let Some(k) = a.transition_seeds {
        s.transition_seeds = k;
    }
    if let Some(steps) = a.transition_steps {
        s.transition_steps = steps;
    }
    if let Some(max) = a.input_max {
        if !(max.is_finite() && max > 0.0) {
            return Err(emt_core::Error::param("--input-max", max, "must be positive and finite"));
        }
        s.inputs = inputs_up_to(max);
    }
    if let Some(grid) = &a.grid {
        (s.g_h, s.alpha_r) = (grid.g_h.clone(), grid.alpha_r.clone());
    }
    if let Some(k) = a.fp_seeds {
        s.fp_seeds = k;
    }
    if let Some(sizes) = &a.fp_n {
        s.fp_n = sizes.clone();
    }
    s.input_only = a.input_only;
    s.figure = a.figure.clone();
    s.phase_diagram = a.phase_diagram.clone();
    let report = emt_repro::gating::run(&s, &mut |line| errln!("{line}"))?;
    serde_json::to_value(report).map_err(|e| emt_core::Error::param("report", "gating", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_parse_and_bad_ones_name_the_value() {
        let g = parse_grid("1, 2.5x0,4").unwrap();
        assert_eq!((g.g_h, g.alpha_r), (vec![1.0, 2.5], vec![0.0, 4.0]));
        assert!(parse_grid("1,2x0,a").unwrap_err().contains("`a`"));
        assert!(parse_grid("0x1").unwrap_err().contains("g_h value 0"));
        assert!(parse_grid("1x").unwrap_err().contains("alpha_r value ``"));
        assert!(parse_grid("1,2").unwrap_err().contains("g_h x alpha_r"));
    }
}
