//! The training loop: curriculum, evaluation, stopping, observers.
//!
//! The optimiser only steps ([`Adam`]); the [`Trainer`] loops; [`Observer`]s (progress bars,
//! checkpoint writers, loggers, early stopping) subscribe to [`Event`]s and may stop the run.
//! The library itself never prints.

use std::time::Instant;

use emt_core::cells::Model;
use emt_core::{ElmanWeights, Episode, Error, Result, Task, check, rng};

use crate::{Adam, AdamConfig, BatchStats, CellSpec, Curriculum, ElmanParams, Engine, Init, TanhMode, clip_grad_norm};

/// Training settings. [`TrainerParams::paper`] is docs/EMT.md §5's setting; change fields with the
/// builder methods; [`Trainer::new`] checks them all before any work starts.
///
/// ```
/// use emt_rnn::TrainerParams;
/// let p = TrainerParams::paper().hidden(64).max_steps(500).seed(3);
/// assert!(p.clone().check().is_ok());
/// assert!(p.lr(0.0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TrainerParams {
    cell: CellSpec,
    init: Init,
    h0: Option<Vec<f64>>,
    noise: f64,
    rate_penalty: f64,
    hidden: usize,
    bias: bool,
    adam: AdamConfig,
    clip: Option<f64>,
    batch: usize,
    max_steps: u64,
    curriculum: Curriculum,
    eval_horizon: usize,
    eval_batch: usize,
    eval_every: u64,
    target_accuracy: Option<f64>,
    seed: u64,
    threads: usize,
    tanh: TanhMode,
}

macro_rules! setter {
    ($name:ident, $ty:ty, $doc:literal) => {
        #[doc = $doc]
        pub fn $name(mut self, value: $ty) -> Self {
            self.$name = value;
            self
        }
    };
}

impl TrainerParams {
    /// The paper's setting: N = 128, no biases, Adam lr 1e-3, clip 1.0, batch 64, curriculum
    /// `[10, 20, 40, 60, 100]` at 0.96, evaluation at H = 200 on 512 fresh sequences every
    /// 100 steps (once the curriculum is at its top), stop at 0.999 or 20,000 steps, one
    /// thread, fast tanh; an Elman cell, no noise, no rate penalty.
    pub fn paper() -> Self {
        TrainerParams {
            cell: CellSpec::Elman,
            init: Init::PyTorch,
            h0: None,
            noise: 0.0,
            rate_penalty: 0.0,
            hidden: 128,
            bias: false,
            adam: AdamConfig::default(),
            clip: Some(1.0),
            batch: 64,
            max_steps: 20_000,
            curriculum: Curriculum::paper(),
            eval_horizon: 200,
            eval_batch: 512,
            eval_every: 100,
            target_accuracy: Some(0.999),
            seed: 0,
            threads: 1,
            tanh: TanhMode::Fast,
        }
    }

    setter!(cell, CellSpec, "The cell (elman, gru, ctrnn with alpha, ctgru with dt).");
    setter!(init, Init, "Initialisation (PyTorch's default, or Glorot-normal as the SET-task paper).");
    setter!(
        h0,
        Option<Vec<f64>>,
        "Fixed initial state `(N)` of every sequence (None: zeros; the SET-task paper: ones)."
    );
    setter!(noise, f64, "Std of the ctrnn's training noise inside the alpha term (0: none; seed stream 3).");
    setter!(rate_penalty, f64, "Rate penalty c in `c * mean(rate^2)` (rate = h, or tanh h for the ctrnn).");
    setter!(hidden, usize, "Hidden size N.");
    setter!(bias, bool, "Whether the network has biases.");
    setter!(clip, Option<f64>, "Global-norm clipping threshold (None: no clipping).");
    setter!(batch, usize, "Training batch size.");
    setter!(max_steps, u64, "Step budget.");
    setter!(curriculum, Curriculum, "Horizon ladder for training batches.");
    setter!(eval_horizon, usize, "Evaluation horizon (scored steps).");
    setter!(eval_batch, usize, "Sequences per evaluation.");
    setter!(eval_every, u64, "Steps between evaluations (counted once the curriculum is at its top).");
    setter!(target_accuracy, Option<f64>, "Stop when an evaluation reaches this sign accuracy.");
    setter!(
        seed,
        u64,
        "Seed: stream 0 initialises, 1 draws training batches, 2 evaluation batches, 3 seeds the noise."
    );
    setter!(threads, usize, "Threads the batch is split across.");
    setter!(tanh, TanhMode, "Tanh kernel.");

    /// Learning rate.
    pub fn lr(mut self, lr: f64) -> Self {
        self.adam.lr = lr;
        self
    }

    /// Coupled L2 weight decay.
    pub fn weight_decay(mut self, wd: f64) -> Self {
        self.adam.weight_decay = wd;
        self
    }

    /// Full Adam configuration.
    pub fn adam(mut self, adam: AdamConfig) -> Self {
        self.adam = adam;
        self
    }

    /// The seed.
    pub fn get_seed(&self) -> u64 {
        self.seed
    }

    /// The hidden size.
    pub fn get_hidden(&self) -> usize {
        self.hidden
    }

    /// Validates every field.
    pub fn check(self) -> Result<Self> {
        for (name, v) in [
            ("hidden", self.hidden),
            ("batch", self.batch),
            ("eval_horizon", self.eval_horizon),
            ("eval_batch", self.eval_batch),
            ("threads", self.threads),
        ] {
            check::positive(name, v)?;
        }
        if self.eval_every == 0 {
            return Err(Error::param("eval_every", 0, "must be at least 1"));
        }
        if let Some(c) = self.clip {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::param("clip", c, "must be finite and > 0"));
            }
        }
        if let Some(a) = self.target_accuracy {
            if !(a > 0.0 && a <= 1.0) {
                return Err(Error::param("target_accuracy", a, "must be in (0, 1]"));
            }
        }
        self.adam.check()?;
        self.cell.check()?;
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(Error::param("noise", self.noise, "must be finite and >= 0"));
        }
        if self.noise > 0.0 && !matches!(self.cell, CellSpec::CtRnn { .. }) {
            return Err(Error::param(
                "noise",
                self.noise,
                format!("only the ctrnn takes noise, not {}", self.cell.name()),
            ));
        }
        if let Some(h0) = &self.h0 {
            if h0.len() != self.hidden {
                return Err(Error::shape("h0", format!("({})", self.hidden), format!("({})", h0.len())));
            }
            check::finite("h0", &ndarray::ArrayView1::from(h0))?;
        }
        if !(self.rate_penalty.is_finite() && self.rate_penalty >= 0.0) {
            return Err(Error::param("rate_penalty", self.rate_penalty, "must be finite and >= 0"));
        }
        Ok(self)
    }

    /// The cell.
    pub fn get_cell(&self) -> CellSpec {
        self.cell
    }

    /// The fixed initial state, if any.
    pub fn get_h0(&self) -> Option<&[f64]> {
        self.h0.as_deref()
    }
}

/// What one training step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// Step number (1-based).
    pub step: u64,
    /// Training horizon of this batch.
    pub horizon: usize,
    /// Batch loss and accuracy (before the update).
    pub stats: BatchStats,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
}

/// What one evaluation measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalInfo {
    /// Step after which it ran.
    pub step: u64,
    /// Evaluation horizon.
    pub horizon: usize,
    /// Loss and accuracy on fresh sequences.
    pub stats: BatchStats,
}

/// Something observers are told.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event {
    /// A training step finished.
    Step(StepInfo),
    /// The curriculum moved up a level.
    Advanced {
        /// Step at which it advanced.
        step: u64,
        /// New level (0-based).
        level: usize,
        /// New training horizon.
        horizon: usize,
    },
    /// An evaluation finished.
    Eval(EvalInfo),
}

/// An observer's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep training.
    Continue,
    /// Stop after this event.
    Stop,
}

/// Subscribes to training (progress bars, loggers, checkpoints, early stopping), in argmin's
/// style: [`start`](Self::start) before the first step, [`observe`](Self::observe) for every
/// event, [`finish`](Self::finish) with the report. Every hook may fail: an error (say, a
/// checkpoint that cannot be written) stops the run and [`Trainer::run`] returns it.
pub trait Observer {
    /// Called once before the first step.
    fn start(&mut self, trainer: &TrainerView<'_>) -> Result<()> {
        let _ = trainer;
        Ok(())
    }

    /// Called for every event, in order.
    fn observe(&mut self, trainer: &TrainerView<'_>, event: &Event) -> Result<Control>;

    /// Called once after the final evaluation, with the report `run` is about to return.
    fn finish(&mut self, trainer: &TrainerView<'_>, report: &TrainReport) -> Result<()> {
        let _ = (trainer, report);
        Ok(())
    }
}

/// Read-only access to the trainer for observers (e.g. to write a checkpoint).
#[derive(Debug)]
pub struct TrainerView<'a> {
    step: u64,
    params: &'a ElmanParams<f32>,
    settings: &'a TrainerParams,
}

impl TrainerView<'_> {
    /// Steps taken so far.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Current parameters.
    pub fn params(&self) -> &ElmanParams<f32> {
        self.params
    }

    /// The settings.
    pub fn settings(&self) -> &TrainerParams {
        self.settings
    }
}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// An evaluation reached the target accuracy.
    TargetReached,
    /// The step budget ran out.
    MaxSteps,
    /// An observer asked to stop.
    Observer,
    /// The caller's interrupt hook ([`emt_core::interrupt`]) said stop (e.g. Ctrl-C in a
    /// notebook): the run ends after the step in flight, evaluates, and the model so far stays
    /// in the trainer.
    Interrupted,
}

/// The outcome of [`Trainer::run`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    /// Steps taken in total.
    pub steps: u64,
    /// Why it stopped.
    pub stop: StopReason,
    /// Loss of the last training batch.
    pub final_loss: f64,
    /// The last evaluation (always run at the end).
    pub eval: EvalInfo,
    /// Seconds spent in training steps (data generation included, evaluation excluded).
    pub train_seconds: f64,
    /// Seconds spent evaluating.
    pub eval_seconds: f64,
    /// Curriculum level at the end.
    pub level: usize,
}

impl TrainReport {
    /// The report, or [`Error::Interrupted`] naming `what` when the caller's hook stopped the
    /// run: for callers (a reproduction, a sweep) that must not analyse or record a run cut
    /// short as if it had finished.
    pub fn completed(self, what: &str) -> Result<TrainReport> {
        if self.stop == StopReason::Interrupted {
            return Err(Error::Interrupted { what: format!("{what} (after {} steps)", self.steps) });
        }
        Ok(self)
    }
}

/// Trains a network of any [`CellSpec`] (f32) on any task.
///
/// ```
/// use emt_rnn::{Trainer, TrainerParams};
/// use emt_rnn::Curriculum;
/// use emt_tasks::RepeatCopy;
/// let task = RepeatCopy::new(2, 3, 2)?;
/// let params = TrainerParams::paper().hidden(16).max_steps(20).eval_batch(16).eval_horizon(6)
///     .curriculum(Curriculum::new(vec![6], 0.9)?);
/// let mut trainer = Trainer::new(task, params)?;
/// let report = trainer.run(&mut [])?;
/// assert_eq!(report.steps, 20);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub struct Trainer<T: Task> {
    task: T,
    settings: TrainerParams,
    learner: Learner,
    curriculum: Curriculum,
    data_rng: rng::EmtRng,
    eval_rng: rng::EmtRng,
    step: u64,
}

/// The f32 network and everything that updates it. Deliberately not generic (the cell is a
/// value, not a type parameter): its code (BPTT,
/// clipping, Adam) is compiled and optimised here in emt-rnn, even when the generic
/// `Trainer<T>` is instantiated in a crate built without optimisation (a user's binary in the
/// dev profile), which otherwise ran the whole engine at opt-level 0.
struct Learner {
    net: ElmanParams<f32>,
    grad: ElmanParams<f32>,
    adam: Adam<f32>,
    engine: Engine<f32>,
    clip: Option<f64>,
}

impl Learner {
    /// BPTT on `ep`, clipping and one Adam step; `step` (1-based) names failures.
    fn update(&mut self, ep: &Episode, step: u64) -> Result<(BatchStats, f64)> {
        let stats = self.engine.loss_and_grad(&self.net, ep, &mut self.grad)?;
        if !stats.loss.is_finite() {
            return Err(Error::Diverged { step: step as usize, reason: format!("training loss is {}", stats.loss) });
        }
        let grad_norm = match self.clip {
            Some(c) => clip_grad_norm(self.grad.as_mut_slice(), c)?,
            None => self.grad.as_slice().iter().map(|g| (*g as f64).powi(2)).sum::<f64>().sqrt(),
        };
        if !grad_norm.is_finite() {
            return Err(Error::Diverged { step: step as usize, reason: format!("gradient norm is {grad_norm}") });
        }
        self.adam.step(self.net.as_mut_slice(), self.grad.as_slice())?;
        if let Some(k) = self.net.as_slice().iter().position(|w| !w.is_finite()) {
            return Err(Error::Diverged { step: step as usize, reason: format!("parameter {k} became non-finite") });
        }
        Ok((stats, grad_norm))
    }

    /// Loss and accuracy of the current network on `ep`.
    fn evaluate(&mut self, ep: &Episode) -> Result<BatchStats> {
        self.engine.evaluate(&self.net, ep)
    }
}

/// The noise stream's seed: stream 3 of the run's seed, so noise never shifts the
/// initialisation (0), data (1) or evaluation (2) streams.
fn noise_seed(seed: u64) -> u64 {
    use rand::RngCore;
    rng::stream(seed, 3).next_u64()
}

impl<T: Task> std::fmt::Debug for Trainer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer").field("settings", &self.settings).field("step", &self.step).finish_non_exhaustive()
    }
}

/// Refuses settings whose network cannot fit in memory, before allocating it: f32 parameters,
/// gradients and Adam's two moments (16 bytes per parameter) plus the forward caches of an
/// evaluation batch (a lower bound; a size this rejects would abort in the allocator).
fn memory_needed(s: &TrainerParams, d_in: usize, d_out: usize) -> Result<()> {
    let (n, g) = (s.hidden as f64, s.cell.gates() as f64);
    let params = g * n * (n + d_in as f64 + 2.0) + d_out as f64 * (n + 1.0);
    let caches = 4.0 * s.batch.max(s.eval_batch) as f64 * s.eval_horizon as f64 * n * (g + 1.0);
    check::memory("hidden", format!("{} ({})", s.hidden, s.cell.name()), 16.0 * params + caches)
}

impl<T: Task> Trainer<T> {
    /// Checks `settings` and initialises the network (PyTorch's default init, seed stream 0).
    pub fn new(task: T, settings: TrainerParams) -> Result<Self> {
        let settings = settings.check()?;
        memory_needed(&settings, task.input_dim(), task.output_dim())?;
        let net = ElmanParams::init_with(
            settings.init,
            settings.cell,
            settings.hidden,
            task.input_dim(),
            task.output_dim(),
            settings.bias,
            &mut rng::stream(settings.seed, 0),
        )?;
        Trainer::with_params(task, settings, net)
    }

    /// Starts from given parameters (e.g. loaded weights or a circuit).
    pub fn with_params(task: T, settings: TrainerParams, net: ElmanParams<f32>) -> Result<Self> {
        let settings = settings.check()?;
        let l = net.layout();
        if l.input != task.input_dim() || l.output != task.output_dim() {
            return Err(Error::shape(
                "network",
                format!("d_in = {}, d_out = {} (the task's)", task.input_dim(), task.output_dim()),
                format!("d_in = {}, d_out = {}", l.input, l.output),
            ));
        }
        if l.cell != settings.cell {
            return Err(Error::param(
                "cell",
                format!("{:?}", l.cell),
                format!("the settings say {:?}; set TrainerParams::cell to the network's", settings.cell),
            ));
        }
        check::finite("initial parameters", &ndarray::ArrayView1::from(net.as_slice()))?;
        let mut engine = Engine::new(settings.threads, settings.tanh)?
            .with_rate_penalty(settings.rate_penalty)?
            .with_noise(settings.noise, noise_seed(settings.seed))?;
        if let Some(h0) = &settings.h0 {
            engine = engine.with_h0(h0.clone())?;
        }
        Ok(Trainer {
            learner: Learner {
                grad: ElmanParams::zeros(l),
                adam: Adam::new(l.len(), settings.adam)?,
                engine,
                clip: settings.clip,
                net,
            },
            curriculum: settings.curriculum.clone(),
            data_rng: rng::stream(settings.seed, 1),
            eval_rng: rng::stream(settings.seed, 2),
            step: 0,
            task,
            settings,
        })
    }

    /// One step: sample a batch at the curriculum's horizon, BPTT, clip, Adam. Errors with
    /// [`Error::Diverged`] if the loss or the gradient norm is non-finite (the parameters are
    /// then untouched) or if the update makes a parameter non-finite (the parameters then
    /// hold that update; the error names the parameter).
    pub fn step(&mut self) -> Result<StepInfo> {
        let horizon = self.curriculum.horizon();
        let ep = self.task.sample(horizon, self.settings.batch, &mut self.data_rng)?;
        self.step += 1;
        let (stats, grad_norm) = self.learner.update(&ep, self.step)?;
        Ok(StepInfo { step: self.step, horizon, stats, grad_norm })
    }

    /// Loss and accuracy on fresh sequences at the evaluation horizon (seed stream 2).
    pub fn evaluate(&mut self) -> Result<EvalInfo> {
        let horizon = self.settings.eval_horizon;
        let ep = self.task.sample(horizon, self.settings.eval_batch, &mut self.eval_rng)?;
        let stats = self.learner.evaluate(&ep)?;
        Ok(EvalInfo { step: self.step, horizon, stats })
    }

    /// Trains until the target accuracy, the step budget, an observer's stop or the caller's
    /// interrupt hook ([`StopReason`]).
    pub fn run(&mut self, observers: &mut [&mut dyn Observer]) -> Result<TrainReport> {
        {
            let view = self.view();
            for o in observers.iter_mut() {
                o.start(&view)?;
            }
        }
        let (mut train_seconds, mut eval_seconds) = (0.0, 0.0);
        let mut final_loss = f64::NAN;
        let mut since_top = 0u64;
        let mut last_eval = None;
        let stop = loop {
            if self.step >= self.settings.max_steps {
                break StopReason::MaxSteps;
            }
            let t0 = Instant::now();
            let info = self.step()?;
            let advanced = self.curriculum.observe(info.stats.accuracy);
            train_seconds += t0.elapsed().as_secs_f64();
            final_loss = info.stats.loss;
            let mut events = vec![Event::Step(info)];
            if advanced {
                events.push(Event::Advanced {
                    step: self.step,
                    level: self.curriculum.level(),
                    horizon: self.curriculum.horizon(),
                });
            }
            if self.curriculum.is_last() {
                since_top += 1;
            }
            let mut reached = false;
            if self.curriculum.is_last() && since_top % self.settings.eval_every == 0 {
                let t1 = Instant::now();
                let eval = self.evaluate()?;
                eval_seconds += t1.elapsed().as_secs_f64();
                reached = self.settings.target_accuracy.is_some_and(|a| eval.stats.accuracy >= a);
                last_eval = Some(eval);
                events.push(Event::Eval(eval));
            }
            if self.notify(observers, &events)? == Control::Stop {
                break StopReason::Observer;
            }
            if reached {
                break StopReason::TargetReached;
            }
            if emt_core::interrupt::check("training").is_err() {
                break StopReason::Interrupted;
            }
        };
        let eval = match last_eval {
            Some(e) if e.step == self.step => e,
            _ => {
                let t1 = Instant::now();
                let e = self.evaluate()?;
                eval_seconds += t1.elapsed().as_secs_f64();
                self.notify(observers, &[Event::Eval(e)])?;
                e
            }
        };
        let report = TrainReport {
            steps: self.step,
            stop,
            final_loss,
            eval,
            train_seconds,
            eval_seconds,
            level: self.curriculum.level(),
        };
        let view = self.view();
        for o in observers.iter_mut() {
            o.finish(&view, &report)?;
        }
        Ok(report)
    }

    fn view(&self) -> TrainerView<'_> {
        TrainerView { step: self.step, params: &self.learner.net, settings: &self.settings }
    }

    fn notify(&self, observers: &mut [&mut dyn Observer], events: &[Event]) -> Result<Control> {
        let view = self.view();
        let mut control = Control::Continue;
        for ev in events {
            for o in observers.iter_mut() {
                if o.observe(&view, ev)? == Control::Stop {
                    control = Control::Stop;
                }
            }
        }
        Ok(control)
    }

    /// Current parameters.
    pub fn params(&self) -> &ElmanParams<f32> {
        &self.learner.net
    }

    /// Current weights as checked `ElmanWeights` (`b_h = bias_ih + bias_hh`); Elman only.
    pub fn weights(&self) -> Result<ElmanWeights<f32>> {
        self.learner.net.to_weights()
    }

    /// The current network as a model of the stage-2 file format (any cell, `f64` values of
    /// the `f32` weights).
    pub fn model(&self) -> Result<Model> {
        self.learner.net.to_model()
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The curriculum's state.
    pub fn curriculum(&self) -> &Curriculum {
        &self.curriculum
    }

    /// The settings.
    pub fn settings(&self) -> &TrainerParams {
        &self.settings
    }
}
