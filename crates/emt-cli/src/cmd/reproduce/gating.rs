//! `emt reproduce gating`: the theory of gating (Krishnamurthy, Can & Schwab; docs/DYNAMICS.md §8).

use std::path::PathBuf;

use emt_core::{Result, rng};
use ndarray::{Array1, Array2};
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct GatingArgs {
    /// Units N (the state has 3N coordinates).
    #[arg(long, default_value_t = 400)]
    n: usize,
    /// Seed of the couplings.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Coupling draws (seeds seed..seed+K) averaged along the transition scan; with K >= 2 the
    /// summary gives each point's spread and a verdict on continuous vs abrupt.
    #[arg(long, default_value_t = 1)]
    transition_seeds: u64,
    /// RK4 steps of 0.05 per lambda_max estimate along the transition scan.
    #[arg(long, default_value_t = 3000)]
    transition_steps: usize,
    /// Largest r-gate input b_r of the input-driven scan (17 values from 0).
    #[arg(long, default_value_t = 1.0)]
    input_max: f64,
    /// Run only the input-driven scan (at N/2 and N), skipping (a)-(c) and the alpha_r scan.
    #[arg(long)]
    input_only: bool,
    /// The (g_h, alpha_r) grid of the phase diagram as `G1,G2,..xA1,A2,..` (g_h values, then
    /// alpha_r values), e.g. `1,1.5,2,2.5,3,4x0,2,4,8` (the default).
    #[arg(long, value_parser = parse_grid)]
    grid: Option<Grid>,
    /// Seeds of the fixed-point search along the input-driven scan (0: skip it). Half are
    /// states of the flow, half random; see `input_fixed_points`.
    #[arg(long, default_value_t = 48)]
    fp_seeds: usize,
    /// Sizes N of the fixed-point search along the input-driven scan (its cost grows as N^3).
    #[arg(long, value_delimiter = ',', default_values_t = [100, 200])]
    fp_n: Vec<usize>,
    /// Draw the phase diagram over `--grid` here (.png or .svg): lambda_max without and with
    /// the bias b_h = 0.5, and the participation ratio without it, one labelled cell per point.
    #[arg(long)]
    phase_diagram: Option<PathBuf>,
    /// A reduced setting for CI: N = 60, small grids, short runs.
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

/// Gaussian couplings `g G / sqrt(N)` from `seed`, stream `k`.
fn couplings(n: usize, g: f64, seed: u64, k: u64) -> Array2<f64> {
    use rand_distr::Distribution;
    let mut r = rng::stream(seed, 10 + k);
    let scale = g / (n as f64).sqrt();
    Array2::from_shape_simple_fn((n, n), || {
        let x: f64 = rand_distr::StandardNormal.sample(&mut r);
        scale * x
    })
}

fn gated(
    j0: &[Array2<f64>; 3],
    gains: [f64; 3],
    biases: [Option<Array1<f64>>; 3],
    params: emt_core::cells::GatedParams,
) -> Result<emt_core::cells::GatedWeights> {
    emt_core::cells::GatedWeights::new(&j0[0] * gains[0], &j0[1] * gains[1], &j0[2] * gains[2], biases, params, None)
}

/// The theory of gating (Krishnamurthy, Can & Schwab), with docs/DYNAMICS.md §8's equations. The
/// summary's `transition` has, for N/2 and N at g_h = 2.5, lambda_max along alpha_r (the mean
/// over `--transition-seeds` coupling draws; `lambda_max_sd`, `lambda_max_by_seed`), the first
/// alpha_r with mean lambda_max > 0.01 (`onset_alpha_r`), the largest step between neighbours
/// (`largest_step`, `largest_step_at`) and a `verdict` (abrupt / continuous / undecided).
/// `input_transition` does the same along a constant input `b_r` to the r-gate at g_h = 1.8,
/// alpha_r = 4 (stable without it), with the zero state's stability boundary per draw.
/// `input_fixed_points` counts the fixed points along the same input for the first draw at the
/// sizes `--fp-n` (`fixed_points`, `stable`, `converged`, `max_residual` of the reduced
/// equation, `max_flow_residual` of the full flow at the lifted roots, `largest_norm`).
/// `chaos` covers the (g_h, alpha_r) grid of `--grid`.
pub(super) fn gating(a: &GatingArgs) -> Result<Value> {
    use emt_core::Flow;
    let start = std::time::Instant::now();
    if !(a.input_max.is_finite() && a.input_max > 0.0) {
        return Err(emt_core::Error::param("--input-max", a.input_max, "must be positive and finite"));
    }
    // Figures are checked before the long runs, so a bad path fails in a second, not at the end.
    for path in [&a.figure, &a.phase_diagram].into_iter().flatten() {
        emt_plot::check_out(path, &[])?;
    }
    if let (true, Some(path)) = (a.input_only, &a.phase_diagram) {
        return Err(emt_core::Error::param(
            "--phase-diagram",
            path.display(),
            "needs the (g_h, alpha_r) grid, which --input-only skips",
        ));
    }
    let n = if a.quick { 60 } else { a.n };
    let seed = a.seed;
    let j0 = [couplings(n, 1.0, seed, 0), couplings(n, 1.0, seed, 1), couplings(n, 1.0, seed, 2)];
    let mu = emt_linalg::eigenvalues(j0[0].view())?;
    let mu_max = mu.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max);
    let sig = |b: f64| 1.0 / (1.0 + (-b).exp());

    // (c) The zero state: spectrum = s_z0 (-1 + s_r0 mu_i) and -1/tau_z, -1/tau_r; stable iff
    // g_h s_r0 max Re mu(J0) < 1, i.e. g_h < g* = 1 / (s_r0 max Re mu(J0)) -> 1 + exp(-beta_r).
    let mut zero_state = Vec::new();
    for beta_r in [-1.0, 0.0, 1.0] {
        let params = emt_core::cells::GatedParams { beta_r, beta_z: 0.5, tau_z: 2.0, tau_r: 0.5, ..Default::default() };
        let (sz0, sr0) = (sig(params.beta_z), sig(beta_r));
        let g_star = 1.0 / (sr0 * mu_max);
        let predicted = 1.0 + (-beta_r).exp();
        // Full 3N Jacobian against the formula, just below and above g*.
        let mut checks = Vec::new();
        for factor in [0.98, 1.02] {
            let g_h = g_star * factor;
            let w = gated(&j0, [g_h, 1.0, 1.0], [None, None, None], params)?;
            let x0 = Array1::zeros(3 * n);
            let jac = w.jacobian(x0.view(), Array1::zeros(n).view())?;
            let eig = emt_linalg::eigenvalues(jac.view())?;
            let mut formula: Vec<f64> = mu.iter().map(|m| sz0 * (-1.0 + sr0 * g_h * m.re)).collect();
            formula.extend(std::iter::repeat_n(-1.0 / params.tau_z, n));
            formula.extend(std::iter::repeat_n(-1.0 / params.tau_r, n));
            let mut got: Vec<f64> = eig.iter().map(|z| z.re).collect();
            formula.sort_by(f64::total_cmp);
            got.sort_by(f64::total_cmp);
            let err = formula.iter().zip(&got).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            let lead = got.last().copied().unwrap_or(f64::NAN);
            checks.push(json!({"g_h": g_h, "max_re": lead, "stable": lead < 0.0, "formula_error": err}));
        }
        zero_state.push(json!({"beta_r": beta_r, "g_star": g_star, "predicted_large_n": predicted, "checks": checks}));
        errln!("zero state, beta_r {beta_r}: boundary g* = {g_star:.4} (large N: {predicted:.4})");
    }

    // (a) Timescales: from a random state, run to t = T; at the final state the Jacobian's
    // eigenvalues with |lambda| < 0.05 (piling up near 0) and the autocorrelation time of
    // tanh h, for growing alpha_z.
    let (t_run, dt) = if a.quick { (60.0, 0.05) } else { (200.0, 0.05) };
    let mut timescales = Vec::new();
    let bz = {
        use rand_distr::Distribution;
        let mut r = rng::stream(seed, 20);
        Array1::from_shape_simple_fn(n, || rand_distr::StandardNormal.sample(&mut r))
    };
    let alpha_zs: &[f64] = if a.input_only { &[] } else { &[0.0, 2.0, 5.0, 10.0, 20.0] };
    for &alpha_z in alpha_zs {
        let params = emt_core::cells::GatedParams { alpha_z, ..Default::default() };
        let w = gated(&j0, [3.0, 1.0, 1.0], [None, Some(bz.clone()), None], params)?;
        let (states, last) = run_flow(&w, n, t_run, dt, seed)?;
        let jac = w.jacobian(last.view(), Array1::zeros(n).view())?;
        let eig = emt_linalg::eigenvalues(jac.view())?;
        let near_zero = eig.iter().filter(|z| z.norm() < 0.05).count() as f64 / eig.len() as f64;
        // The paper's timescale: the autocorrelation time of tanh h.
        let tau = emt_dynamics::autocorrelation_time(states.mapv(f64::tanh).view(), dt)?;
        // lambda_max from the same state: docs/DYNAMICS.md §8 expects it to approach 0 as alpha_z grows.
        let lp = emt_dynamics::LyapunovParams {
            exponents: Some(1),
            steps: if a.quick { 400 } else { 3000 },
            transient: 0,
            renormalize_every: 10,
            dt,
            seed,
            ..Default::default()
        };
        let lmax = emt_dynamics::lambda_max_flow(&w, last.view(), Array2::zeros((1, n)).view(), &lp)?;
        errln!(
            "alpha_z {alpha_z}: {:.1}% of eigenvalues within 0.05 of 0, autocorrelation time {tau:.2}, lambda_max {lmax:+.4}",
            100.0 * near_zero
        );
        timescales.push(json!({"alpha_z": alpha_z, "near_zero_fraction": near_zero, "autocorrelation_time": tau,
                               "max_re": eig.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max),
                               "lambda_max": lmax}));
    }

    // (b) Dimensionality and chaos: lambda_max (two trajectories) and the participation ratio of
    // tanh h over a (g_h, alpha_r) grid, without and with a constant bias b_h = 0.5.
    let (g_grid, ar_grid) = match (&a.grid, a.quick) {
        (Some(grid), _) => (grid.g_h.clone(), grid.alpha_r.clone()),
        (None, true) => (vec![1.0, 3.0], vec![0.0, 4.0]),
        (None, false) => (vec![1.0, 1.5, 2.0, 2.5, 3.0, 4.0], vec![0.0, 2.0, 4.0, 8.0]),
    };
    let steps = if a.quick { 400 } else { 3000 };
    let mut chaos = Vec::new();
    let biases: &[f64] = if a.input_only { &[] } else { &[0.0, 0.5] };
    for &bias in biases {
        for &g_h in &g_grid {
            for &alpha_r in &ar_grid {
                let params = emt_core::cells::GatedParams { alpha_r, ..Default::default() };
                let bh = (bias != 0.0).then(|| Array1::from_elem(n, bias));
                let w = gated(&j0, [g_h, 1.0, 1.0], [bh, None, None], params)?;
                let (states, lmax) = settle_and_lambda(&w, n, steps, seed)?;
                let pr = emt_dynamics::participation_ratio(states.mapv(f64::tanh).view()).unwrap_or(f64::NAN);
                chaos.push(json!({"bias": bias, "g_h": g_h, "alpha_r": alpha_r, "lambda_max": lmax, "participation_ratio": pr}));
                errln!("b_h {bias}, g_h {g_h}, alpha_r {alpha_r}: lambda_max {lmax:+.4}, PR {pr:.2}");
            }
        }
    }
    // Is the r-gate's transition to chaos continuous or abrupt? lambda_max along alpha_r at
    // g_h = 2.5 for N/2 and N: the crossing and the largest step between neighbouring values.
    let fine: Vec<f64> = if a.quick { vec![0.0, 2.0, 4.0] } else { (0..=16).map(|k| 0.25 * k as f64).collect() };
    let (t_seeds, t_steps) = if a.quick { (2, 400) } else { (a.transition_seeds.max(1), a.transition_steps) };
    let mut transition = Vec::new();
    let sizes: &[usize] = if a.input_only { &[] } else { &[n / 2, n] };
    for &size in sizes {
        let curves = scan_lambda_max(size, seed, t_seeds, t_steps, &fine, |j, alpha_r| {
            let params = emt_core::cells::GatedParams { alpha_r, ..Default::default() };
            gated(j, [2.5, 1.0, 1.0], [None, None, None], params)
        })?;
        let mut entry = summarise_scan(&fine, &curves, "alpha_r")?;
        errln!(
            "N = {size}, g_h = 2.5, {} draws of {t_steps} steps along alpha_r: {}",
            curves.len(),
            entry["summary"].as_str().unwrap_or("")
        );
        entry["n"] = json!(size);
        entry["alpha_r"] = json!(fine);
        entry["seeds"] = json!(t_seeds);
        entry["steps"] = json!(t_steps);
        transition.push(entry);
    }
    // The input-driven transition: a constant input b_r to the r-gate (the output gate) of a
    // network whose zero state is stable without it (g_h = 1.8, alpha_r = 4). The zero state
    // stays a fixed point and loses stability where s_r(alpha_r b_r) g_h max Re mu(J0) = 1
    // (`zero_state_boundary`, per draw); chaos sets in at `onset` (mean lambda_max > 0.01).
    let (g_in, ar_in) = (1.8, 4.0);
    let inputs: Vec<f64> =
        if a.quick { vec![0.0, 0.5, 1.0] } else { (0..=16).map(|k| a.input_max * k as f64 / 16.0).collect() };
    let mut input_transition = Vec::new();
    for size in [n / 2, n] {
        let curves = scan_lambda_max(size, seed, t_seeds, t_steps, &inputs, |j, b_r| {
            let params = emt_core::cells::GatedParams { alpha_r: ar_in, ..Default::default() };
            gated(j, [g_in, 1.0, 1.0], [None, None, Some(Array1::from_elem(size, b_r))], params)
        })?;
        let mut boundaries = Vec::new();
        for k in 0..t_seeds {
            let mu = emt_linalg::eigenvalues(couplings(size, 1.0, seed + k, 0).view())?;
            let m = mu.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max);
            // s_r(alpha_r b) = 1 / (g_h m): b* = logit(1 / (g_h m)) / alpha_r (none if g_h m <= 1).
            let p = 1.0 / (g_in * m);
            boundaries.push(if p < 1.0 { Some((p / (1.0 - p)).ln() / ar_in) } else { None });
        }
        let mut entry = summarise_scan(&inputs, &curves, "b_r")?;
        errln!(
            "N = {size}, g_h = {g_in}, alpha_r = {ar_in}, {} draws along the r-gate input b_r: {}; zero state unstable from b_r = {}",
            curves.len(),
            entry["summary"].as_str().unwrap_or(""),
            boundaries.iter().map(|b| show_opt(*b)).collect::<Vec<_>>().join(", ")
        );
        entry["n"] = json!(size);
        entry["b_r"] = json!(inputs);
        entry["g_h"] = json!(g_in);
        entry["alpha_r"] = json!(ar_in);
        entry["zero_state_boundary"] = json!(boundaries);
        input_transition.push(entry);
    }
    // Fixed points along the same input (do they proliferate before chaos, docs/DYNAMICS.md §8?), at
    // the sizes `--fp-n` for the first coupling draw: roots of the reduced equation in R^N
    // (`count_fixed_points`), a lower bound on the count.
    let fp_sizes: Vec<usize> = if a.quick { vec![12] } else { a.fp_n.clone() };
    let fp_seeds = if a.quick { a.fp_seeds.min(12) } else { a.fp_seeds };
    let mut input_fixed_points = Vec::new();
    for &size in fp_sizes.iter().filter(|_| fp_seeds > 0) {
        emt_core::check::positive("--fp-n", size)?;
        let j = [couplings(size, 1.0, seed, 0), couplings(size, 1.0, seed, 1), couplings(size, 1.0, seed, 2)];
        let count = |b_r: f64| -> Result<FixedPointCount> {
            let params = emt_core::cells::GatedParams { alpha_r: ar_in, ..Default::default() };
            let w = gated(&j, [g_in, 1.0, 1.0], [None, None, Some(Array1::from_elem(size, b_r))], params)?;
            count_fixed_points(&w, fp_seeds, seed)
        };
        let counts: Vec<FixedPointCount> = on_two_threads(&inputs, |&b| count(b))?;
        let found: Vec<usize> = counts.iter().map(|c| c.found).collect();
        let stable: Vec<usize> = counts.iter().map(|c| c.stable).collect();
        errln!("N = {size}, g_h = {g_in}, alpha_r = {ar_in}: fixed points {found:?} ({stable:?} stable) along b_r");
        input_fixed_points.push(json!({
            "n": size, "b_r": inputs, "seeds": fp_seeds, "fixed_points": found, "stable": stable,
            "converged": counts.iter().map(|c| c.converged).collect::<Vec<_>>(),
            "max_residual": counts.iter().map(|c| c.max_residual).fold(0.0, f64::max),
            "max_flow_residual": counts.iter().map(|c| c.max_flow_residual).fold(0.0, f64::max),
            "largest_norm": counts.iter().map(|c| c.largest_norm).collect::<Vec<_>>(),
        }));
    }
    if let Some(path) = &a.phase_diagram {
        let cell = |bias: f64, key: &str| {
            Array2::from_shape_fn((ar_grid.len(), g_grid.len()), |(i, j)| {
                chaos
                    .iter()
                    .find(|c| c["bias"] == bias && c["g_h"] == g_grid[j] && c["alpha_r"] == ar_grid[i])
                    .and_then(|c| c[key].as_f64())
                    .unwrap_or(f64::NAN)
            })
        };
        let (l0, l1, pr) = (cell(0.0, "lambda_max"), cell(0.5, "lambda_max"), cell(0.0, "participation_ratio"));
        let panels = [
            emt_plot::PhasePanel { title: "lambda_max, no bias", values: l0.view(), diverging: true },
            emt_plot::PhasePanel { title: "lambda_max, bias b_h = 0.5", values: l1.view(), diverging: true },
            emt_plot::PhasePanel { title: "participation ratio, no bias", values: pr.view(), diverging: false },
        ];
        let title = format!("Gated RNN phase diagram, N = {n}, seed {seed} (red: chaotic)");
        let width = 150 + 90 * 3 * g_grid.len() as u32;
        let height = 160 + 60 * ar_grid.len() as u32;
        emt_plot::save(
            path,
            (width.max(1200), height.max(500)),
            &emt_plot::Figure::PhaseDiagram {
                title: &title,
                panels: &panels,
                xs: &g_grid,
                ys: &ar_grid,
                x_desc: "g_h",
                y_desc: "alpha_r",
            },
        )?;
    }
    if let Some(path) = &a.figure {
        let palette = [
            emt_plot::RGBColor(33, 102, 172),
            emt_plot::RGBColor(27, 120, 55),
            emt_plot::RGBColor(118, 42, 131),
            emt_plot::RGBColor(178, 24, 43),
            emt_plot::RGBColor(230, 97, 1),
            emt_plot::RGBColor(110, 110, 110),
            emt_plot::RGBColor(0, 0, 0),
            emt_plot::RGBColor(53, 151, 143),
        ];
        let labels: Vec<String> = g_grid.iter().map(|g| format!("g_h = {g}")).collect();
        let panel_for = |bias: f64| -> Vec<emt_plot::Curve<'_>> {
            g_grid
                .iter()
                .enumerate()
                .map(|(k, &g)| emt_plot::Curve {
                    label: &labels[k],
                    points: chaos
                        .iter()
                        .filter(|c| c["bias"] == bias && c["g_h"] == g)
                        .map(|c| {
                            (c["alpha_r"].as_f64().unwrap_or(f64::NAN), c["lambda_max"].as_f64().unwrap_or(f64::NAN))
                        })
                        .collect(),
                    color: palette[k % palette.len()],
                })
                .collect()
        };
        let size_labels: Vec<String> = transition.iter().map(|t| format!("N = {}", t["n"])).collect();
        let input_labels: Vec<String> = input_transition.iter().map(|t| format!("N = {}", t["n"])).collect();
        let sizes = size_curves(&transition, &fine, &size_labels, &palette);
        let input_curves = size_curves(&input_transition, &inputs, &input_labels, &palette);
        let input_title = format!("the input-driven transition (g_h = {g_in}, alpha_r = {ar_in}) for two sizes");
        let mut panels: Vec<emt_plot::Panel<'_>> = Vec::new();
        if !a.input_only {
            panels.push(("lambda_max, no bias", "alpha_r", "lambda_max", false, panel_for(0.0)));
            panels.push(("lambda_max, bias b_h = 0.5", "alpha_r", "lambda_max", false, panel_for(0.5)));
            panels.push(("the transition at g_h = 2.5 for two sizes", "alpha_r", "lambda_max", false, sizes));
        }
        panels.push((&input_title, "input b_r to the r-gate", "lambda_max", false, input_curves));
        let fp_labels: Vec<String> = input_fixed_points
            .iter()
            .flat_map(|e| [format!("N = {}: all", e["n"]), format!("N = {}: stable", e["n"])])
            .collect();
        let fp_curves: Vec<emt_plot::Curve<'_>> = input_fixed_points
            .iter()
            .enumerate()
            .flat_map(|(k, e)| ["fixed_points", "stable"].into_iter().enumerate().map(move |(m, key)| (k, m, e, key)))
            .map(|(k, m, e, key)| emt_plot::Curve {
                label: &fp_labels[2 * k + m],
                points: inputs
                    .iter()
                    .zip(e[key].as_array().into_iter().flatten())
                    .map(|(&x, y)| (x, y.as_f64().unwrap_or(f64::NAN)))
                    .collect(),
                color: palette[(2 * k + m) % palette.len()],
            })
            .collect();
        let fp_title = format!("fixed points found along b_r (first draw, {fp_seeds} seeds each)");
        if !fp_curves.is_empty() {
            panels.push((&fp_title, "input b_r to the r-gate", "fixed points", false, fp_curves));
        }
        let height = 100 + 400 * panels.len() as u32;
        emt_plot::save(
            path,
            (1000, height),
            &emt_plot::Figure::Curves {
                title: "Gated RNN: the r-gate drives the transition to chaos",
                panels: &panels,
            },
        )?;
    }
    Ok(json!({
        "n": n,
        "seed": seed,
        "max_re_mu": mu_max,
        "transition": transition,
        "input_transition": input_transition,
        "input_fixed_points": input_fixed_points,
        "zero_state": zero_state,
        "timescales": timescales,
        "chaos": chaos,
        "seconds": start.elapsed().as_secs_f64(),
    }))
}

/// 50 time units of RK4 (dt 0.05) from a seeded random state, then lambda_max over `steps` more:
/// the h-part of the settling run's second half `(500, N)` and lambda_max.
fn settle_and_lambda(
    w: &emt_core::cells::GatedWeights,
    n: usize,
    steps: usize,
    seed: u64,
) -> Result<(Array2<f64>, f64)> {
    let dt = 0.05;
    let (states, last) = run_flow(w, n, 50.0, dt, seed)?;
    let lp = emt_dynamics::LyapunovParams {
        exponents: Some(1),
        steps,
        transient: 0,
        renormalize_every: 10,
        dt,
        seed,
        ..Default::default()
    };
    let lmax = emt_dynamics::lambda_max_flow(w, last.view(), Array2::zeros((1, n)).view(), &lp)?;
    Ok((states, lmax))
}

/// RK4 from a seeded random state for time `t`: the h-part of the states sampled every
/// step `(steps, N)` over the second half, and the final full state.
fn run_flow(
    w: &emt_core::cells::GatedWeights,
    n: usize,
    t: f64,
    dt: f64,
    seed: u64,
) -> Result<(Array2<f64>, Array1<f64>)> {
    use rand_distr::Distribution;
    let mut r = rng::stream(seed, 30);
    let mut x = Array1::from_shape_simple_fn(3 * n, || rand_distr::StandardNormal.sample(&mut r));
    let steps = (t / dt).round() as usize;
    let keep = steps / 2;
    let mut rk = emt_dynamics::Rk4::new(3 * n, 0);
    let u = Array1::zeros(n);
    let mut states = Array2::zeros((keep, n));
    for k in 0..steps {
        rk.step(w, &mut x, u.view(), dt)?;
        if k >= steps - keep {
            states.row_mut(k - (steps - keep)).assign(&x.slice(ndarray::s![..n]));
        }
    }
    Ok((states, x))
}

/// What [`count_fixed_points`] found for one network.
struct FixedPointCount {
    /// Distinct roots.
    found: usize,
    /// Roots whose full 3N Jacobian has every eigenvalue with Re < 0.
    stable: usize,
    /// Seeds whose Newton run converged.
    converged: usize,
    /// Largest |F(h)|_inf of the reduced equation over the roots.
    max_residual: f64,
    /// Largest |f(h, z, r)|_inf of the full flow at the lifted roots (the cross-check).
    max_flow_residual: f64,
    /// Largest |h|_2 / sqrt(N) over the roots (0 if only the zero state).
    largest_norm: f64,
}

/// Fixed points of a gated network by damped Newton on the reduced equation in R^N
/// ([`GatedWeights::reduced_fixed_point_equation`]) from `seeds` starts: the zero state, states
/// along 4 settling runs of the flow (half the seeds), and Gaussian states with the runs' RMS
/// (the rest). A root has |F|_inf < 1e-10; roots closer than 1e-6 (1 + |h|) are one. Each is
/// lifted to (h, z, r), checked on the full vector field and classified by the full Jacobian.
///
/// [`GatedWeights::reduced_fixed_point_equation`]: emt_core::cells::GatedWeights::reduced_fixed_point_equation
fn count_fixed_points(w: &emt_core::cells::GatedWeights, seeds: usize, seed: u64) -> Result<FixedPointCount> {
    use emt_core::Flow;
    use rand_distr::Distribution;
    let n = w.hidden_dim();
    let u = Array1::zeros(n);
    let mut starts: Vec<Array1<f64>> = vec![Array1::zeros(n)];
    let runs = 4;
    let per_run = (seeds / 2).div_ceil(runs);
    let mut sq = (0.0, 0usize);
    for k in 0..runs as u64 {
        let (states, _) = run_flow(w, n, 50.0, 0.05, seed.wrapping_mul(7919).wrapping_add(100 + k))?;
        let rows = states.nrows();
        for i in 0..per_run {
            let row = states.row(i * (rows - 1) / per_run.max(1));
            sq.0 += row.dot(&row);
            sq.1 += n;
            starts.push(row.to_owned());
        }
    }
    let sigma = if sq.1 > 0 && sq.0 > 0.0 { (sq.0 / sq.1 as f64).sqrt() } else { 1.0 };
    let mut r = rng::stream(seed, 40);
    while starts.len() < seeds.max(1) {
        starts.push(Array1::from_shape_simple_fn(n, || {
            let x: f64 = rand_distr::StandardNormal.sample(&mut r);
            sigma * x
        }));
    }
    starts.truncate(seeds.max(1));
    let mut roots: Vec<(Array1<f64>, f64)> = Vec::new();
    let mut converged = 0;
    for x0 in starts {
        // Damped Newton with the library's defaults (Armijo 1e-4 backtracking to 1e-6, at most
        // 100 iterations); a root has |F|_inf < 1e-10.
        let out = emt_dynamics::newton(|h| w.reduced_fixed_point_equation(h, u.view()), x0, &Default::default())?;
        if out.converged() {
            let (h, res) = (out.x, out.residual);
            converged += 1;
            let scale = 1.0 + h.dot(&h).sqrt();
            if !roots.iter().any(|(q, _)| (q - &h).mapv(|v| v * v).sum().sqrt() < 1e-6 * scale) {
                roots.push((h, res));
            }
        }
    }
    let mut out = FixedPointCount {
        found: roots.len(),
        stable: 0,
        converged,
        max_residual: 0.0,
        max_flow_residual: 0.0,
        largest_norm: 0.0,
    };
    for (h, res) in &roots {
        let full = w.lift(h.view())?;
        let flow = w.field(full.view(), u.view())?;
        out.max_flow_residual = out.max_flow_residual.max(flow.iter().fold(0.0, |m, v| m.max(v.abs())));
        out.max_residual = out.max_residual.max(*res);
        out.largest_norm = out.largest_norm.max(h.dot(h).sqrt() / (n as f64).sqrt());
        let eig = emt_linalg::eigenvalues(w.jacobian(full.view(), u.view())?.view())?;
        out.stable += usize::from(eig.iter().all(|z| z.re < 0.0));
    }
    Ok(out)
}

/// One curve per scanned size: the mean lambda_max of each scan against `xs`.
fn size_curves<'a>(
    scans: &[Value],
    xs: &[f64],
    labels: &'a [String],
    palette: &[emt_plot::RGBColor],
) -> Vec<emt_plot::Curve<'a>> {
    scans
        .iter()
        .zip(labels)
        .enumerate()
        .map(|(k, (t, label))| emt_plot::Curve {
            label,
            points: xs
                .iter()
                .zip(t["lambda_max"].as_array().into_iter().flatten())
                .map(|(&x, y)| (x, y.as_f64().unwrap_or(f64::NAN)))
                .collect(),
            color: palette[k % palette.len()],
        })
        .collect()
}

/// lambda_max ([`settle_and_lambda`]) of the networks `build(J0, value)` for each value, one curve per coupling draw `seed..seed+draws`,
/// the draws split over two threads.
fn scan_lambda_max(
    size: usize,
    seed: u64,
    draws: u64,
    steps: usize,
    values: &[f64],
    build: impl Fn(&[Array2<f64>; 3], f64) -> Result<emt_core::cells::GatedWeights> + Sync,
) -> Result<Vec<Vec<f64>>> {
    let per_draw = |s: u64| -> Result<Vec<f64>> {
        let j = [couplings(size, 1.0, s, 0), couplings(size, 1.0, s, 1), couplings(size, 1.0, s, 2)];
        let mut curve = Vec::new();
        for &v in values {
            curve.push(settle_and_lambda(&build(&j, v)?, size, steps, s)?.1);
        }
        Ok(curve)
    };
    let draws: Vec<u64> = (0..draws).map(|k| seed + k).collect();
    on_two_threads(&draws, |&s| per_draw(s))
}

/// `f` of every item, items alternating between two threads, results in the items' order (so
/// the output does not depend on scheduling).
fn on_two_threads<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> Result<R> + Sync) -> Result<Vec<R>> {
    std::thread::scope(|scope| {
        let halves: Vec<_> = [0usize, 1]
            .map(|h| {
                let f = &f;
                scope.spawn(move || {
                    items
                        .iter()
                        .enumerate()
                        .skip(h)
                        .step_by(2)
                        .map(|(i, x)| f(x).map(|r| (i, r)))
                        .collect::<Result<Vec<_>>>()
                })
            })
            .into_iter()
            .collect();
        let mut all = Vec::new();
        for h in halves {
            all.extend(h.join().map_err(|_| emt_core::Error::param("worker thread", "join", "panicked"))??);
        }
        all.sort_by_key(|(i, _)| *i);
        Ok(all.into_iter().map(|(_, r)| r).collect())
    })
}

/// Mean and spread over draws of a lambda_max scan, the first value with mean > 0.01
/// (`onset_<name>`; `onset_alpha_r` for the alpha_r scan), the largest step between
/// neighbours and the verdict; `summary` is a one-line account for stderr.
fn summarise_scan(values: &[f64], curves: &[Vec<f64>], name: &str) -> Result<Value> {
    let s = emt_dynamics::summarise_scan(values, curves, &emt_dynamics::TransitionThresholds::default())?;
    let summary = format!(
        "mean lambda_max {:.3?} over {name} {values:?}; onset {}, largest step {:.3} at {name} {}; {}",
        s.mean,
        show_opt(s.onset),
        s.largest_step,
        s.largest_step_at.unwrap_or(f64::NAN),
        s.verdict
    );
    Ok(json!({
        "lambda_max": s.mean, "lambda_max_sd": s.sd, "lambda_max_by_seed": curves,
        format!("onset_{name}"): s.onset, "largest_step": s.largest_step,
        "largest_step_at": s.largest_step_at, "verdict": s.verdict.as_str(), "summary": summary,
    }))
}

/// A value that may be absent, for people: the number, or "none" (not `Some(2.75)` / `None`).
fn show_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "none".to_string(), |x| format!("{x:.4}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uncoupled units h_i = g s_r(b_r) tanh h_i: with g s_r > 1 each unit has 0 (unstable) and
    /// +-h* (stable), so N = 2 has 3^2 = 9 fixed points, 2^2 = 4 stable; with g s_r < 1 only 0.
    #[test]
    fn the_reduced_search_counts_the_fixed_points_of_uncoupled_units() {
        for (g, want, stable) in [(3.0, 9, 4), (1.5, 1, 1)] {
            let j_h = Array2::eye(2) * g;
            let zero = Array2::zeros((2, 2));
            let params = emt_core::cells::GatedParams { alpha_r: 2.0, ..Default::default() };
            let b_r = Some(Array1::from_elem(2, 0.2)); // s_r(0.4) = 0.599
            let w =
                emt_core::cells::GatedWeights::new(j_h, zero.clone(), zero, [None, None, b_r], params, None).unwrap();
            let c = count_fixed_points(&w, 48, 3).unwrap();
            assert_eq!((c.found, c.stable), (want, stable), "g = {g}");
            assert!(c.max_residual < 1e-10 && c.max_flow_residual < 1e-10);
        }
    }

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
