//! `emt reproduce`: one command per dynamics paper (issue 12). So far: `phase-codes`.
//!
//! ```text
//! emt reproduce phase-codes [--seeds 8] [--epochs 300] [--hidden 100] [--out DIR] [--quick]
//! ```
//!
//! **phase-codes** (Murray, the SET / mod-3 task; DYNAMICS.md §7). For alpha in {1.0, 0.1} and
//! each seed: colour vectors N(0, I_100) from the seed, the fixed 900 + 900 training set in
//! reshuffled batches of 128, a CT-RNN (N = `--hidden`, noise 0.1 inside the alpha term, rate
//! penalty 1e-6, AdamW lr 1e-3 with decoupled decay 1e-4, clip 1, Glorot-normal weights, zero
//! biases, h0 = ones, readout on tanh h), stopping early once the 27-trial test set is 100% right
//! by the paper's rule (last step beyond +-0.5; checked every epoch, noise-free). Then, on the
//! noise-free map: the zero-input attractor from h0 (`emt cycle`), the fixed points, and for an
//! oscillating network the phase shift of each colour (a 2-step pulse, circular mean over 16
//! arrival phases) with the Z3 test: pairwise differences +-2pi/3 mod 2pi up to a common offset
//! (reported). Every solved network's finite-state automaton is extracted (`fsa`: states at
//! input-free moments, autonomous motion removed, clustered; transitions per colour with their
//! determinism; `z3`: whether the table is the Z3 group's; `verdicts_match` of 27). The
//! handcrafted Z3 oscillator is scored on the same test set (27/27 expected).
//! Per network one JSON line on stdout; the last line is the summary: `networks` (per alpha:
//! `trained`, `solved`, `oscillatory`, `attractive`, `z3`, `fsa_z3`), `oscillator_correct`, `seconds`,
//! `out`. Models are saved to `--out` (default `runs/phase_codes`), with each seed's colour
//! vectors as `colours_seed{s}.safetensors` (pulses for `emt phase` and `emt plot prc`).

use std::path::PathBuf;

use emt_core::cells::{ModelFile, OscillatorWeights};
use emt_core::{DiscreteMap, Result, rng};
use emt_dynamics::{
    AsSystem, AttractorKind, AttractorParams, FixedPointParams, PhaseParams, Stability, classify_attractor,
    find_fixed_points, fit_period_divergence, phase_response_map, trajectory_seeds, wrap,
};
use emt_rnn::{
    AdamConfig, CellSpec, Control, Curriculum, Engine, Event, Init, Observer, TanhMode, Trainer, TrainerParams,
    TrainerView,
};
use emt_tasks::{SetEpochs, SetTask, set_labels};
use ndarray::{Array1, Array2, Axis};
use serde_json::{Value, json};

#[derive(clap::Subcommand, Debug)]
pub enum Paper {
    /// The SET-task paper: phase codes on limit cycles vs lattices of fixed points.
    PhaseCodes(PhaseArgs),
    /// The theory of gating (DYNAMICS.md §8): zero-state boundary, timescales, transition to chaos.
    Gating(GatingArgs),
    /// Continuous-time GRUs (Jordan, Sokol & Park): the 2-D repertoire (so far: multistability
    /// with certified counts, and the limit cycle).
    Gru(GruArgs),
}

#[derive(clap::Args, Debug)]
pub struct GruArgs {
    /// Random 2-D ctgru parameter sets searched for the most fixed points.
    #[arg(long, default_value_t = 3000)]
    samples: usize,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the most multistable network found is saved.
    #[arg(long, default_value = "runs/gru")]
    out: PathBuf,
    /// A reduced setting for CI: 200 samples.
    #[arg(long)]
    quick: bool,
}

#[derive(clap::Args, Debug)]
pub struct GatingArgs {
    /// Units N (the state has 3N coordinates).
    #[arg(long, default_value_t = 400)]
    n: usize,
    /// Seed of the couplings.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A reduced setting for CI: N = 60, small grids, short runs.
    #[arg(long)]
    quick: bool,
    /// Draw lambda_max against alpha_r (one curve per g_h, with and without the bias, and the
    /// transition at N/2 and N) here (.png or .svg).
    #[arg(long)]
    figure: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    paper: Paper,
}

#[derive(clap::Args, Debug)]
pub struct PhaseArgs {
    /// Networks per alpha (seeds 0..n).
    #[arg(long, default_value_t = 8)]
    seeds: u64,
    /// Epochs at most (14 batches each).
    #[arg(long, default_value_t = 300)]
    epochs: u64,
    /// Hidden size.
    #[arg(long, default_value_t = 100)]
    hidden: usize,
    /// Where the trained models go.
    #[arg(long, default_value = "runs/phase_codes")]
    out: PathBuf,
    /// A reduced setting for CI: 1 seed, 20 epochs, N = 32.
    #[arg(long)]
    quick: bool,
}

pub fn run(args: &Args) -> Result<Value> {
    match &args.paper {
        Paper::PhaseCodes(a) => phase_codes(a),
        Paper::Gating(a) => gating(a),
        Paper::Gru(a) => gru(a),
    }
}

/// The paper's accuracy of `params` on the 27-trial test set (noise-free, h0 = ones).
fn test_accuracy(params: &emt_rnn::Params<f32>, test: &emt_core::Episode) -> Result<f64> {
    let n = params.layout().hidden;
    let mut engine = Engine::<f32>::new(1, TanhMode::Exact)?.with_h0(vec![1.0; n])?;
    let (outputs, _) = engine.forward(params, test.inputs())?;
    let last = outputs.index_axis(Axis(0), outputs.dim().0 - 1).mapv(f64::from);
    SetTask::accuracy(last.view(), &set_labels(test))
}

/// Stops training once the test set is solved; checks after every epoch.
struct SolveCheck<'a> {
    test: &'a emt_core::Episode,
    every: u64,
    accuracy: f64,
}

impl Observer for SolveCheck<'_> {
    fn observe(&mut self, view: &TrainerView<'_>, event: &Event) -> Result<Control> {
        if let Event::Step(s) = event {
            if s.step % self.every == 0 {
                self.accuracy = test_accuracy(view.params(), self.test)?;
                if self.accuracy >= 1.0 {
                    return Ok(Control::Stop);
                }
            }
        }
        Ok(Control::Continue)
    }
}

/// Shifts `s_c`, and the best Z3 fit `s_c = delta + 2pi k_c / 3` with `{k_c}` a permutation of
/// {0, 1, 2}: (max deviation, delta, k).
fn z3_fit(shifts: &[f64; 3]) -> (f64, f64, [usize; 3]) {
    let third = 2.0 * std::f64::consts::PI / 3.0;
    let perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    let mut best = (f64::INFINITY, 0.0, [0, 1, 2]);
    for k in perms {
        let res: Vec<f64> = (0..3).map(|c| shifts[c] - third * k[c] as f64).collect();
        let delta = res.iter().map(|r| r.sin()).sum::<f64>().atan2(res.iter().map(|r| r.cos()).sum::<f64>());
        let dev = res.iter().map(|r| wrap(r - delta).abs()).fold(0.0, f64::max);
        if dev < best.0 {
            best = (dev, delta, k);
        }
    }
    best
}

fn phase_codes(a: &PhaseArgs) -> Result<Value> {
    let (seeds, epochs, hidden) = if a.quick { (1, 20, 32) } else { (a.seeds, a.epochs, a.hidden) };
    std::fs::create_dir_all(&a.out).map_err(|e| emt_core::Error::file(&a.out, e))?;
    let start = std::time::Instant::now();
    let mut summary = serde_json::Map::new();
    let mut oscillator_correct = Vec::new();
    for alpha in [1.0, 0.1] {
        let (mut solved, mut oscillatory, mut attractive, mut z3, mut fsa_z3) = (0, 0, 0, 0, 0);
        for seed in 0..seeds {
            let task = SetTask::random(100, seed)?;
            let test = task.test_set(&mut rng::stream(seed, 5))?;
            let data = SetEpochs::new(task.clone(), &mut rng::stream(seed, 6));
            let per_epoch = (data.len() / 128) as u64;
            let params = TrainerParams::paper()
                .cell(CellSpec::CtRnn { alpha })
                .init(Init::GlorotNormal)
                .h0(Some(vec![1.0; hidden]))
                .noise(0.1)
                .rate_penalty(1e-6)
                .adam(AdamConfig::adamw(1e-3, 1e-4))
                .bias(true)
                .hidden(hidden)
                .batch(128)
                .seed(seed)
                .curriculum(Curriculum::new(vec![5], 1.0)?)
                .eval_horizon(5)
                .eval_batch(256)
                .eval_every(per_epoch * epochs + 1)
                .target_accuracy(None)
                .max_steps(per_epoch * epochs);
            let mut trainer = Trainer::new(data, params)?;
            let mut check = SolveCheck { test: &test, every: per_epoch, accuracy: 0.0 };
            let report = trainer.run(&mut [&mut check])?;
            let accuracy = test_accuracy(trainer.params(), &test)?;
            solved += usize::from(accuracy >= 1.0);
            let model = trainer.model()?;
            let path = a.out.join(format!("alpha{alpha}_seed{seed}.safetensors"));
            let file = ModelFile::new(model).with_h0(Array1::ones(hidden))?;
            crate::common::write_atomic(&path, &file.to_bytes()?)?;
            // The colour vectors as pulses for `emt phase` / `emt plot prc`.
            let v = task.colour_vectors();
            let rows: Vec<Array1<f64>> = (0..3).map(|c| v.row(c).to_owned()).collect();
            let list: Vec<(&str, ndarray::ArrayViewD<'_, f64>)> =
                ["G", "P", "R"].iter().zip(&rows).map(|(n, r)| (*n, r.view().into_dyn())).collect();
            let colours = a.out.join(format!("colours_seed{seed}.safetensors"));
            crate::common::write_atomic(&colours, &emt_core::io::tensors_to_safetensors(&list, &Default::default())?)?;
            // The noise-free map's zero-input attractor from h0 and its fixed points.
            let system = file.model.system()?;
            let zero = Array1::zeros(100);
            let h0 = Array1::ones(hidden);
            let att = classify_attractor(system, h0.view(), zero.view(), &AttractorParams::default())?;
            let mut r = rng::stream(seed, 8);
            let starts = Array2::from_shape_simple_fn((16, hidden), || rand::Rng::random_range(&mut r, -2.0..2.0));
            let seeds_fp = trajectory_seeds(system, zero.view(), starts.view(), 200, 10, 1.0, 0.05, seed)?;
            let fps = find_fixed_points(system, zero.view(), seeds_fp.view(), &FixedPointParams::default())?;
            let stable = fps.fixed.iter().filter(|f| f.stability == Stability::Stable).count();
            let oscillates = matches!(att.kind, AttractorKind::LimitCycle | AttractorKind::InvariantCircle);
            let mut entry = json!({
                "alpha": alpha, "seed": seed, "steps": report.steps, "epochs": report.steps / per_epoch.max(1),
                "test_accuracy": accuracy, "attractor": att.kind.name(), "period": att.period,
                "fixed_points": fps.fixed.len(), "stable_fixed_points": stable, "weights": path.display().to_string(),
            });
            if oscillates && accuracy >= 1.0 {
                oscillatory += 1;
                let map = file.model.cell().map();
                let period = att.period.unwrap_or(1.0);
                let v = task.colour_vectors();
                let pp = PhaseParams { pulse_steps: 2, arrivals: 16, ..Default::default() };
                let mut shifts = [0.0; 3];
                let mut spread = [0.0; 3];
                for c in 0..3 {
                    let prc = phase_response_map(map.as_ref(), att.state.view(), period, v.row(c), &pp)?;
                    shifts[c] = prc.mean;
                    spread[c] = prc.spread;
                }
                let (dev, delta, k) = z3_fit(&shifts);
                let holds = dev < 0.35;
                z3 += usize::from(holds);
                entry["shifts"] = json!({"G": shifts[0], "P": shifts[1], "R": shifts[2]});
                entry["spread"] = json!({"G": spread[0], "P": spread[1], "R": spread[2]});
                entry["z3"] = json!({"holds": holds, "max_deviation": dev, "offset": delta, "k": k});
            } else if accuracy >= 1.0 && att.kind == AttractorKind::FixedPoint {
                attractive += 1;
            }
            if accuracy >= 1.0 {
                let fsa = extract_fsa(&file, trainer.params(), &task, oscillates, if a.quick { 2 } else { 8 }, seed)?;
                fsa_z3 += usize::from(fsa["z3"].as_bool() == Some(true));
                entry["fsa"] = fsa;
            }
            println!("{entry}");
            eprintln!(
                "alpha {alpha} seed {seed}: {} steps, test accuracy {accuracy:.3}, {} ({} fixed points, {stable} stable)",
                report.steps,
                att.kind.name(),
                fps.fixed.len()
            );
        }
        summary.insert(
            format!("alpha_{alpha}"),
            json!({"trained": seeds, "solved": solved, "oscillatory": oscillatory, "attractive": attractive, "z3": z3, "fsa_z3": fsa_z3}),
        );
        // The handcrafted oscillator on the first seed's test set (same for every alpha).
        if alpha == 1.0 {
            let task = SetTask::random(100, 0)?;
            let test = task.test_set(&mut rng::stream(0, 5))?;
            let osc = OscillatorWeights::z3(task.colour_vectors().view(), 2, 2.0 * std::f64::consts::PI / 25.0, 0.5)?;
            let zero = Array1::zeros(100);
            let mut correct = 0;
            for (b, cards) in SetTask::sequences().into_iter().enumerate() {
                let (mut z, mut null) = (ndarray::array![1.0, 0.0], ndarray::array![1.0, 0.0]);
                for t in 0..test.len() {
                    z = osc.step(z.view(), test.inputs().slice(ndarray::s![t, b, ..]).mapv(f64::from).view())?;
                    null = osc.step(null.view(), zero.view())?;
                }
                let offset = (null[0] * z[1] - null[1] * z[0]).atan2(null[0] * z[0] + null[1] * z[1]);
                correct += usize::from((offset.abs() < std::f64::consts::FRAC_PI_3) == SetTask::accepts(cards));
            }
            oscillator_correct.push(correct);
        }
    }
    Ok(json!({
        "networks": summary,
        "oscillator_correct": oscillator_correct.first(),
        "seconds": start.elapsed().as_secs_f64(),
        "out": a.out.display().to_string(),
        "hidden": hidden, "epochs": epochs, "seeds": seeds,
    }))
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

/// The theory of gating (Krishnamurthy, Can & Schwab), with DYNAMICS.md §8's equations. The
/// summary's `transition` has, for N/2 and N at g_h = 2.5, lambda_max along alpha_r, the first
/// alpha_r with lambda_max > 0.01 (`onset_alpha_r`) and the largest step between neighbours.
fn gating(a: &GatingArgs) -> Result<Value> {
    use emt_core::Flow;
    let start = std::time::Instant::now();
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
        eprintln!("zero state, beta_r {beta_r}: boundary g* = {g_star:.4} (large N: {predicted:.4})");
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
    for alpha_z in [0.0, 2.0, 5.0, 10.0, 20.0] {
        let params = emt_core::cells::GatedParams { alpha_z, ..Default::default() };
        let w = gated(&j0, [3.0, 1.0, 1.0], [None, Some(bz.clone()), None], params)?;
        let (states, last) = run_flow(&w, n, t_run, dt, seed)?;
        let jac = w.jacobian(last.view(), Array1::zeros(n).view())?;
        let eig = emt_linalg::eigenvalues(jac.view())?;
        let near_zero = eig.iter().filter(|z| z.norm() < 0.05).count() as f64 / eig.len() as f64;
        let tau = autocorrelation_time(&states, dt);
        eprintln!(
            "alpha_z {alpha_z}: {:.1}% of eigenvalues within 0.05 of 0, autocorrelation time {tau:.2}",
            100.0 * near_zero
        );
        timescales.push(json!({"alpha_z": alpha_z, "near_zero_fraction": near_zero, "autocorrelation_time": tau,
                               "max_re": eig.iter().map(|z| z.re).fold(f64::NEG_INFINITY, f64::max)}));
    }

    // (b) Dimensionality and chaos: lambda_max (two trajectories) and the participation ratio of
    // tanh h over a (g_h, alpha_r) grid, without and with a constant bias b_h = 0.5.
    let g_grid: Vec<f64> = if a.quick { vec![1.0, 3.0] } else { vec![1.0, 1.5, 2.0, 2.5, 3.0, 4.0] };
    let ar_grid: Vec<f64> = if a.quick { vec![0.0, 4.0] } else { vec![0.0, 2.0, 4.0, 8.0] };
    let steps = if a.quick { 400 } else { 3000 };
    let mut chaos = Vec::new();
    for bias in [0.0, 0.5] {
        for &g_h in &g_grid {
            for &alpha_r in &ar_grid {
                let params = emt_core::cells::GatedParams { alpha_r, ..Default::default() };
                let bh = (bias != 0.0).then(|| Array1::from_elem(n, bias));
                let w = gated(&j0, [g_h, 1.0, 1.0], [bh, None, None], params)?;
                let (states, last) = run_flow(&w, n, 50.0, dt, seed)?;
                let lp = emt_dynamics::LyapunovParams {
                    exponents: Some(1),
                    steps,
                    transient: 0,
                    renormalize_every: 10,
                    dt,
                    seed,
                    ..Default::default()
                };
                let inputs = Array2::zeros((1, n));
                let lmax = emt_dynamics::lambda_max_flow(&w, last.view(), inputs.view(), &lp)?;
                let pr = emt_dynamics::participation_ratio(states.mapv(f64::tanh).view()).unwrap_or(f64::NAN);
                chaos.push(json!({"bias": bias, "g_h": g_h, "alpha_r": alpha_r, "lambda_max": lmax, "participation_ratio": pr}));
                eprintln!("b_h {bias}, g_h {g_h}, alpha_r {alpha_r}: lambda_max {lmax:+.4}, PR {pr:.2}");
            }
        }
    }
    // Is the r-gate's transition to chaos continuous or abrupt? lambda_max along alpha_r at
    // g_h = 2.5 for N/2 and N: the crossing and the largest step between neighbouring values.
    let fine: Vec<f64> = if a.quick { vec![0.0, 2.0, 4.0] } else { (0..=16).map(|k| 0.25 * k as f64).collect() };
    let mut transition = Vec::new();
    for size in [n / 2, n] {
        let j1 = [couplings(size, 1.0, seed, 0), couplings(size, 1.0, seed, 1), couplings(size, 1.0, seed, 2)];
        let mut curve = Vec::new();
        for &alpha_r in &fine {
            let params = emt_core::cells::GatedParams { alpha_r, ..Default::default() };
            let w = gated(&j1, [2.5, 1.0, 1.0], [None, None, None], params)?;
            let (_, last) = run_flow(&w, size, 50.0, dt, seed)?;
            let lp = emt_dynamics::LyapunovParams {
                exponents: Some(1),
                steps,
                transient: 0,
                renormalize_every: 10,
                dt,
                seed,
                ..Default::default()
            };
            curve.push(emt_dynamics::lambda_max_flow(&w, last.view(), Array2::zeros((1, size)).view(), &lp)?);
        }
        let onset = fine.iter().zip(&curve).find(|(_, l)| **l > 0.01).map(|(a, _)| *a);
        let jump = curve.windows(2).map(|w| w[1] - w[0]).fold(f64::NEG_INFINITY, f64::max);
        eprintln!(
            "N = {size}, g_h = 2.5: lambda_max {curve:.3?} over alpha_r {fine:?}; onset {onset:?}, largest step {jump:.3}"
        );
        transition.push(
            json!({"n": size, "alpha_r": fine, "lambda_max": curve, "onset_alpha_r": onset, "largest_step": jump}),
        );
    }
    if let Some(path) = &a.figure {
        crate::plots::register_fonts()?;
        let palette = [
            plotters::style::RGBColor(33, 102, 172),
            plotters::style::RGBColor(27, 120, 55),
            plotters::style::RGBColor(118, 42, 131),
            plotters::style::RGBColor(178, 24, 43),
            plotters::style::RGBColor(230, 97, 1),
            plotters::style::RGBColor(110, 110, 110),
        ];
        let labels: Vec<String> = g_grid.iter().map(|g| format!("g_h = {g}")).collect();
        let panel_for = |bias: f64| -> Vec<crate::plots::Curve<'_>> {
            g_grid
                .iter()
                .enumerate()
                .map(|(k, &g)| crate::plots::Curve {
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
        let sizes: Vec<crate::plots::Curve<'_>> = transition
            .iter()
            .enumerate()
            .map(|(k, t)| crate::plots::Curve {
                label: &size_labels[k],
                points: fine
                    .iter()
                    .zip(t["lambda_max"].as_array().into_iter().flatten())
                    .map(|(&x, y)| (x, y.as_f64().unwrap_or(f64::NAN)))
                    .collect(),
                color: palette[k],
            })
            .collect();
        let panels: Vec<crate::plots::Panel<'_>> = vec![
            ("lambda_max, no bias", "alpha_r", "lambda_max", false, panel_for(0.0)),
            ("lambda_max, bias b_h = 0.5", "alpha_r", "lambda_max", false, panel_for(0.5)),
            ("the transition at g_h = 2.5 for two sizes", "alpha_r", "lambda_max", false, sizes),
        ];
        crate::plots::render!(
            path,
            (1000, 1300),
            crate::plots::curves,
            "Gated RNN: the r-gate drives the transition to chaos",
            &panels
        );
    }
    Ok(json!({
        "n": n,
        "seed": seed,
        "max_re_mu": mu_max,
        "transition": transition,
        "zero_state": zero_state,
        "timescales": timescales,
        "chaos": chaos,
        "seconds": start.elapsed().as_secs_f64(),
    }))
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

/// Time at which the mean (over units) autocorrelation of the centred `tanh h` first falls below
/// 1/e (the window's length if it never does).
fn autocorrelation_time(states: &Array2<f64>, dt: f64) -> f64 {
    let p = states.mapv(f64::tanh);
    let mean = p.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(p.ncols()));
    let c = &p - &mean;
    let (t_len, n) = c.dim();
    let var: f64 = c.iter().map(|v| v * v).sum::<f64>() / (t_len * n) as f64;
    if var <= 0.0 {
        return 0.0;
    }
    for lag in 1..t_len / 2 {
        let mut acc = 0.0;
        for t in 0..t_len - lag {
            acc += c.row(t).dot(&c.row(t + lag));
        }
        let rho = acc / ((t_len - lag) * n) as f64 / var;
        if rho < (-1.0f64).exp() {
            return lag as f64 * dt;
        }
    }
    (t_len / 2) as f64 * dt
}

/// The finite-state automaton a trained SET network implements (DYNAMICS.md §7): states at
/// input-free moments (just before each onset, and at the end) of `trials` (27 sequences x
/// `repeats` timings, noise-free, h0 = ones), with the autonomous motion removed:
/// oscillating networks by their phase offset from the zero-input run in the null cycle's PCA
/// plane, attractive ones by the fixed point each state relaxes to with zero input. States are
/// clustered (circularly within 0.6 rad / within 1e-3 of each other), transitions tabulated per
/// colour by majority with their determinism, minimised (Moore), and the minimal table tested
/// for Z3: bijections pi (states -> Z3, start -> 0) and sigma (colours -> Z3) with
/// pi(delta(q, c)) = pi(q) + sigma(c).
fn extract_fsa(
    file: &ModelFile,
    params: &emt_rnn::Params<f32>,
    task: &SetTask,
    oscillating: bool,
    repeats: usize,
    seed: u64,
) -> Result<Value> {
    let n = params.layout().hidden;
    let mut r = rng::stream(seed, 11);
    let mut trials = Vec::new();
    for _ in 0..repeats {
        for cards in SetTask::sequences() {
            trials.push((cards, task.onsets(&mut r)));
        }
    }
    let ep = task.episode(&trials)?;
    let mut engine = Engine::<f32>::new(1, TanhMode::Exact)?.with_h0(vec![1.0; n])?;
    let (_, hidden) = engine.forward(params, ep.inputs())?;
    let steps = ep.len();
    // Features of the input-free moments: (trial, moment k = 0..=3) -> feature.
    let moment_time = |onsets: [usize; 3], k: usize| if k < 3 { onsets[k] } else { steps };
    let state_at = |b: usize, t: usize| -> Array1<f64> {
        if t == 0 { Array1::ones(n) } else { hidden.slice(ndarray::s![t - 1, b, ..]).mapv(f64::from) }
    };
    let map = file.model.cell().map();
    let zero = Array1::zeros(task.dim());
    enum Feature {
        Angle(f64),
        Point(Array1<f64>),
    }
    let mut features: Vec<[Feature; 4]> = Vec::new();
    if oscillating {
        // The null run from h0, long enough to settle; its PCA plane, oriented so that the
        // rotation is positive.
        let total = steps + 400;
        let mut x = Array1::ones(n);
        let mut null = Array2::zeros((total + 1, n));
        null.row_mut(0).assign(&x);
        for t in 1..=total {
            x = map.step(x.view(), zero.view())?;
            null.row_mut(t).assign(&x);
        }
        let pca = emt_linalg::pca(null.slice(ndarray::s![total - 300.., ..]), 2)?;
        let angle0 = |v: ndarray::ArrayView1<'_, f64>| {
            let c = &v - &pca.mean;
            pca.components.row(1).dot(&c).atan2(pca.components.row(0).dot(&c))
        };
        let turn: f64 = (total - 300..total).map(|t| wrap(angle0(null.row(t + 1)) - angle0(null.row(t)))).sum();
        let sign = if turn < 0.0 { -1.0 } else { 1.0 };
        let angle = |v: ndarray::ArrayView1<'_, f64>| sign * angle0(v);
        for (b, &(_, onsets)) in trials.iter().enumerate() {
            let f = |k: usize| {
                let t = moment_time(onsets, k);
                Feature::Angle(wrap(angle(state_at(b, t).view()) - angle(null.row(t))))
            };
            features.push([f(0), f(1), f(2), f(3)]);
        }
    } else {
        for (b, &(_, onsets)) in trials.iter().enumerate() {
            let f = |k: usize| -> Result<Feature> {
                let mut x = state_at(b, moment_time(onsets, k));
                for _ in 0..300 {
                    x = map.step(x.view(), zero.view())?;
                }
                Ok(Feature::Point(x))
            };
            features.push([f(0)?, f(1)?, f(2)?, f(3)?]);
        }
    }
    // Greedy clustering: each feature joins the first centre within the threshold.
    let mut centres: Vec<Feature> = Vec::new();
    let mut label = |f: &Feature| -> usize {
        let hit = centres.iter().position(|c| match (c, f) {
            (Feature::Angle(a), Feature::Angle(b)) => wrap(a - b).abs() < 0.6,
            (Feature::Point(a), Feature::Point(b)) => {
                let d = (a - b).mapv(|v| v * v).sum().sqrt();
                d < 1e-3 * (1.0 + a.dot(a).sqrt())
            }
            _ => false,
        });
        match hit {
            Some(k) => k,
            None => {
                centres.push(match f {
                    Feature::Angle(a) => Feature::Angle(*a),
                    Feature::Point(p) => Feature::Point(p.clone()),
                });
                centres.len() - 1
            }
        }
    };
    let raw: Vec<[usize; 4]> =
        features.iter().map(|fs| [label(&fs[0]), label(&fs[1]), label(&fs[2]), label(&fs[3])]).collect();
    // Stragglers (states that had not relaxed yet) form small clusters: keep clusters holding at
    // least 5% of the states and move every other state to the nearest kept centre.
    let mut size = vec![0usize; centres.len()];
    raw.iter().flatten().for_each(|&c| size[c] += 1);
    let total_states = 4 * raw.len();
    let kept: Vec<usize> = (0..centres.len()).filter(|&c| size[c] * 20 >= total_states).collect();
    let distance = |a: &Feature, b: &Feature| match (a, b) {
        (Feature::Angle(x), Feature::Angle(y)) => wrap(x - y).abs(),
        (Feature::Point(x), Feature::Point(y)) => (x - y).mapv(|v| v * v).sum().sqrt(),
        _ => f64::INFINITY,
    };
    let remap: Vec<usize> = (0..centres.len())
        .map(|c| {
            kept.iter()
                .enumerate()
                .min_by(|(_, p), (_, q)| {
                    distance(&centres[c], &centres[**p]).total_cmp(&distance(&centres[c], &centres[**q]))
                })
                .map_or(0, |(i, _)| i)
        })
        .collect();
    let labels: Vec<[usize; 4]> = raw.iter().map(|l| [remap[l[0]], remap[l[1]], remap[l[2]], remap[l[3]]]).collect();
    let k = kept.len().max(1);
    // Start state: the majority label of moment 0.
    let mut counts = vec![0usize; k];
    labels.iter().for_each(|l| counts[l[0]] += 1);
    let start = (0..k).max_by_key(|&q| counts[q]).unwrap_or(0);
    // Transition table by majority: (q, colour) -> histogram of next states.
    let mut hist = vec![vec![vec![0usize; k]; 3]; k];
    for (l, &(cards, _)) in labels.iter().zip(&trials) {
        for step in 0..3 {
            hist[l[step]][cards[step]][l[step + 1]] += 1;
        }
    }
    let mut table = Vec::new();
    let mut delta = vec![[None; 3]; k];
    for q in 0..k {
        for c in 0..3 {
            let total: usize = hist[q][c].iter().sum();
            if total == 0 {
                continue;
            }
            let (next, &hits) = hist[q][c].iter().enumerate().max_by_key(|x| *x.1).unwrap_or((0, &0));
            delta[q][c] = Some(next);
            table.push(json!([q, emt_tasks::COLOURS[c].to_string(), next, hits as f64 / total as f64]));
        }
    }
    // Accept states: end states mostly reached by accepted trials.
    let mut end = vec![(0usize, 0usize); k];
    for (l, &(cards, _)) in labels.iter().zip(&trials) {
        if SetTask::accepts(cards) {
            end[l[3]].0 += 1;
        } else {
            end[l[3]].1 += 1;
        }
    }
    let accept_states: Vec<usize> = (0..k).filter(|&q| end[q].0 > end[q].1).collect();
    let verdicts = SetTask::sequences()
        .into_iter()
        .filter(|cards| {
            let mut q = Some(start);
            for &c in cards {
                q = q.and_then(|q| delta[q][c]);
            }
            q.is_some_and(|q| accept_states.contains(&q)) == SetTask::accepts(*cards)
        })
        .count();
    // Minimise (Moore): states with the same verdict whose transitions land in equivalent
    // states are one state (a phase cluster split at the wrap-around, say).
    let mut class: Vec<usize> = (0..k).map(|q| usize::from(accept_states.contains(&q))).collect();
    loop {
        let sig: Vec<(usize, [Option<usize>; 3])> =
            (0..k).map(|q| (class[q], [0, 1, 2].map(|c| delta[q][c].map(|nq| class[nq])))).collect();
        let mut distinct: Vec<(usize, [Option<usize>; 3])> = Vec::new();
        let next: Vec<usize> = sig
            .iter()
            .map(|s| match distinct.iter().position(|d| d == s) {
                Some(i) => i,
                None => {
                    distinct.push(*s);
                    distinct.len() - 1
                }
            })
            .collect();
        if next == class {
            break;
        }
        class = next;
    }
    let m = class.iter().max().map_or(0, |x| x + 1);
    let mut min_delta = vec![[None; 3]; m];
    for q in 0..k {
        for c in 0..3 {
            if let Some(nq) = delta[q][c] {
                min_delta[class[q]][c] = Some(class[nq]);
            }
        }
    }
    let min_start = class[start];
    // Z3: 3 states, bijections pi (start -> 0) and sigma.
    let perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    let z3 = m == 3
        && perms.iter().filter(|pi| pi[min_start] == 0).any(|pi| {
            perms.iter().any(|sigma| {
                (0..3).all(|q| (0..3).all(|c| min_delta[q][c].is_none_or(|nq| pi[nq] == (pi[q] + sigma[c]) % 3)))
            })
        });
    Ok(json!({
        "states": k, "minimal_states": m, "start": start, "transitions": table, "accept_states": accept_states,
        "verdicts_match": verdicts, "z3": z3, "trials": trials.len(),
    }))
}

/// The fixed points of a 2-D ctgru, certified complete in [-1, 1]^2 (every fixed point is there),
/// and how many are stable. `None` if the enumeration left boxes undecided.
fn certified_census(net: &emt_core::cells::CtGruWeights) -> Result<Option<(usize, usize)>> {
    use emt_core::Flow;
    let field = emt_dynamics::CtGruField::new(net, Array1::zeros(Flow::input_dim(net)).view())?;
    let params = emt_dynamics::CertifiedParams { max_boxes: 200_000, ..Default::default() };
    let found = match emt_dynamics::certified_zeros(&field, &[emt_dynamics::Interval::new(-1.0, 1.0); 2], &params) {
        Ok(f) => f,
        Err(_) => return Ok(None),
    };
    if !found.complete() {
        return Ok(None);
    }
    let mut stable = 0;
    for z in &found.zeros {
        let jac = net.jacobian(z.point.view(), Array1::zeros(Flow::input_dim(net)).view())?;
        let eig = emt_linalg::eigenvalues(jac.view())?;
        stable += usize::from(eig.iter().all(|e| e.re < 0.0));
    }
    Ok(Some((found.zeros.len(), stable)))
}

/// Continuous-time GRUs in 2-D: how many fixed points they can have (a random search with a
/// certified count for each network), a constructed 9-point network, and the limit cycle.
fn gru(a: &GruArgs) -> Result<Value> {
    use rand_distr::Distribution;
    let start = std::time::Instant::now();
    let samples = if a.quick { 200 } else { a.samples };
    let mut r = rng::stream(a.seed, 40);
    let mut normal = |scale: f64| -> f64 {
        let x: f64 = rand_distr::StandardNormal.sample(&mut r);
        scale * x
    };
    let mut histogram = std::collections::BTreeMap::new();
    let (mut undecided, mut best): (usize, Option<(usize, usize, emt_core::cells::CtGruWeights)>) = (0, None);
    for _ in 0..samples {
        // U_r and U_h random (U_z cannot move fixed points: DYNAMICS.md §1), biases of r and h.
        let mut u = Array2::zeros((6, 2));
        for row in [0, 1, 4, 5] {
            let scale = if row >= 4 { 3.0 } else { 1.0 };
            for c in 0..2 {
                u[[row, c]] = normal(scale);
            }
        }
        let mut b = Array1::zeros(6);
        for k in [0, 1, 4, 5] {
            b[k] = normal(0.5);
        }
        let net = emt_core::cells::CtGruWeights::new(u, None, Some(b), 0.1, None)?;
        match certified_census(&net)? {
            Some((count, stable)) => {
                *histogram.entry(count).or_insert(0usize) += 1;
                if best.as_ref().is_none_or(|b| (count, stable) > (b.0, b.1)) {
                    best = Some((count, stable, net));
                }
            }
            None => undecided += 1,
        }
    }
    std::fs::create_dir_all(&a.out).map_err(|e| emt_core::Error::file(&a.out, e))?;
    let best_json = match &best {
        Some((count, stable, net)) => {
            let path = a.out.join("multistable.safetensors");
            ModelFile::new(emt_core::cells::Model::CtGru(net.clone())).save(&path)?;
            json!({"fixed_points": count, "stable": stable, "weights": path.display().to_string()})
        }
        None => Value::Null,
    };
    // The constructed decoupled network U_h = 3 I: 3 x 3 = 9 fixed points, 4 stable.
    let mut u = Array2::zeros((6, 2));
    u[[4, 0]] = 3.0;
    u[[5, 1]] = 3.0;
    let constructed = certified_census(&emt_core::cells::CtGruWeights::new(u, None, None, 0.1, None)?)?;
    // The stable limit cycle of U_h = 4 R(pi/4) (DYNAMICS.md §9).
    let c = std::f64::consts::FRAC_PI_4.cos() * 4.0;
    let mut u = Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -c], [c, c]]);
    let rot = emt_core::cells::CtGruWeights::new(u, None, None, 0.1, None)?;
    let cyc = emt_dynamics::limit_cycle(
        &rot,
        ndarray::array![0.05, 0.0].view(),
        Array1::zeros(0).view(),
        &Default::default(),
    )?;
    eprintln!(
        "{samples} random 2-D ctgrus: fixed-point counts {histogram:?} ({undecided} undecided); most: {best_json}; limit cycle period {:.4}",
        cyc.period
    );
    let snic = snic_gallery(a.quick)?;
    Ok(json!({
        "samples": samples,
        "count_histogram": histogram.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "undecided": undecided,
        "most_fixed_points": best_json,
        "constructed_u_h_3i": constructed.map(|(n, s)| json!({"fixed_points": n, "stable": s})),
        "limit_cycle": {"period": cyc.period, "multiplier": cyc.multipliers.first().map(|z| z.norm()), "stable": cyc.stable},
        "snic": snic,
        "seconds": start.elapsed().as_secs_f64(),
    }))
}

/// A saddle-node on the cycle of a 2-D ctgru: U_h = 6 R(0.5) carries a stable cycle; raising the
/// bias b_h[0] slows it down until a saddle-node pair appears on it and the cycle vanishes. The
/// saddle-node is located by the sweep (Newton on {f = 0, det Df = 0}); periods measured by
/// shooting just below it are fitted with T ~ (p_c - p)^(-1/2) and the two critical values
/// compared.
fn snic_gallery(quick: bool) -> Result<Value> {
    let (c, s) = (0.5f64.cos() * 6.0, 0.5f64.sin() * 6.0);
    let family = |p: f64| -> Result<emt_dynamics::AsFlow<emt_core::cells::CtGruWeights>> {
        let mut u = Array2::zeros((6, 2));
        u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -s], [s, c]]);
        let mut b = Array1::zeros(6);
        b[4] = p;
        Ok(emt_dynamics::AsFlow(emt_core::cells::CtGruWeights::new(u, None, Some(b), 0.1, None)?))
    };
    // Seeds on a 9 x 9 grid of the box that holds every fixed point.
    let seeds = Array2::from_shape_fn((81, 2), |(k, i)| -0.99 + 1.98 * [k / 9, k % 9][i] as f64 / 8.0);
    let params = emt_dynamics::SweepParams { from: 0.3, to: 0.5, values: if quick { 5 } else { 11 }, tol: 1e-10 };
    let swept = emt_dynamics::sweep(family, Array1::zeros(0).view(), seeds.view(), &params)?;
    let Some(sn) = swept.bifurcations.iter().find(|b| b.name() == "saddle_node") else {
        return Ok(json!({"found": false}));
    };
    let p_c = sn.parameter();
    let deltas: &[f64] = if quick { &[0.004, 0.002, 0.001] } else { &[0.008, 0.004, 0.002, 0.001, 0.0005] };
    let cp = emt_dynamics::CycleParams { transient: 400.0, search: 1500.0, steps: 8000, ..Default::default() };
    let (mut ps, mut ts) = (Vec::new(), Vec::new());
    for &d in deltas {
        let flow = family(p_c - d)?;
        let cyc = emt_dynamics::limit_cycle(&flow.0, ndarray::array![0.0, -0.5].view(), Array1::zeros(0).view(), &cp)?;
        ps.push(p_c - d);
        ts.push(cyc.period);
    }
    let (fit, residual) = fit_period_divergence(&ps, &ts, emt_dynamics::Divergence::SaddleNodeOnCycle)?;
    eprintln!("SNIC: saddle-node at b_h[0] = {p_c:.8}; periods {ts:.2?} just below it fit p_c = {fit:.6}");
    Ok(json!({
        "found": true, "saddle_node": p_c, "state": sn.state().to_vec(), "parameters": ps, "periods": ts,
        "fitted_critical": fit, "fit_residual": residual,
    }))
}
