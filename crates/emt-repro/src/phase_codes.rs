//! The SET / mod-3 task (Murray; docs/DYNAMICS.md §7): phase codes on limit cycles vs lattices of
//! fixed points; `emt reproduce phase-codes` prints [`run`]'s reports.
//!
//! For alpha in {1.0, 0.1} and
//! each seed: colour vectors N(0, I_100) from the seed, the fixed 900 + 900 training set in
//! reshuffled batches of 128, a CT-RNN (N = `hidden`, noise 0.1 inside the alpha term, rate
//! penalty 1e-6, AdamW lr 1e-3 with decoupled decay 1e-4, clip 1, Glorot-normal weights, zero
//! biases, h0 = ones, readout on tanh h), stopping early once the 27-trial test set is 100% right
//! by the paper's rule (last step beyond +-0.5; checked every epoch, noise-free). Then, on the
//! noise-free map: the zero-input attractor from h0 (`emt cycle`), the fixed points, and for an
//! oscillating network the phase shift of each colour (a 2-step pulse, circular mean over 16
//! arrival phases) with the Z3 test: pairwise differences +-2pi/3 mod 2pi up to a common offset
//! (reported). Every solved network's finite-state automaton is extracted (`fsa`: states at
//! input-free moments, autonomous motion removed, clustered; transitions per colour with their
//! determinism; `z3`: whether the table is the Z3 group's; `verdicts_match` of 27). For an
//! attractive solution, `prefix_decoding` says what the state keeps between cards (`after_1`,
//! `after_2`): nearest-centroid accuracy for the colour sum mod 3, the colour counts and the
//! ordered sequence, from the raw states and from the same states relaxed to their fixed point,
//! and `lattice_fsa`: the automaton over the raw states between cards (the count lattice; its
//! `shape` says how many states each moment has and whether colours commute). The handcrafted
//! Z3 oscillator is scored on the same test set (27/27 expected). Each automaton is also drawn
//! in `out` (`fsa_alpha{a}_seed{s}.png`, `lattice_alpha{a}_seed{s}.png`).
//! Per network one JSON line on stdout; the last line is the summary: `networks` (per alpha:
//! `trained`, `solved`, `oscillatory`, `attractive`, `z3`, `fsa_z3`), `oscillator_correct`, `seconds`,
//! `out`. Models are saved to `out` (default `runs/phase_codes`), with each seed's colour
//! vectors as `colours_seed{s}.safetensors` (pulses for `emt phase` and `emt plot prc`) and its
//! 27 test trials with their verdicts as `trials_seed{s}.safetensors` (`inputs`, `accept`; for
//! `emt plot fixed-points --trials`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use emt_core::cells::{ModelFile, OscillatorWeights};
use emt_core::{DiscreteMap, Error, Result, rng};
use emt_dynamics::{
    AsSystem, AttractorKind, AttractorParams, FixedPointParams, PhaseParams, Stability, classify_attractor,
    find_fixed_points, phase_response_map, trajectory_seeds, wrap,
};
use emt_rnn::{
    AdamConfig, CellSpec, Control, Curriculum, Engine, Event, Init, Observer, TanhMode, Trainer, TrainerParams,
    TrainerView,
};
use emt_tasks::{SetEpochs, SetTask, set_labels};
use ndarray::{Array1, Array2, Axis};
use serde::Serialize;

use crate::Say;

mod fsa;

pub use fsa::{AutomatonGraph, AutomatonReport, SetAutomaton, Shape};

/// What to compute. `Default` is the paper-scale run; [`PhaseSettings::quick`] the CI one.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSettings {
    /// Networks per alpha (seeds 0..n).
    pub seeds: u64,
    /// Epochs at most (14 batches each).
    pub epochs: u64,
    /// Hidden size.
    pub hidden: usize,
    /// Where the models, colour vectors, trials and automaton figures go (created if missing).
    pub out: PathBuf,
    /// Random timings of the 27 sequences per automaton extraction.
    pub repeats: usize,
}

impl Default for PhaseSettings {
    fn default() -> Self {
        Self { seeds: 8, epochs: 300, hidden: 100, out: PathBuf::from("runs/phase_codes"), repeats: 8 }
    }
}

impl PhaseSettings {
    /// The CI setting: 1 seed, 20 epochs, N = 32, 2 timings per sequence.
    pub fn quick() -> Self {
        Self { seeds: 1, epochs: 20, hidden: 32, repeats: 2, ..Self::default() }
    }

    /// Errors naming the first setting out of range.
    pub fn check(&self) -> Result<()> {
        emt_core::check::positive("hidden", self.hidden)?;
        emt_core::check::positive("epochs", self.epochs as usize)?;
        emt_core::check::positive("repeats", self.repeats)?;
        Ok(())
    }
}

/// Per alpha: what the trained networks turned out to be.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlphaSummary {
    /// Networks trained.
    pub trained: u64,
    /// Networks that solve the 27-trial test set.
    pub solved: usize,
    /// Solved networks whose zero-input attractor is a cycle.
    pub oscillatory: usize,
    /// Solved networks whose zero-input attractor is a fixed point.
    pub attractive: usize,
    /// Oscillatory networks whose phase shifts pass the Z3 test.
    pub z3: usize,
    /// Solved networks whose extracted automaton is Z3's.
    pub fsa_z3: usize,
}

/// Everything [`run`] measured: the summary line of `emt reproduce phase-codes` (the per-network
/// lines are [`PhaseReport::runs`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseReport {
    /// Per alpha (`alpha_1`, `alpha_0.1`).
    pub networks: BTreeMap<String, AlphaSummary>,
    /// The handcrafted Z3 oscillator's correct test trials (27 expected).
    pub oscillator_correct: Option<usize>,
    /// Wall time.
    pub seconds: f64,
    /// Where the files went.
    pub out: String,
    /// Hidden size.
    pub hidden: usize,
    /// Epochs at most.
    pub epochs: u64,
    /// Networks per alpha.
    pub seeds: u64,
    /// Every network's report, in training order (not in the summary line).
    #[serde(skip)]
    pub runs: Vec<NetworkReport>,
}

/// One value per card colour.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct Colours<T> {
    /// Green.
    #[serde(rename = "G")]
    pub g: T,
    /// Purple.
    #[serde(rename = "P")]
    pub p: T,
    /// Red.
    #[serde(rename = "R")]
    pub r: T,
}

/// The Z3 test of an oscillating network's phase shifts ([`z3_fit`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Z3Fit {
    /// Max deviation < 0.35 rad.
    pub holds: bool,
    /// Largest deviation from `offset + 2 pi k_c / 3`.
    pub max_deviation: f64,
    /// The common offset.
    pub offset: f64,
    /// The group element of each colour.
    pub k: [usize; 3],
}

/// Nearest-centroid decoding of one labelling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoding {
    /// Distinct labels (chance is 1 / classes).
    pub classes: usize,
    /// Accuracy on the raw states.
    pub raw: f64,
    /// Accuracy on the states relaxed for 300 zero-input steps.
    pub relaxed: f64,
}

/// Decoding of the cards seen so far at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrefixAt {
    /// The sum mod 3 (3 classes).
    pub sum_mod3: Decoding,
    /// The colour counts.
    pub multiset: Decoding,
    /// The ordered sequence.
    pub ordered: Decoding,
}

/// What an attractive solution keeps between cards ([`prefix_decoding`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrefixDecoding {
    /// Before the second card.
    pub after_1: PrefixAt,
    /// Before the third card.
    pub after_2: PrefixAt,
}

/// The count-lattice automaton of an attractive solution ([`lattice_fsa`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatticeReport {
    /// The table.
    #[serde(flatten)]
    pub automaton: AutomatonReport,
    /// Its layered shape.
    pub shape: Shape,
    /// Per moment, the single-linkage cut's gap ratio (moment 0: none).
    pub gap_ratio: Vec<Option<f64>>,
    /// Per moment, the longest link kept.
    pub cut_distance: Vec<Option<f64>>,
    /// Clusters before stragglers were merged.
    pub clusters_before_merging: usize,
    /// Share of states whose cluster's majority colour count is their own.
    pub count_purity: f64,
    /// The purity at moments 0..=3.
    pub count_purity_by_moment: [f64; 4],
    /// Share of (moment, colour count) classes held by one cluster.
    pub count_completeness: f64,
}

/// One trained network (a JSON line of `emt reproduce phase-codes`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkReport {
    /// The CT-RNN's alpha.
    pub alpha: f64,
    /// Seed.
    pub seed: u64,
    /// Training steps taken.
    pub steps: u64,
    /// Epochs taken.
    pub epochs: u64,
    /// The paper's accuracy on the 27 test trials.
    pub test_accuracy: f64,
    /// The zero-input attractor's kind.
    pub attractor: String,
    /// Its period, for a cycle.
    pub period: Option<f64>,
    /// Fixed points of the noise-free map.
    pub fixed_points: usize,
    /// Stable ones.
    pub stable_fixed_points: usize,
    /// Where the model was saved.
    pub weights: String,
    /// Phase shift per colour (oscillating solutions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shifts: Option<Colours<f64>>,
    /// Their spread over arrival phases.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread: Option<Colours<f64>>,
    /// The Z3 test of the shifts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z3: Option<Z3Fit>,
    /// The extracted automaton (solved networks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fsa: Option<AutomatonReport>,
    /// What an attractive solution keeps between cards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_decoding: Option<PrefixDecoding>,
    /// The count-lattice automaton of an attractive solution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lattice_fsa: Option<LatticeReport>,
}

/// Trains and analyses every network; `each` gets each network's report as it finishes (the
/// CLI prints it as a JSON line), `say` a line for people.
pub fn run(s: &PhaseSettings, say: Say<'_>, each: &mut dyn FnMut(&NetworkReport)) -> Result<PhaseReport> {
    s.check()?;
    let (seeds, epochs, hidden) = (s.seeds, s.epochs, s.hidden);
    std::fs::create_dir_all(&s.out).map_err(|e| Error::file(&s.out, e))?;
    let start = std::time::Instant::now();
    let mut networks = BTreeMap::new();
    let mut runs = Vec::new();
    let mut oscillator_correct = None;
    for alpha in [1.0, 0.1] {
        let mut summary = AlphaSummary { trained: seeds, solved: 0, oscillatory: 0, attractive: 0, z3: 0, fsa_z3: 0 };
        for seed in 0..seeds {
            let entry = network(s, alpha, seed, &mut summary)?;
            each(&entry);
            say(&format!(
                "alpha {alpha} seed {seed}: {} steps, test accuracy {:.3}, {} ({} fixed points, {} stable)",
                entry.steps, entry.test_accuracy, entry.attractor, entry.fixed_points, entry.stable_fixed_points
            ));
            runs.push(entry);
        }
        networks.insert(format!("alpha_{alpha}"), summary);
        // The handcrafted oscillator on the first seed's test set (same for every alpha).
        if alpha == 1.0 {
            oscillator_correct = Some(oscillator_score()?);
        }
    }
    Ok(PhaseReport {
        networks,
        oscillator_correct,
        seconds: start.elapsed().as_secs_f64(),
        out: s.out.display().to_string(),
        hidden,
        epochs,
        seeds,
        runs,
    })
}

/// Trains one network (alpha, seed), saves it with its colours and trials, and analyses it;
/// counts what it is in `summary`.
fn network(s: &PhaseSettings, alpha: f64, seed: u64, summary: &mut AlphaSummary) -> Result<NetworkReport> {
    let hidden = s.hidden;
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
        .eval_every(per_epoch * s.epochs + 1)
        .target_accuracy(None)
        .max_steps(per_epoch * s.epochs);
    let mut trainer = Trainer::new(data, params)?;
    let mut check = SolveCheck { test: &test, every: per_epoch, accuracy: 0.0 };
    let report = trainer.run(&mut [&mut check])?.completed("SET-task training")?;
    let accuracy = test_accuracy(trainer.params(), &test)?;
    summary.solved += usize::from(accuracy >= 1.0);
    let model = trainer.model()?;
    let path = s.out.join(format!("alpha{alpha}_seed{seed}.safetensors"));
    let file = ModelFile::new(model).with_h0(Array1::ones(hidden))?;
    emt_core::fs::write_atomic(&path, &file.to_bytes()?)?;
    save_colours_and_trials(s, &task, &test, seed)?;
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
    let mut entry = NetworkReport {
        alpha,
        seed,
        steps: report.steps,
        epochs: report.steps / per_epoch.max(1),
        test_accuracy: accuracy,
        attractor: att.kind.name().to_string(),
        period: att.period,
        fixed_points: fps.fixed.len(),
        stable_fixed_points: stable,
        weights: path.display().to_string(),
        shifts: None,
        spread: None,
        z3: None,
        fsa: None,
        prefix_decoding: None,
        lattice_fsa: None,
    };
    if oscillates && accuracy >= 1.0 {
        summary.oscillatory += 1;
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
        summary.z3 += usize::from(holds);
        entry.shifts = Some(Colours { g: shifts[0], p: shifts[1], r: shifts[2] });
        entry.spread = Some(Colours { g: spread[0], p: spread[1], r: spread[2] });
        entry.z3 = Some(Z3Fit { holds, max_deviation: dev, offset: delta, k });
    } else if accuracy >= 1.0 && att.kind == AttractorKind::FixedPoint {
        summary.attractive += 1;
    }
    if accuracy >= 1.0 {
        // One set of trials (seed stream 11) for both automata.
        let fsa_trials = run_trials(trainer.params(), &task, s.repeats, seed, 11)?;
        let fsa = extract_fsa(&file, &task, oscillates, &fsa_trials)?;
        summary.fsa_z3 += usize::from(fsa.z3);
        let figure = s.out.join(format!("fsa_alpha{alpha}_seed{seed}.png"));
        draw_automaton(&AutomatonGraph::of(&fsa, false), &figure, "automaton", alpha, seed)?;
        entry.fsa = Some(fsa);
        if att.kind == AttractorKind::FixedPoint {
            entry.prefix_decoding = Some(prefix_decoding(&file, trainer.params(), &task, s.repeats, seed)?);
            let lattice = lattice_fsa(&fsa_trials)?;
            let figure = s.out.join(format!("lattice_alpha{alpha}_seed{seed}.png"));
            draw_automaton(
                &AutomatonGraph::of(&lattice.automaton, true),
                &figure,
                "count-lattice automaton",
                alpha,
                seed,
            )?;
            entry.lattice_fsa = Some(lattice);
        }
    }
    Ok(entry)
}

/// The colour vectors as pulses for `emt phase` / `emt plot prc` (`colours_seed{s}`), and the
/// 27 test trials with their verdicts for `emt plot fixed-points --trials` (`trials_seed{s}`).
fn save_colours_and_trials(s: &PhaseSettings, task: &SetTask, test: &emt_core::Episode, seed: u64) -> Result<()> {
    let v = task.colour_vectors();
    let rows: Vec<Array1<f64>> = (0..3).map(|c| v.row(c).to_owned()).collect();
    let list: Vec<(&str, ndarray::ArrayViewD<'_, f64>)> =
        ["G", "P", "R"].iter().zip(&rows).map(|(n, r)| (*n, r.view().into_dyn())).collect();
    let colours = s.out.join(format!("colours_seed{seed}.safetensors"));
    emt_core::fs::write_atomic(&colours, &emt_core::io::tensors_to_safetensors(&list, &Default::default())?)?;
    let inputs = test.inputs().mapv(f64::from).into_dyn();
    let accept: Array1<f64> =
        SetTask::sequences().into_iter().map(|cards| f64::from(u8::from(SetTask::accepts(cards)))).collect();
    let accept = accept.into_dyn();
    let trials = s.out.join(format!("trials_seed{seed}.safetensors"));
    let list = [("inputs", inputs.view()), ("accept", accept.view())];
    emt_core::fs::write_atomic(&trials, &emt_core::io::tensors_to_safetensors(&list, &Default::default())?)
}

/// The handcrafted Z3 oscillator ([`OscillatorWeights::z3`]) on seed 0's 27 test trials: how
/// many it classifies right by the phase offset from the zero-input run (27 expected).
pub fn oscillator_score() -> Result<usize> {
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
    Ok(correct)
}

/// Draws a SET automaton ([`automaton_figure`]) to `path`.
pub fn draw_automaton(g: &AutomatonGraph, path: &std::path::Path, what: &str, alpha: f64, seed: u64) -> Result<()> {
    let graph = automaton_figure(g).map_err(|e| Error::Format {
        path: path.display().to_string(),
        reason: format!("cannot draw the automaton: {e}"),
    })?;
    let title = format!("The {what} of the SET network alpha = {alpha}, seed {seed}");
    emt_plot::save(path, (1100, 800), &emt_plot::Figure::Automaton { title: &title, graph: &graph })
}

/// The paper's accuracy of `params` on the 27-trial test set (noise-free, h0 = ones).
pub fn test_accuracy(params: &emt_rnn::Params<f32>, test: &emt_core::Episode) -> Result<f64> {
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
pub fn z3_fit(shifts: &[f64; 3]) -> (f64, f64, [usize; 3]) {
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

/// Trials as (colours, onsets).
pub type Trials = Vec<([usize; 3], [usize; 3])>;

/// What [`run_trials`] returns: the trials, the episode length and the hidden states
/// `(T, trials, N)`.
pub type TrialStates = (Trials, usize, ndarray::Array3<f32>);

/// The 27 sequences x `repeats` random timings (seed stream `stream`), run noise-free from
/// h0 = ones: the trials, the episode length and the hidden states `(T, trials, N)`.
pub fn run_trials(
    params: &emt_rnn::Params<f32>,
    task: &SetTask,
    repeats: usize,
    seed: u64,
    stream: u64,
) -> Result<TrialStates> {
    let mut r = rng::stream(seed, stream);
    let mut trials = Vec::new();
    for _ in 0..repeats {
        for cards in SetTask::sequences() {
            trials.push((cards, task.onsets(&mut r)));
        }
    }
    let ep = task.episode(&trials)?;
    let n = params.layout().hidden;
    let mut engine = Engine::<f32>::new(1, TanhMode::Exact)?.with_h0(vec![1.0; n])?;
    let (_, hidden) = engine.forward(params, ep.inputs())?;
    Ok((trials, ep.len(), hidden))
}

/// What an attractive solution keeps between cards. At the input-free moments before the second
/// and before the third card (27 sequences x `repeats` timings, noise-free, h0 = ones), three
/// labellings of the cards seen so far: `sum_mod3` (the Z3 class, 3 classes), `multiset` (the
/// colour counts, what a lattice indexed by counts would hold: 3 classes after one card, 6 after
/// two) and `ordered` (the sequence itself: 3, then 9). For each, a nearest-centroid classifier
/// fitted on half the trials is scored on the other half, on the raw states (where the state is
/// when the next card comes) and on the same states after 300 zero-input steps (where it would
/// end). Chance is 1/classes.
pub fn prefix_decoding(
    file: &ModelFile,
    params: &emt_rnn::Params<f32>,
    task: &SetTask,
    repeats: usize,
    seed: u64,
) -> Result<PrefixDecoding> {
    let (trials, _, hidden) = run_trials(params, task, repeats, seed, 12)?;
    let map = file.model.cell().map();
    let zero = Array1::zeros(task.dim());
    let mut out = Vec::new();
    for k in [1usize, 2] {
        let mut raw = Vec::new();
        let mut relaxed = Vec::new();
        let mut labels: [Vec<usize>; 3] = Default::default();
        for (b, &(cards, onsets)) in trials.iter().enumerate() {
            let x = hidden.slice(ndarray::s![onsets[k] - 1, b, ..]).mapv(f64::from);
            let mut y = x.clone();
            for _ in 0..300 {
                y = map.step(y.view(), zero.view())?;
            }
            raw.push(x);
            relaxed.push(y);
            let seen = &cards[..k];
            let mut counts = [0usize; 3];
            seen.iter().for_each(|&c| counts[c] += 1);
            labels[0].push(seen.iter().sum::<usize>() % 3);
            labels[1].push(counts[0] * 9 + counts[1] * 3 + counts[2]);
            labels[2].push(seen.iter().fold(0, |acc, &c| acc * 3 + c));
        }
        let decode = |l: &Vec<usize>| {
            let classes = {
                let mut v = l.clone();
                v.sort_unstable();
                v.dedup();
                v.len()
            };
            Decoding { classes, raw: nearest_centroid(&raw, l), relaxed: nearest_centroid(&relaxed, l) }
        };
        out.push(PrefixAt { sum_mod3: decode(&labels[0]), multiset: decode(&labels[1]), ordered: decode(&labels[2]) });
    }
    let after_2 = out.pop();
    let after_1 = out.pop();
    match (after_1, after_2) {
        (Some(after_1), Some(after_2)) => Ok(PrefixDecoding { after_1, after_2 }),
        _ => Err(Error::param("prefix decoding", "moments", "needs two")),
    }
}

/// Two-fold (even / odd sample index) nearest-centroid accuracy of `states` with `labels`.
pub fn nearest_centroid(states: &[Array1<f64>], labels: &[usize]) -> f64 {
    let (mut right, mut total) = (0usize, 0usize);
    for test in 0..2 {
        let mut sums: std::collections::BTreeMap<usize, (Array1<f64>, usize)> = std::collections::BTreeMap::new();
        for (i, (x, &c)) in states.iter().zip(labels).enumerate() {
            if i % 2 != test {
                let e = sums.entry(c).or_insert_with(|| (Array1::zeros(x.len()), 0));
                e.0 += x;
                e.1 += 1;
            }
        }
        let centroids: Vec<(usize, Array1<f64>)> = sums.into_iter().map(|(c, (s, k))| (c, s / k as f64)).collect();
        for (i, (x, &c)) in states.iter().zip(labels).enumerate() {
            if i % 2 == test {
                let best = centroids
                    .iter()
                    .map(|(k, m)| (*k, (x - m).mapv(|v| v * v).sum()))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .map(|(k, _)| k);
                right += usize::from(best == Some(c));
                total += 1;
            }
        }
    }
    if total == 0 { f64::NAN } else { right as f64 / total as f64 }
}

/// The finite-state automaton a trained SET network implements (docs/DYNAMICS.md §7): states at
/// input-free moments (just before each onset, and at the end) of `run` (27 sequences x
/// several timings from [`run_trials`]), with the autonomous motion removed:
/// oscillating networks by their phase offset from the zero-input run in the null cycle's PCA
/// plane, attractive ones by the fixed point each state relaxes to with zero input. States are
/// clustered (circularly within 0.6 rad / within 1e-3 of each other), transitions tabulated per
/// colour by majority with their determinism, minimised (Moore), and the minimal table tested
/// for Z3: bijections pi (states -> Z3, start -> 0) and sigma (colours -> Z3) with
/// pi(delta(q, c)) = pi(q) + sigma(c).
pub fn extract_fsa(file: &ModelFile, task: &SetTask, oscillating: bool, run: &TrialStates) -> Result<AutomatonReport> {
    let (trials, steps, hidden) = (&run.0, run.1, &run.2);
    let n = hidden.dim().2;
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
    // Greedy clustering in trial order (circularly within 0.6 rad / within 1e-3 (1 + |x|) of
    // the first state of a cluster). Stragglers (states that had not relaxed yet) form small
    // clusters: those under 5% of the states join the nearest kept centre.
    let flat: Vec<&Feature> = features.iter().flatten().collect();
    let same = |c: &&Feature, f: &&Feature| match (*c, *f) {
        (Feature::Angle(a), Feature::Angle(b)) => wrap(a - b).abs() < 0.6,
        (Feature::Point(a), Feature::Point(b)) => {
            let d = (a - b).mapv(|v| v * v).sum().sqrt();
            d < 1e-3 * (1.0 + a.dot(a).sqrt())
        }
        _ => false,
    };
    let distance = |a: &&Feature, b: &&Feature| match (*a, *b) {
        (Feature::Angle(x), Feature::Angle(y)) => wrap(x - y).abs(),
        (Feature::Point(x), Feature::Point(y)) => (x - y).mapv(|v| v * v).sum().sqrt(),
        _ => f64::INFINITY,
    };
    let (flat_labels, k) = emt_dynamics::cluster_greedy(&flat, same, distance, flat.len().div_ceil(20));
    let labels: Vec<[usize; 4]> = flat_labels.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
    let cards: Vec<[usize; 3]> = trials.iter().map(|t| t.0).collect();
    Ok(SetAutomaton::tabulate(&labels, k, &cards)?.report(trials.len()))
}

/// The automaton of an attractive solution over its raw input-free states (no relaxation: what
/// the network holds when the next card comes, docs/DYNAMICS.md §7 with the attractor step left
/// out, because relaxed states collapse onto 2 fixed points). The same trials as `fsa`; states
/// clustered moment by moment by single linkage cut at the largest gap (at most 30 clusters per
/// moment; moment 0 is the start), clusters under 2% of a moment's states moved to the nearest
/// kept centre of that moment. Besides `fsa`'s keys: `shape`
/// (`states_per_moment`, `commuting`, `sum_mod3_homomorphism`, ...), the cut (`gap_ratio`,
/// `cut_distance`), and `count_purity` / `count_completeness`: the share of states whose
/// cluster's majority colour count (with the moment) is their own, and the share of
/// (moment, colour count) classes held by a single cluster (`count_purity_by_moment`: the
/// purity at moments 0..=3).
pub fn lattice_fsa(run: &TrialStates) -> Result<LatticeReport> {
    let (trials, steps, hidden) = (&run.0, run.1, &run.2);
    let n = hidden.dim().2;
    let mut points = Vec::with_capacity(4 * trials.len());
    for (b, &(_, onsets)) in trials.iter().enumerate() {
        for t in [onsets[0], onsets[1], onsets[2], steps] {
            points.push(if t == 0 { Array1::ones(n) } else { hidden.slice(ndarray::s![t - 1, b, ..]).mapv(f64::from) });
        }
    }
    // Moment by moment: the layer is known, and states drift with the time since the last card,
    // which chains clusters of neighbouring layers together. Moment 0 (empty prefix) is the
    // start. Within a moment, clusters under 2% of its states (stragglers) join the nearest
    // kept centre of the same moment.
    let mut assigned = vec![0usize; points.len()];
    let (mut states, mut gaps, mut cuts, mut before) = (1usize, vec![None], vec![None], 1usize);
    for m in 1..4 {
        let layer: Vec<Array1<f64>> = points.iter().skip(m).step_by(4).cloned().collect();
        let stacked = stack_rows(&layer)?;
        let emt_linalg::Clusters { labels: l, gap_ratio: gap, longest_kept: cut } =
            emt_linalg::single_linkage(stacked.view(), 30)?;
        gaps.push(Some(gap));
        cuts.push(Some(cut));
        let clusters = l.iter().max().map_or(0, |x| x + 1);
        before += clusters;
        let mut size = vec![0usize; clusters];
        l.iter().for_each(|&c| size[c] += 1);
        let kept: Vec<usize> = (0..clusters).filter(|&c| size[c] * 50 >= layer.len()).collect();
        let mut centres: Vec<Array1<f64>> = kept.iter().map(|_| Array1::zeros(n)).collect();
        for (p, &c) in layer.iter().zip(&l) {
            if let Some(i) = kept.iter().position(|&k| k == c) {
                centres[i] += p;
            }
        }
        for (centre, &c) in centres.iter_mut().zip(&kept) {
            *centre /= size[c] as f64;
        }
        let sq = |p: &Array1<f64>, c: &Array1<f64>| (p - c).mapv(|v| v * v).sum();
        for (b, (p, &c)) in layer.iter().zip(&l).enumerate() {
            let i = kept.iter().position(|&k| k == c).unwrap_or_else(|| {
                (0..kept.len()).min_by(|&x, &y| sq(p, &centres[x]).total_cmp(&sq(p, &centres[y]))).unwrap_or(0)
            });
            assigned[4 * b + m] = states + i;
        }
        states += kept.len().max(1);
    }
    let (gap_ratio, cut_distance, clusters) = (gaps, cuts, before);
    let labels: Vec<[usize; 4]> = assigned.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
    let cards: Vec<[usize; 3]> = trials.iter().map(|t| t.0).collect();
    let automaton = SetAutomaton::tabulate(&labels, states, &cards)?;
    // Agreement with the count lattice: (moment, colour counts) per state.
    let count_class = |c: [usize; 3], m: usize| {
        let mut counts = [0usize; 3];
        c[..m].iter().for_each(|&x| counts[x] += 1);
        (m, counts)
    };
    let mut joint: std::collections::BTreeMap<(usize, (usize, [usize; 3])), usize> = Default::default();
    for (l, &c) in labels.iter().zip(&cards) {
        for (m, &q) in l.iter().enumerate() {
            *joint.entry((q, count_class(c, m))).or_default() += 1;
        }
    }
    // States never span two moments here, so purity splits by moment.
    let mut best_of_state: std::collections::BTreeMap<usize, (usize, usize)> = Default::default();
    let mut states_of_class: std::collections::BTreeMap<(usize, [usize; 3]), usize> = Default::default();
    for (&(q, class), &hits) in &joint {
        let e = best_of_state.entry(q).or_insert((class.0, 0));
        e.1 = e.1.max(hits);
        *states_of_class.entry(class).or_default() += 1;
    }
    let mut by_moment = [0usize; 4];
    best_of_state.values().for_each(|&(m, hits)| by_moment[m] += hits);
    let purity = by_moment.iter().sum::<usize>() as f64 / points.len() as f64;
    let purity_by_moment = by_moment.map(|h| h as f64 / trials.len() as f64);
    let completeness =
        states_of_class.values().filter(|&&s| s == 1).count() as f64 / states_of_class.len().max(1) as f64;
    Ok(LatticeReport {
        automaton: automaton.report(trials.len()),
        shape: automaton.shape(&labels),
        gap_ratio,
        cut_distance,
        clusters_before_merging: clusters,
        count_purity: purity,
        count_purity_by_moment: purity_by_moment,
        count_completeness: completeness,
    })
}

/// The figure of a SET automaton (`fsa` or `lattice_fsa` of a report or its JSON):
/// layered by depth from the start when it has a `shape` (count lattice), else on a circle
/// ordered by the Z3 element each state stands for (when the table is Z3's).
pub fn automaton_figure(v: &AutomatonGraph) -> Result<emt_plot::Graph<'static>> {
    let bad = |why: String| Error::Format { path: "automaton".into(), reason: why };
    let k = v.states;
    let start = v.start;
    if start >= k {
        return Err(bad(format!("start state {start} is not among the {k} states")));
    }
    let mut edges = Vec::new();
    for (q, c, n, det) in &v.transitions {
        let sym = emt_tasks::COLOURS.iter().position(|x| c.starts_with(*x)).ok_or(bad(format!("bad colour {c}")))?;
        let (q, n) = (*q, *n);
        if q >= k || n >= k {
            return Err(bad(format!("transition ({q}, {c}, {n}) names a state beyond {k}")));
        }
        edges.push((q, n, sym, det.unwrap_or(1.0)));
    }
    let accept = &v.accept_states;
    let element = |q: usize| v.z3_element.as_ref().and_then(|e| e.get(q).copied());
    // Depth from the start (breadth first).
    let mut depth = vec![usize::MAX; k];
    depth[start] = 0;
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(q) = queue.pop_front() {
        for e in edges.iter().filter(|e| e.0 == q) {
            if depth[e.1] == usize::MAX {
                depth[e.1] = depth[q] + 1;
                queue.push_back(e.1);
            }
        }
    }
    let layered = v.shape.is_some();
    let mut nodes: Vec<emt_plot::Node> = (0..k)
        .map(|q| emt_plot::Node {
            at: (0.5, 0.5),
            label: if layered {
                v.state_counts.get(q).cloned().unwrap_or_else(|| q.to_string())
            } else {
                element(q).map_or_else(|| format!("q{q}"), |e| format!("q{q}:{e}"))
            },
            accept: accept.contains(&q),
            start: q == start,
        })
        .collect();
    let mut columns = Vec::new();
    if layered {
        let deepest = depth.iter().filter(|&&d| d != usize::MAX).max().copied().unwrap_or(0).max(1);
        let captions = ["before card 1", "before card 2", "before card 3", "end"];
        for d in 0..=deepest {
            let mut col: Vec<usize> = (0..k).filter(|&q| depth[q] == d).collect();
            col.sort_by(|a, b| nodes[*a].label.cmp(&nodes[*b].label));
            let x = d as f64 / deepest as f64;
            for (i, &q) in col.iter().enumerate() {
                nodes[q].at = (x, (i as f64 + 0.5) / col.len() as f64);
            }
            columns.push((x, captions.get(d).map_or_else(|| format!("moment {d}"), |c| c.to_string())));
        }
    } else {
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by_key(|&q| (q != start, element(q).unwrap_or(9), q));
        for (i, &q) in order.iter().enumerate() {
            let a = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / k as f64;
            nodes[q].at = (0.5 + 0.42 * a.cos(), 0.5 + 0.45 * a.sin());
        }
    }
    let note = if layered {
        "a state is labelled by the colours read (most trials)"
    } else if v.z3_element.is_some() {
        "qK:E = state K, Z3 element E (the table is Z3's)"
    } else {
        "qK = state K (the table is not Z3's)"
    };
    Ok(emt_plot::Graph { nodes, edges, symbols: &["G (green)", "P (purple)", "R (red)"], columns, note: note.into() })
}

/// Rows `(K, n)` from `K` states (an empty list is `(0, 0)`).
fn stack_rows(rows: &[Array1<f64>]) -> Result<Array2<f64>> {
    if rows.is_empty() {
        return Ok(Array2::zeros((0, 0)));
    }
    let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
    ndarray::stack(Axis(0), &views).map_err(|e| Error::shape("states", "rows of one length", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handcrafted Z3 oscillator solves the task by construction (docs/DYNAMICS.md §7).
    #[test]
    fn the_handcrafted_oscillator_gets_all_27_trials() {
        assert_eq!(oscillator_score().unwrap(), 27);
    }

    /// Shifts exactly 2 pi k / 3 apart plus an offset fit Z3 with zero deviation and that offset.
    #[test]
    fn z3_fit_recovers_offset_and_elements() {
        let third = 2.0 * std::f64::consts::PI / 3.0;
        let (dev, delta, k) = z3_fit(&[0.3 + 2.0 * third, 0.3, wrap(0.3 + third)]);
        assert!(dev < 1e-12 && (delta - 0.3).abs() < 1e-12, "{dev} {delta}");
        assert_eq!(k, [2, 0, 1]);
        // Equal shifts are not Z3: some colour is a third of a turn off.
        assert!(z3_fit(&[0.1, 0.1, 0.1]).0 > 1.0);
    }

    /// Two well-separated classes decode perfectly; labels that ignore the states are at chance.
    #[test]
    fn nearest_centroid_separates_clusters_and_not_noise() {
        let states: Vec<Array1<f64>> =
            (0..40).map(|i| ndarray::array![if i % 4 < 2 { 5.0 } else { -5.0 }, 0.1 * i as f64]).collect();
        let labels: Vec<usize> = (0..40).map(|i| usize::from(i % 4 < 2)).collect();
        assert_eq!(nearest_centroid(&states, &labels), 1.0);
        let same: Vec<Array1<f64>> = (0..40).map(|_| ndarray::array![1.0, 1.0]).collect();
        let acc = nearest_centroid(&same, &labels);
        assert!(acc <= 0.5 + 1e-12, "{acc}");
        assert!(nearest_centroid(&[], &[]).is_nan());
    }

    /// A table that names a state it does not have is refused with the offending transition.
    #[test]
    fn a_bad_table_is_refused_by_name() {
        let g = AutomatonGraph {
            states: 2,
            start: 0,
            transitions: vec![(0, "G".into(), 5, Some(1.0))],
            accept_states: vec![],
            state_counts: vec![],
            z3_element: None,
            shape: None,
        };
        let e = automaton_figure(&g).unwrap_err().to_string();
        assert!(e.contains("(0, G, 5)") && e.contains("beyond 2"), "{e}");
        let g = AutomatonGraph { start: 3, transitions: vec![], ..g };
        assert!(automaton_figure(&g).unwrap_err().to_string().contains("start state 3"));
    }
}
