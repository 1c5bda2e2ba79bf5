//! The theory of gating (Krishnamurthy, Can & Schwab), with docs/DYNAMICS.md §8's equations: the
//! zero state's stability boundary, timescales, dimensionality and chaos over `(g_h, alpha_r)`,
//! and the r-gate's transition to chaos along `alpha_r` and along a constant input.
//!
//! One function per panel ([`zero_state`], [`timescales`], [`chaos`], [`alpha_r_transition`],
//! [`input_transition`], [`input_fixed_points`]); [`run`] runs those the settings ask for and
//! draws the figures. A small run (seconds):
//!
//! ```
//! use emt_repro::gating::{GatingSettings, run};
//!
//! let mut s = GatingSettings::quick();
//! s.n = 16;
//! s.input_only = true;
//! s.fp_n = vec![6];
//! s.fp_seeds = 6;
//! let report = run(&s, &mut |_line: &str| {})?;
//! assert_eq!(report.input_transition.len(), 2); // N/2 and N
//! assert!(report.input_fixed_points[0].fixed_points.iter().all(|&k| k >= 1)); // the zero state
//! # Ok::<(), emt_core::Error>(())
//! ```

use std::path::PathBuf;

use emt_core::cells::{GatedParams, GatedWeights};
use emt_core::{Error, Flow, Result, rng};
use ndarray::{Array1, Array2};
use serde::Serialize;

use crate::Say;

/// What to compute. `Default` is the paper-scale run; [`GatingSettings::quick`] the CI one.
#[derive(Debug, Clone, PartialEq)]
pub struct GatingSettings {
    /// Units N (the state has 3N coordinates).
    pub n: usize,
    /// Seed of the couplings (draw `k` of a scan uses `seed + k`).
    pub seed: u64,
    /// Time run from a random state before the timescale measurements (dt 0.05).
    pub timescale_time: f64,
    /// RK4 steps of 0.05 per lambda_max estimate in the timescale and chaos panels.
    pub lyapunov_steps: usize,
    /// g_h values of the `(g_h, alpha_r)` grid (each > 0).
    pub g_h: Vec<f64>,
    /// alpha_r values of the grid (each >= 0).
    pub alpha_r: Vec<f64>,
    /// alpha_r values of the transition scan at g_h = 2.5.
    pub alpha_r_scan: Vec<f64>,
    /// Coupling draws averaged along the transition scans (>= 1).
    pub transition_seeds: u64,
    /// RK4 steps of 0.05 per lambda_max estimate along the transition scans.
    pub transition_steps: usize,
    /// Constant inputs `b_r` to the r-gate of the input-driven scan (g_h = 1.8, alpha_r = 4).
    pub inputs: Vec<f64>,
    /// Run only the input-driven panels (and the zero-state check, seconds), skipping the
    /// timescales, the chaos grid and the alpha_r transition.
    pub input_only: bool,
    /// Sizes N of the fixed-point census along the inputs (cost ~ N^3 per Newton step).
    pub fp_n: Vec<usize>,
    /// Newton starts per network of the census (0: skip it).
    pub fp_seeds: usize,
    /// Threads for the coupling draws and the census inputs (results do not depend on it).
    pub threads: usize,
    /// Draw lambda_max against alpha_r, against b_r, and the census here (.png / .svg).
    pub figure: Option<PathBuf>,
    /// Draw the phase diagram over the grid here (.png / .svg).
    pub phase_diagram: Option<PathBuf>,
}

impl Default for GatingSettings {
    fn default() -> Self {
        Self {
            n: 400,
            seed: 0,
            timescale_time: 200.0,
            lyapunov_steps: 3000,
            g_h: vec![1.0, 1.5, 2.0, 2.5, 3.0, 4.0],
            alpha_r: vec![0.0, 2.0, 4.0, 8.0],
            alpha_r_scan: (0..=16).map(|k| 0.25 * k as f64).collect(),
            transition_seeds: 1,
            transition_steps: 3000,
            inputs: inputs_up_to(1.0),
            input_only: false,
            fp_n: vec![100, 200],
            fp_seeds: 48,
            threads: 2,
            figure: None,
            phase_diagram: None,
        }
    }
}

/// 17 evenly spaced r-gate inputs `0, max/16, .., max` (the paper-scale scan).
pub fn inputs_up_to(max: f64) -> Vec<f64> {
    (0..=16).map(|k| max * k as f64 / 16.0).collect()
}

impl GatingSettings {
    /// The CI setting: N = 60, a 2 x 2 grid, 3-point scans of 2 draws x 400 steps, a census at
    /// N = 12 with 12 starts. Seconds on 2 cores.
    pub fn quick() -> Self {
        Self {
            n: 60,
            timescale_time: 60.0,
            lyapunov_steps: 400,
            g_h: vec![1.0, 3.0],
            alpha_r: vec![0.0, 4.0],
            alpha_r_scan: vec![0.0, 2.0, 4.0],
            transition_seeds: 2,
            transition_steps: 400,
            inputs: vec![0.0, 0.5, 1.0],
            fp_n: vec![12],
            fp_seeds: 12,
            ..Self::default()
        }
    }

    /// Errors naming the first setting out of range, before any work (figure paths included).
    pub fn check(&self) -> Result<()> {
        if self.n < 2 {
            return Err(Error::param("n", self.n, "must be >= 2 (the scans run at N/2 and N)"));
        }
        emt_core::check::positive("transition_seeds", self.transition_seeds as usize)?;
        emt_core::check::positive("threads", self.threads)?;
        if !(self.timescale_time.is_finite() && self.timescale_time >= 0.1) {
            return Err(Error::param("timescale_time", self.timescale_time, "must be finite and >= 0.1"));
        }
        for (name, values, min) in [
            ("g_h", &self.g_h, f64::MIN_POSITIVE),
            ("alpha_r", &self.alpha_r, 0.0),
            ("alpha_r_scan", &self.alpha_r_scan, 0.0),
            ("inputs", &self.inputs, f64::NEG_INFINITY),
        ] {
            if values.is_empty() {
                return Err(Error::param(name, "[]", "needs at least one value"));
            }
            if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v >= min)) {
                return Err(Error::param(name, v, format!("must be finite and >= {min}")));
            }
        }
        for &size in &self.fp_n {
            emt_core::check::positive("fp_n", size)?;
        }
        if let (true, Some(path)) = (self.input_only, &self.phase_diagram) {
            return Err(Error::param(
                "phase_diagram",
                path.display(),
                "needs the (g_h, alpha_r) grid, which input_only skips",
            ));
        }
        // Figures are checked before the long runs, so a bad path fails in a second, not at the end.
        for path in [&self.figure, &self.phase_diagram].into_iter().flatten() {
            emt_plot::check_out(path, &[])?;
        }
        Ok(())
    }
}

/// Everything [`run`] measured (serialises to `emt reproduce gating`'s JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatingReport {
    /// Units N.
    pub n: usize,
    /// Seed of the couplings.
    pub seed: u64,
    /// Largest real part of the eigenvalues of the unit-gain couplings J0 `(N, N)`.
    pub max_re_mu: f64,
    /// The alpha_r transition at N/2 and N (empty with `input_only`).
    pub transition: Vec<AlphaScan>,
    /// The input-driven transition at N/2 and N.
    pub input_transition: Vec<InputScan>,
    /// Fixed points along the inputs, one entry per size of `fp_n`.
    pub input_fixed_points: Vec<Census>,
    /// The zero state's boundary for beta_r = -1, 0, 1.
    pub zero_state: Vec<ZeroState>,
    /// Timescales for growing alpha_z (empty with `input_only`).
    pub timescales: Vec<Timescale>,
    /// lambda_max and participation ratio over the grid, without and with the bias.
    pub chaos: Vec<ChaosPoint>,
    /// Wall time of the run.
    pub seconds: f64,
}

/// The zero state at one beta_r: boundary g* = 1 / (s_r0 max Re mu(J0)) and the full 3N
/// Jacobian's check just below and above it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZeroState {
    /// The r-gate bias.
    pub beta_r: f64,
    /// The boundary for these couplings.
    pub g_star: f64,
    /// Its large-N limit 1 + exp(-beta_r).
    pub predicted_large_n: f64,
    /// At 0.98 g* and 1.02 g*.
    pub checks: Vec<ZeroStateCheck>,
}

/// The full Jacobian at the zero state against the formula.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZeroStateCheck {
    /// The gain checked.
    pub g_h: f64,
    /// Largest real part of the Jacobian's eigenvalues.
    pub max_re: f64,
    /// `max_re < 0`.
    pub stable: bool,
    /// Largest gap between the sorted real parts and the formula's.
    pub formula_error: f64,
}

/// Timescales at one alpha_z (g_h = 3, a random z-gate bias).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timescale {
    /// The z-gate's gain.
    pub alpha_z: f64,
    /// Fraction of the Jacobian's eigenvalues within 0.05 of 0 at the final state.
    pub near_zero_fraction: f64,
    /// Autocorrelation time of tanh h over the run's second half.
    pub autocorrelation_time: f64,
    /// Largest real part of the Jacobian's eigenvalues there.
    pub max_re: f64,
    /// lambda_max from the final state.
    pub lambda_max: f64,
}

/// One point of the `(g_h, alpha_r)` grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChaosPoint {
    /// The constant bias b_h (0 or 0.5).
    pub bias: f64,
    /// The gain of J^h.
    pub g_h: f64,
    /// The r-gate's gain.
    pub alpha_r: f64,
    /// lambda_max after 50 time units of settling.
    pub lambda_max: f64,
    /// Participation ratio of tanh h over the settling run's second half (NaN when undefined).
    pub participation_ratio: f64,
}

/// What a lambda_max scan over draws shows ([`emt_dynamics::summarise_scan`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanStats {
    /// Mean over draws per value.
    pub lambda_max: Vec<f64>,
    /// Sample standard deviation per value (NaN, serialised as null, with one draw).
    pub lambda_max_sd: Vec<f64>,
    /// Every draw's curve `(draws, values)`.
    pub lambda_max_by_seed: Vec<Vec<f64>>,
    /// Largest rise of the mean between neighbours.
    pub largest_step: f64,
    /// Where that rise starts.
    pub largest_step_at: Option<f64>,
    /// abrupt / continuous / undecided.
    pub verdict: String,
    /// One line for people.
    pub summary: String,
}

/// lambda_max along alpha_r at g_h = 2.5 for one size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlphaScan {
    /// Mean, spread, step and verdict.
    #[serde(flatten)]
    pub stats: ScanStats,
    /// First alpha_r with mean lambda_max > 0.01.
    pub onset_alpha_r: Option<f64>,
    /// Units.
    pub n: usize,
    /// The scanned values.
    pub alpha_r: Vec<f64>,
    /// Coupling draws.
    pub seeds: u64,
    /// RK4 steps per estimate.
    pub steps: usize,
}

/// lambda_max along the r-gate input at g_h = 1.8, alpha_r = 4 for one size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputScan {
    /// Mean, spread, step and verdict.
    #[serde(flatten)]
    pub stats: ScanStats,
    /// First b_r with mean lambda_max > 0.01.
    pub onset_b_r: Option<f64>,
    /// Units.
    pub n: usize,
    /// The scanned inputs.
    pub b_r: Vec<f64>,
    /// The gain of J^h.
    pub g_h: f64,
    /// The r-gate's gain.
    pub alpha_r: f64,
    /// Per draw, the input where the zero state loses stability (none if it never does).
    pub zero_state_boundary: Vec<Option<f64>>,
}

/// The fixed-point census along the inputs for one size (first coupling draw).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Census {
    /// Units.
    pub n: usize,
    /// The inputs.
    pub b_r: Vec<f64>,
    /// Newton starts per input.
    pub seeds: usize,
    /// Distinct roots per input (a lower bound on the count).
    pub fixed_points: Vec<usize>,
    /// Stable ones (every eigenvalue of the full 3N Jacobian with Re < 0) per input.
    pub stable: Vec<usize>,
    /// Starts whose Newton run converged, per input.
    pub converged: Vec<usize>,
    /// Largest |F(h)|_inf of the reduced equation over all roots.
    pub max_residual: f64,
    /// Largest |f(h, z, r)|_inf of the full flow at the lifted roots (the cross-check).
    pub max_flow_residual: f64,
    /// Largest |h|_2 / sqrt(N) over the roots, per input.
    pub largest_norm: Vec<f64>,
}

/// Gaussian couplings `g G / sqrt(N)` from `seed`, stream `10 + k`.
pub fn couplings(n: usize, g: f64, seed: u64, k: u64) -> Array2<f64> {
    use rand_distr::Distribution;
    let mut r = rng::stream(seed, 10 + k);
    let scale = g / (n as f64).sqrt();
    Array2::from_shape_simple_fn((n, n), || {
        let x: f64 = rand_distr::StandardNormal.sample(&mut r);
        scale * x
    })
}

/// The three unit-gain coupling matrices `[J^h, J^z, J^r]` of draw `seed`.
pub fn coupling_draw(n: usize, seed: u64) -> [Array2<f64>; 3] {
    [couplings(n, 1.0, seed, 0), couplings(n, 1.0, seed, 1), couplings(n, 1.0, seed, 2)]
}

fn gated(
    j0: &[Array2<f64>; 3],
    gains: [f64; 3],
    biases: [Option<Array1<f64>>; 3],
    params: GatedParams,
) -> Result<GatedWeights> {
    GatedWeights::new(&j0[0] * gains[0], &j0[1] * gains[1], &j0[2] * gains[2], biases, params, None)
}

fn sigmoid(b: f64) -> f64 {
    1.0 / (1.0 + (-b).exp())
}

/// Runs every panel the settings ask for, then draws the figures; `say` gets one line per
/// finished measurement (for a progress log; the library never prints).
pub fn run(s: &GatingSettings, say: Say<'_>) -> Result<GatingReport> {
    let start = std::time::Instant::now();
    s.check()?;
    let j0 = coupling_draw(s.n, s.seed);
    let mu = emt_linalg::eigenvalues(j0[0].view())?;
    let max_re_mu = mu.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max);
    let zero_state = zero_state(&j0, say)?;
    let (timescales, chaos, transition) = if s.input_only {
        (Vec::new(), Vec::new(), Vec::new())
    } else {
        (timescales(s, &j0, say)?, self::chaos(s, &j0, say)?, alpha_r_transition(s, say)?)
    };
    let input_transition = input_transition(s, say)?;
    let input_fixed_points = input_fixed_points(s, say)?;
    let report = GatingReport {
        n: s.n,
        seed: s.seed,
        max_re_mu,
        transition,
        input_transition,
        input_fixed_points,
        zero_state,
        timescales,
        chaos,
        seconds: 0.0,
    };
    if let Some(path) = &s.phase_diagram {
        draw_phase_diagram(&report, s, path)?;
    }
    if let Some(path) = &s.figure {
        draw_figure(&report, s, path)?;
    }
    Ok(GatingReport { seconds: start.elapsed().as_secs_f64(), ..report })
}

/// (c) The zero state: spectrum s_z0 (-1 + s_r0 g_h mu_i) and -1/tau_z, -1/tau_r; stable iff
/// g_h < g* = 1 / (s_r0 max Re mu(J0)) -> 1 + exp(-beta_r) for large N. Checked against the
/// full 3N Jacobian just below and above g*, for beta_r = -1, 0, 1.
pub fn zero_state(j0: &[Array2<f64>; 3], say: Say<'_>) -> Result<Vec<ZeroState>> {
    let n = j0[0].nrows();
    let mu = emt_linalg::eigenvalues(j0[0].view())?;
    let mu_max = mu.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max);
    let mut out = Vec::new();
    for beta_r in [-1.0, 0.0, 1.0] {
        let params = GatedParams { beta_r, beta_z: 0.5, tau_z: 2.0, tau_r: 0.5, ..Default::default() };
        let (sz0, sr0) = (sigmoid(params.beta_z), sigmoid(beta_r));
        let g_star = 1.0 / (sr0 * mu_max);
        let predicted = 1.0 + (-beta_r).exp();
        let mut checks = Vec::new();
        for factor in [0.98, 1.02] {
            let g_h = g_star * factor;
            let w = gated(j0, [g_h, 1.0, 1.0], [None, None, None], params)?;
            let jac = w.jacobian(Array1::zeros(3 * n).view(), Array1::zeros(n).view())?;
            let eig = emt_linalg::eigenvalues(jac.view())?;
            let mut formula: Vec<f64> = mu.iter().map(|m| sz0 * (-1.0 + sr0 * g_h * m.re)).collect();
            formula.extend(std::iter::repeat_n(-1.0 / params.tau_z, n));
            formula.extend(std::iter::repeat_n(-1.0 / params.tau_r, n));
            let mut got: Vec<f64> = eig.iter().map(|z| z.re).collect();
            formula.sort_by(f64::total_cmp);
            got.sort_by(f64::total_cmp);
            let formula_error = formula.iter().zip(&got).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
            let max_re = got.last().copied().unwrap_or(f64::NAN);
            checks.push(ZeroStateCheck { g_h, max_re, stable: max_re < 0.0, formula_error });
        }
        say(&format!("zero state, beta_r {beta_r}: boundary g* = {g_star:.4} (large N: {predicted:.4})"));
        out.push(ZeroState { beta_r, g_star, predicted_large_n: predicted, checks });
    }
    Ok(out)
}

/// (a) Timescales: from a random state, run for `timescale_time`; at the final state the share
/// of Jacobian eigenvalues with |lambda| < 0.05 (they pile up near 0), the autocorrelation time
/// of tanh h and lambda_max, for alpha_z = 0, 2, 5, 10, 20 (g_h = 3, a Gaussian z-gate bias).
pub fn timescales(s: &GatingSettings, j0: &[Array2<f64>; 3], say: Say<'_>) -> Result<Vec<Timescale>> {
    let n = j0[0].nrows();
    let dt = 0.05;
    let bz = {
        use rand_distr::Distribution;
        let mut r = rng::stream(s.seed, 20);
        Array1::from_shape_simple_fn(n, || rand_distr::StandardNormal.sample(&mut r))
    };
    let mut out = Vec::new();
    for alpha_z in [0.0, 2.0, 5.0, 10.0, 20.0] {
        let params = GatedParams { alpha_z, ..Default::default() };
        let w = gated(j0, [3.0, 1.0, 1.0], [None, Some(bz.clone()), None], params)?;
        let (states, last) = run_flow(&w, s.timescale_time, dt, s.seed)?;
        let jac = w.jacobian(last.view(), Array1::zeros(n).view())?;
        let eig = emt_linalg::eigenvalues(jac.view())?;
        let near_zero = eig.iter().filter(|z| z.norm() < 0.05).count() as f64 / eig.len() as f64;
        // The paper's timescale: the autocorrelation time of tanh h.
        let tau = emt_dynamics::autocorrelation_time(states.mapv(f64::tanh).view(), dt)?;
        // docs/DYNAMICS.md §8 expects lambda_max to approach 0 as alpha_z grows.
        let lmax = lambda_max(&w, last.view(), s.lyapunov_steps, dt, s.seed)?;
        say(&format!(
            "alpha_z {alpha_z}: {:.1}% of eigenvalues within 0.05 of 0, autocorrelation time {tau:.2}, lambda_max {lmax:+.4}",
            100.0 * near_zero
        ));
        out.push(Timescale {
            alpha_z,
            near_zero_fraction: near_zero,
            autocorrelation_time: tau,
            max_re: eig.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max),
            lambda_max: lmax,
        });
    }
    Ok(out)
}

/// (b) Dimensionality and chaos: lambda_max (two trajectories) and the participation ratio of
/// tanh h over the `(g_h, alpha_r)` grid, without and with a constant bias b_h = 0.5.
pub fn chaos(s: &GatingSettings, j0: &[Array2<f64>; 3], say: Say<'_>) -> Result<Vec<ChaosPoint>> {
    let n = j0[0].nrows();
    let mut out = Vec::new();
    for bias in [0.0, 0.5] {
        for &g_h in &s.g_h {
            for &alpha_r in &s.alpha_r {
                let params = GatedParams { alpha_r, ..Default::default() };
                let bh = (bias != 0.0).then(|| Array1::from_elem(n, bias));
                let w = gated(j0, [g_h, 1.0, 1.0], [bh, None, None], params)?;
                let (states, lmax) = settle_and_lambda(&w, s.lyapunov_steps, s.seed)?;
                let pr = emt_dynamics::participation_ratio(states.mapv(f64::tanh).view()).unwrap_or(f64::NAN);
                say(&format!("b_h {bias}, g_h {g_h}, alpha_r {alpha_r}: lambda_max {lmax:+.4}, PR {pr:.2}"));
                out.push(ChaosPoint { bias, g_h, alpha_r, lambda_max: lmax, participation_ratio: pr });
            }
        }
    }
    Ok(out)
}

/// Is the r-gate's transition to chaos continuous or abrupt? lambda_max along `alpha_r_scan` at
/// g_h = 2.5 for N/2 and N, over `transition_seeds` draws: the onset, the largest step between
/// neighbours and the verdict.
pub fn alpha_r_transition(s: &GatingSettings, say: Say<'_>) -> Result<Vec<AlphaScan>> {
    let mut out = Vec::new();
    for size in [s.n / 2, s.n] {
        let curves = scan_lambda_max(s, size, &s.alpha_r_scan, |j, alpha_r| {
            let params = GatedParams { alpha_r, ..Default::default() };
            gated(j, [2.5, 1.0, 1.0], [None, None, None], params)
        })?;
        let (stats, onset) = summarise(&s.alpha_r_scan, curves, "alpha_r")?;
        say(&format!(
            "N = {size}, g_h = 2.5, {} draws of {} steps along alpha_r: {}",
            stats.lambda_max_by_seed.len(),
            s.transition_steps,
            stats.summary
        ));
        out.push(AlphaScan {
            stats,
            onset_alpha_r: onset,
            n: size,
            alpha_r: s.alpha_r_scan.clone(),
            seeds: s.transition_seeds,
            steps: s.transition_steps,
        });
    }
    Ok(out)
}

/// The gain and r-gate gain of the input-driven scans: the zero state is stable without input.
const INPUT_G_H: f64 = 1.8;
const INPUT_ALPHA_R: f64 = 4.0;

/// The input-driven transition: a constant input b_r to the r-gate (the output gate) of a
/// network whose zero state is stable without it (g_h = 1.8, alpha_r = 4), for N/2 and N. The
/// zero state stays a fixed point and loses stability where s_r(alpha_r b_r) g_h max Re mu(J0) = 1
/// (`zero_state_boundary`, per draw); chaos sets in at the onset (mean lambda_max > 0.01).
pub fn input_transition(s: &GatingSettings, say: Say<'_>) -> Result<Vec<InputScan>> {
    let (g_in, ar_in) = (INPUT_G_H, INPUT_ALPHA_R);
    let mut out = Vec::new();
    for size in [s.n / 2, s.n] {
        let curves = scan_lambda_max(s, size, &s.inputs, |j, b_r| {
            let params = GatedParams { alpha_r: ar_in, ..Default::default() };
            gated(j, [g_in, 1.0, 1.0], [None, None, Some(Array1::from_elem(size, b_r))], params)
        })?;
        let mut boundaries = Vec::new();
        for k in 0..s.transition_seeds {
            let mu = emt_linalg::eigenvalues(couplings(size, 1.0, s.seed + k, 0).view())?;
            let m = mu.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max);
            // s_r(alpha_r b) = 1 / (g_h m): b* = logit(1 / (g_h m)) / alpha_r (none if g_h m <= 1).
            let p = 1.0 / (g_in * m);
            boundaries.push(if p < 1.0 { Some((p / (1.0 - p)).ln() / ar_in) } else { None });
        }
        let (stats, onset) = summarise(&s.inputs, curves, "b_r")?;
        say(&format!(
            "N = {size}, g_h = {g_in}, alpha_r = {ar_in}, {} draws along the r-gate input b_r: {}; zero state unstable from b_r = {}",
            stats.lambda_max_by_seed.len(),
            stats.summary,
            boundaries.iter().map(|b| show_opt(*b)).collect::<Vec<_>>().join(", ")
        ));
        out.push(InputScan {
            stats,
            onset_b_r: onset,
            n: size,
            b_r: s.inputs.clone(),
            g_h: g_in,
            alpha_r: ar_in,
            zero_state_boundary: boundaries,
        });
    }
    Ok(out)
}

/// Fixed points along the same inputs (do they proliferate before chaos, docs/DYNAMICS.md §8?),
/// at the sizes `fp_n` for the first coupling draw: roots of the reduced equation in R^N
/// ([`count_fixed_points`]), a lower bound on the count. Empty when `fp_seeds` is 0.
pub fn input_fixed_points(s: &GatingSettings, say: Say<'_>) -> Result<Vec<Census>> {
    let (g_in, ar_in) = (INPUT_G_H, INPUT_ALPHA_R);
    let mut out = Vec::new();
    for &size in s.fp_n.iter().filter(|_| s.fp_seeds > 0) {
        let j = coupling_draw(size, s.seed);
        let counts = emt_dynamics::in_order_on_threads(s.inputs.len(), s.threads, |i| {
            let params = GatedParams { alpha_r: ar_in, ..Default::default() };
            let b_r = Some(Array1::from_elem(size, s.inputs[i]));
            count_fixed_points(&gated(&j, [g_in, 1.0, 1.0], [None, None, b_r], params)?, s.fp_seeds, s.seed)
        })
        .into_iter()
        .collect::<Result<Vec<FixedPointCount>>>()?;
        let found: Vec<usize> = counts.iter().map(|c| c.found).collect();
        let stable: Vec<usize> = counts.iter().map(|c| c.stable).collect();
        say(&format!(
            "N = {size}, g_h = {g_in}, alpha_r = {ar_in}: fixed points {found:?} ({stable:?} stable) along b_r"
        ));
        out.push(Census {
            n: size,
            b_r: s.inputs.clone(),
            seeds: s.fp_seeds,
            fixed_points: found,
            stable,
            converged: counts.iter().map(|c| c.converged).collect(),
            max_residual: counts.iter().map(|c| c.max_residual).fold(0.0, f64::max),
            max_flow_residual: counts.iter().map(|c| c.max_flow_residual).fold(0.0, f64::max),
            largest_norm: counts.iter().map(|c| c.largest_norm).collect(),
        });
    }
    Ok(out)
}

/// lambda_max of a gated flow from `x0` (zero input, RK4 at `dt`, renormalised every 10 steps).
fn lambda_max(w: &GatedWeights, x0: ndarray::ArrayView1<'_, f64>, steps: usize, dt: f64, seed: u64) -> Result<f64> {
    let lp = emt_dynamics::LyapunovParams {
        exponents: Some(1),
        steps,
        transient: 0,
        renormalize_every: 10,
        dt,
        seed,
        ..Default::default()
    };
    emt_dynamics::lambda_max_flow(w, x0, Array2::zeros((1, w.hidden_dim())).view(), &lp)
}

/// 50 time units of RK4 (dt 0.05) from a seeded random state, then lambda_max over `steps` more:
/// the h-part of the settling run's second half `(500, N)` and lambda_max.
pub fn settle_and_lambda(w: &GatedWeights, steps: usize, seed: u64) -> Result<(Array2<f64>, f64)> {
    let dt = 0.05;
    let (states, last) = run_flow(w, 50.0, dt, seed)?;
    Ok((states, lambda_max(w, last.view(), steps, dt, seed)?))
}

/// A standard Gaussian state `(3N)` from stream 30 of `seed`: where every run of the paper starts.
pub fn random_state(seed: u64, w: &GatedWeights) -> Array1<f64> {
    use rand_distr::Distribution;
    let mut r = rng::stream(seed, 30);
    Array1::from_shape_simple_fn(3 * w.hidden_dim(), || rand_distr::StandardNormal.sample(&mut r))
}

/// RK4 from [`random_state`] for time `t`: the h-part of the states sampled every step over the
/// second half `(steps / 2, N)`, and the final full state `(3N)`.
pub fn run_flow(w: &GatedWeights, t: f64, dt: f64, seed: u64) -> Result<(Array2<f64>, Array1<f64>)> {
    let n = w.hidden_dim();
    let mut x = random_state(seed, w);
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
#[derive(Debug, Clone, PartialEq)]
pub struct FixedPointCount {
    /// Distinct roots.
    pub found: usize,
    /// Roots whose full 3N Jacobian has every eigenvalue with Re < 0.
    pub stable: usize,
    /// Starts whose Newton run converged.
    pub converged: usize,
    /// Largest |F(h)|_inf of the reduced equation over the roots.
    pub max_residual: f64,
    /// Largest |f(h, z, r)|_inf of the full flow at the lifted roots (the cross-check).
    pub max_flow_residual: f64,
    /// Largest |h|_2 / sqrt(N) over the roots (0 if only the zero state).
    pub largest_norm: f64,
}

/// Fixed points of a gated network (zero input) by damped Newton ([`emt_dynamics::newton`]) on
/// the reduced equation in R^N ([`GatedWeights::reduced_fixed_point_equation`]) from `seeds`
/// starts: the zero state, states along 4 settling runs of the flow (half the seeds), and
/// Gaussian states with the runs' RMS (the rest). A root has |F|_inf < 1e-10; roots closer than
/// 1e-6 (1 + |h|) are one. Each is lifted to (h, z, r), checked on the full vector field and
/// classified by the full Jacobian. The paper's census; [`emt_dynamics::find_fixed_points`]
/// is the general search (it uses the same reduction).
pub fn count_fixed_points(w: &GatedWeights, seeds: usize, seed: u64) -> Result<FixedPointCount> {
    use rand_distr::Distribution;
    let n = w.hidden_dim();
    let u = Array1::zeros(n);
    let mut starts: Vec<Array1<f64>> = vec![Array1::zeros(n)];
    let runs = 4;
    let per_run = (seeds / 2).div_ceil(runs);
    let mut sq = (0.0, 0usize);
    for k in 0..runs as u64 {
        let (states, _) = run_flow(w, 50.0, 0.05, seed.wrapping_mul(7919).wrapping_add(100 + k))?;
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

/// lambda_max of the networks `build(J0, value)` for each value, one curve per coupling draw
/// `seed..seed + transition_seeds` ([`emt_dynamics::lambda_max_scan`]: 50 time units of RK4 from
/// [`random_state`], then `transition_steps` steps of 0.05), the draws on `threads`.
fn scan_lambda_max(
    s: &GatingSettings,
    size: usize,
    values: &[f64],
    build: impl Fn(&[Array2<f64>; 3], f64) -> Result<GatedWeights> + Sync,
) -> Result<Vec<Vec<f64>>> {
    let p = emt_dynamics::LambdaScanParams {
        settle_time: 50.0,
        lyapunov: emt_dynamics::LyapunovParams {
            exponents: Some(1),
            steps: s.transition_steps,
            transient: 0,
            renormalize_every: 10,
            dt: 0.05,
            ..Default::default()
        },
        threads: s.threads,
    };
    let draws: Vec<u64> = (0..s.transition_seeds).map(|k| s.seed + k).collect();
    emt_dynamics::lambda_max_scan(values, &draws, |draw, v| build(&coupling_draw(size, draw), v), random_state, &p)
}

/// Mean and spread over draws, onset, largest step and verdict of a scan over `name`, with a
/// one-line summary.
fn summarise(values: &[f64], curves: Vec<Vec<f64>>, name: &str) -> Result<(ScanStats, Option<f64>)> {
    let s = emt_dynamics::summarise_scan(values, &curves, &emt_dynamics::TransitionThresholds::default())?;
    let summary = format!(
        "mean lambda_max {:.3?} over {name} {values:?}; onset {}, largest step {:.3} at {name} {}; {}",
        s.mean,
        show_opt(s.onset),
        s.largest_step,
        s.largest_step_at.unwrap_or(f64::NAN),
        s.verdict
    );
    let stats = ScanStats {
        lambda_max: s.mean,
        lambda_max_sd: s.sd,
        lambda_max_by_seed: curves,
        largest_step: s.largest_step,
        largest_step_at: s.largest_step_at,
        verdict: s.verdict.as_str().to_string(),
        summary,
    };
    Ok((stats, s.onset))
}

/// A value that may be absent, for people: the number, or "none" (not `Some(2.75)` / `None`).
fn show_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "none".to_string(), |x| format!("{x:.4}"))
}

/// The phase diagram over the grid: lambda_max without and with the bias b_h = 0.5, and the
/// participation ratio without it, one labelled cell per point.
pub fn draw_phase_diagram(report: &GatingReport, s: &GatingSettings, path: &std::path::Path) -> Result<()> {
    let cell = |bias: f64, value: fn(&ChaosPoint) -> f64| {
        Array2::from_shape_fn((s.alpha_r.len(), s.g_h.len()), |(i, j)| {
            report
                .chaos
                .iter()
                .find(|c| c.bias == bias && c.g_h == s.g_h[j] && c.alpha_r == s.alpha_r[i])
                .map_or(f64::NAN, value)
        })
    };
    let (l0, l1) = (cell(0.0, |c| c.lambda_max), cell(0.5, |c| c.lambda_max));
    let pr = cell(0.0, |c| c.participation_ratio);
    let panels = [
        emt_plot::PhasePanel { title: "lambda_max, no bias", values: l0.view(), diverging: true },
        emt_plot::PhasePanel { title: "lambda_max, bias b_h = 0.5", values: l1.view(), diverging: true },
        emt_plot::PhasePanel { title: "participation ratio, no bias", values: pr.view(), diverging: false },
    ];
    let title = format!("Gated RNN phase diagram, N = {}, seed {} (red: chaotic)", report.n, report.seed);
    let width = 150 + 90 * 3 * s.g_h.len() as u32;
    let height = 160 + 60 * s.alpha_r.len() as u32;
    let figure = emt_plot::Figure::PhaseDiagram {
        title: &title,
        panels: &panels,
        xs: &s.g_h,
        ys: &s.alpha_r,
        x_desc: "g_h",
        y_desc: "alpha_r",
    };
    emt_plot::save(path, (width.max(1200), height.max(500)), &figure)
}

/// lambda_max against alpha_r (one curve per g_h, without and with the bias, and the transition
/// at N/2 and N), against the r-gate input (N/2 and N), and the census along that input; with
/// `input_only`, the last two panels.
pub fn draw_figure(report: &GatingReport, s: &GatingSettings, path: &std::path::Path) -> Result<()> {
    use emt_plot::{Curve, PALETTE};
    let labels: Vec<String> = s.g_h.iter().map(|g| format!("g_h = {g}")).collect();
    let panel_for = |bias: f64| -> Vec<Curve<'_>> {
        s.g_h
            .iter()
            .enumerate()
            .map(|(k, &g)| Curve {
                label: &labels[k],
                points: report
                    .chaos
                    .iter()
                    .filter(|c| c.bias == bias && c.g_h == g)
                    .map(|c| (c.alpha_r, c.lambda_max))
                    .collect(),
                color: PALETTE[k % PALETTE.len()],
            })
            .collect()
    };
    let size_labels: Vec<String> = report.transition.iter().map(|t| format!("N = {}", t.n)).collect();
    let input_labels: Vec<String> = report.input_transition.iter().map(|t| format!("N = {}", t.n)).collect();
    let sizes = size_curves(report.transition.iter().map(|t| &t.stats.lambda_max[..]), &s.alpha_r_scan, &size_labels);
    let input_curves =
        size_curves(report.input_transition.iter().map(|t| &t.stats.lambda_max[..]), &s.inputs, &input_labels);
    let input_title =
        format!("the input-driven transition (g_h = {INPUT_G_H}, alpha_r = {INPUT_ALPHA_R}) for two sizes");
    let mut panels: Vec<emt_plot::Panel<'_>> = Vec::new();
    if !s.input_only {
        panels.push(("lambda_max, no bias", "alpha_r", "lambda_max", false, panel_for(0.0)));
        panels.push(("lambda_max, bias b_h = 0.5", "alpha_r", "lambda_max", false, panel_for(0.5)));
        panels.push(("the transition at g_h = 2.5 for two sizes", "alpha_r", "lambda_max", false, sizes));
    }
    panels.push((&input_title, "input b_r to the r-gate", "lambda_max", false, input_curves));
    let fp_labels: Vec<String> = report
        .input_fixed_points
        .iter()
        .flat_map(|e| [format!("N = {}: all", e.n), format!("N = {}: stable", e.n)])
        .collect();
    let fp_curves: Vec<Curve<'_>> = report
        .input_fixed_points
        .iter()
        .enumerate()
        .flat_map(|(k, e)| [&e.fixed_points, &e.stable].into_iter().enumerate().map(move |(m, counts)| (k, m, counts)))
        .map(|(k, m, counts)| Curve {
            label: &fp_labels[2 * k + m],
            points: s.inputs.iter().zip(counts).map(|(&x, &y)| (x, y as f64)).collect(),
            color: PALETTE[(2 * k + m) % PALETTE.len()],
        })
        .collect();
    let fp_title = format!("fixed points found along b_r (first draw, {} seeds each)", s.fp_seeds);
    if !fp_curves.is_empty() {
        panels.push((&fp_title, "input b_r to the r-gate", "fixed points", false, fp_curves));
    }
    let height = 100 + 400 * panels.len() as u32;
    let figure =
        emt_plot::Figure::Curves { title: "Gated RNN: the r-gate drives the transition to chaos", panels: &panels };
    emt_plot::save(path, (1000, height), &figure)
}

/// One curve per scanned size: its mean lambda_max against `xs`.
fn size_curves<'a, 'b>(
    means: impl Iterator<Item = &'b [f64]>,
    xs: &[f64],
    labels: &'a [String],
) -> Vec<emt_plot::Curve<'a>> {
    means
        .zip(labels)
        .enumerate()
        .map(|(k, (ys, label))| emt_plot::Curve {
            label,
            points: xs.iter().copied().zip(ys.iter().copied()).collect(),
            color: emt_plot::PALETTE[k % emt_plot::PALETTE.len()],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uncoupled units h_i = g s_r(b_r) tanh h_i: with g s_r > 1 each unit has 0 (unstable) and
    /// +-h* (stable), so N = 2 has 3^2 = 9 fixed points, 2^2 = 4 stable; with g s_r < 1 only 0.
    #[test]
    fn the_census_counts_the_fixed_points_of_uncoupled_units() {
        for (g, want, stable) in [(3.0, 9, 4), (1.5, 1, 1)] {
            let j_h = Array2::eye(2) * g;
            let zero = Array2::zeros((2, 2));
            let params = GatedParams { alpha_r: 2.0, ..Default::default() };
            let b_r = Some(Array1::from_elem(2, 0.2)); // s_r(0.4) = 0.599
            let w = GatedWeights::new(j_h, zero.clone(), zero, [None, None, b_r], params, None).unwrap();
            let c = count_fixed_points(&w, 48, 3).unwrap();
            assert_eq!((c.found, c.stable), (want, stable), "g = {g}");
            assert!(c.max_residual < 1e-10 && c.max_flow_residual < 1e-10);
        }
    }

    /// The zero state's boundary: just below g* the full Jacobian is stable, just above it is
    /// not, and its spectrum matches the formula to rounding.
    #[test]
    fn the_zero_state_loses_stability_at_g_star() {
        let rows = zero_state(&coupling_draw(20, 1), &mut |_| {}).unwrap();
        assert_eq!(rows.len(), 3);
        for z in rows {
            assert!(z.checks[0].stable && !z.checks[1].stable, "beta_r {}", z.beta_r);
            assert!(z.checks.iter().all(|c| c.formula_error < 1e-8), "beta_r {}", z.beta_r);
        }
    }

    #[test]
    fn bad_settings_name_the_value() {
        let e = |s: GatingSettings| s.check().unwrap_err().to_string();
        assert!(e(GatingSettings { g_h: vec![1.0, 0.0], ..GatingSettings::quick() }).contains("g_h"));
        assert!(e(GatingSettings { inputs: vec![], ..GatingSettings::quick() }).contains("inputs"));
        assert!(e(GatingSettings { alpha_r: vec![f64::NAN], ..GatingSettings::quick() }).contains("alpha_r"));
        assert!(e(GatingSettings { n: 0, ..GatingSettings::quick() }).contains('n'));
        let pd = GatingSettings { input_only: true, phase_diagram: Some("x.png".into()), ..GatingSettings::quick() };
        assert!(e(pd).contains("input_only"));
        let bad = GatingSettings { figure: Some("/no/such/dir/f.png".into()), ..GatingSettings::quick() };
        assert!(e(bad).contains("/no/such/dir"));
    }

    /// The answer does not depend on the thread count.
    #[test]
    fn threads_do_not_change_the_report() {
        let base = GatingSettings { n: 12, input_only: true, fp_n: vec![6], fp_seeds: 4, ..GatingSettings::quick() };
        let one = run(&GatingSettings { threads: 1, ..base.clone() }, &mut |_| {}).unwrap();
        let three = run(&GatingSettings { threads: 3, ..base }, &mut |_| {}).unwrap();
        assert_eq!(GatingReport { seconds: 0.0, ..one }, GatingReport { seconds: 0.0, ..three });
    }
}
