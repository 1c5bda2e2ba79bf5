//! One training run as a researcher asks for it: a task (variable binding or flip-flop), a cell
//! and its settings, in docs/EMT.md §5's recipe (batch 64, Adam, clip 1.0, the curriculum, an
//! evaluation at H = 200); the result is the model file the run produced. `emt train` and the
//! Python package's `emt.train` both call [`train`], so the same settings give the same model.

use emt_core::cells::{Dtype, ModelFile};
use emt_core::io::WeightsMetadata;
use emt_core::{Activation, Error, Result, Task};
use emt_tasks::{FlipFlop, LinearVb, TaskId};

use crate::{AdamConfig, CellSpec, Curriculum, Init, Observer, TrainReport, Trainer, TrainerParams};

/// What to train on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TrainTask {
    /// A variable-binding task `id` with `s` variables of `d` bits (docs/EMT.md §2).
    VariableBinding {
        /// Task id (`TaskId::repeat_copy(d)` for repeat copy).
        id: TaskId,
        /// Variables.
        s: usize,
        /// Bits per variable.
        d: usize,
    },
    /// The flip-flop task: `bits` channels, a pulse with probability `p_flip` per step and
    /// channel, sequences of `horizon` steps (training and evaluation; no curriculum).
    FlipFlop {
        /// Channels.
        bits: usize,
        /// Pulse probability per step and channel.
        p_flip: f64,
        /// Sequence length.
        horizon: usize,
    },
}

/// The optimiser: Adam with coupled L2 (`torch.optim.Adam`) or AdamW (decoupled decay).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimizer {
    /// Adam, weight decay added to the gradient.
    Adam,
    /// AdamW, weight decay applied to the weights.
    AdamW,
}

impl Optimizer {
    /// `"adam"` / `"adamw"`.
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Adam => "adam",
            Optimizer::AdamW => "adamw",
        }
    }
}

/// Everything a run depends on; [`Default`] is `emt train`'s defaults (repeat copy, s = d = 8,
/// N = 128, elman tanh, seed 0, 20,000 steps, one thread).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSettings {
    /// The task.
    pub task: TrainTask,
    /// The cell: elman (tanh or relu by `nonlinearity`), gru, lstm, ctrnn (`alpha`), ctgru (`dt`).
    pub cell: emt_core::cells::CellKind,
    /// The Elman nonlinearity (tanh for every other cell).
    pub nonlinearity: Activation,
    /// Hidden size N.
    pub hidden: usize,
    /// Seed of the initialisation and of the training and evaluation data.
    pub seed: u64,
    /// Step budget.
    pub max_steps: u64,
    /// Threads the batch is split over (results are bit-identical for a seed and a count).
    pub threads: usize,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Learning rate.
    pub lr: f64,
    /// Weight decay (coupled for Adam, decoupled for AdamW).
    pub weight_decay: f64,
    /// ctrnn: alpha = dt / tau in (0, 1].
    pub alpha: f64,
    /// ctgru: Euler step.
    pub dt: f64,
    /// ctrnn: std of the Gaussian training noise.
    pub noise: f64,
    /// Rate penalty c in c * mean(rate^2).
    pub rate_penalty: f64,
    /// Biases (PyTorch's bias_ih / bias_hh and the readout bias).
    pub bias: bool,
    /// Initialisation.
    pub init: Init,
    /// Start every sequence from h = ones (the SET-task paper); the model file carries that h0.
    pub h0_ones: bool,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            task: TrainTask::VariableBinding { id: TaskId::repeat_copy(8), s: 8, d: 8 },
            cell: emt_core::cells::CellKind::Elman,
            nonlinearity: Activation::Tanh,
            hidden: 128,
            seed: 0,
            max_steps: 20_000,
            threads: 1,
            optimizer: Optimizer::Adam,
            lr: 1e-3,
            weight_decay: 0.0,
            alpha: 0.1,
            dt: 0.1,
            noise: 0.0,
            rate_penalty: 0.0,
            bias: false,
            init: Init::PyTorch,
            h0_ones: false,
        }
    }
}

impl TrainSettings {
    /// The engine's cell; errors on a cell or nonlinearity the engine does not train.
    pub fn cell_spec(&self) -> Result<CellSpec> {
        use emt_core::cells::CellKind as K;
        match (self.cell, self.nonlinearity) {
            (K::Elman, Activation::Relu) => Ok(CellSpec::ElmanRelu),
            (K::Elman, Activation::Tanh) => Ok(CellSpec::Elman),
            (K::Gru, Activation::Tanh) => Ok(CellSpec::Gru),
            (K::CtRnn, Activation::Tanh) => Ok(CellSpec::CtRnn { alpha: self.alpha }),
            (K::CtGru, Activation::Tanh) => Ok(CellSpec::CtGru { dt: self.dt }),
            (K::Lstm, Activation::Tanh) => Ok(CellSpec::Lstm),
            (K::Elman | K::Gru | K::CtRnn | K::CtGru | K::Lstm, other) => Err(Error::param(
                "nonlinearity",
                other.name(),
                format!("the engine trains tanh, and relu for elman only (not {})", self.cell),
            )),
            (other, _) => Err(Error::param("cell", other, "the engine trains elman, gru, lstm, ctrnn and ctgru")),
        }
    }

    /// The trainer's settings (checked when the trainer is built).
    pub fn trainer_params(&self) -> Result<TrainerParams> {
        let adam = match self.optimizer {
            Optimizer::Adam => AdamConfig { lr: self.lr, weight_decay: self.weight_decay, ..Default::default() },
            Optimizer::AdamW => AdamConfig::adamw(self.lr, self.weight_decay),
        };
        let params = TrainerParams::paper()
            .cell(self.cell_spec()?)
            .noise(self.noise)
            .rate_penalty(self.rate_penalty)
            .bias(self.bias)
            .init(self.init)
            .h0(self.h0_ones.then(|| vec![1.0; self.hidden]))
            .hidden(self.hidden)
            .seed(self.seed)
            .max_steps(self.max_steps)
            .threads(self.threads)
            .adam(adam);
        Ok(match self.task {
            TrainTask::FlipFlop { horizon, .. } => {
                params.curriculum(Curriculum::new(vec![horizon], 1.0)?).eval_horizon(horizon)
            }
            TrainTask::VariableBinding { .. } => params,
        })
    }
}

/// A finished run: the model file (F32, with the task, seed and step in its metadata and the
/// h0 it was trained from) and the trainer's report.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model file.
    pub file: ModelFile,
    /// Steps, stop reason, final evaluation, loss, time.
    pub report: TrainReport,
}

/// Trains as `settings` say, `observers` watching (progress, logs, checkpoints, callbacks).
/// A run stopped by an observer or the interrupt hook still returns its model (the report's
/// `stop` says why).
///
/// ```
/// use emt_rnn::recipe::{TrainSettings, TrainTask, train};
/// let s = TrainSettings {
///     task: TrainTask::FlipFlop { bits: 1, p_flip: 0.1, horizon: 10 },
///     hidden: 4,
///     max_steps: 2,
///     ..TrainSettings::default()
/// };
/// let run = train(&s, &mut [])?;
/// assert_eq!((run.report.steps, run.file.model.state_dim()), (2, 4));
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn train(settings: &TrainSettings, observers: &mut [&mut dyn Observer]) -> Result<Trained> {
    let params = settings.trainer_params()?;
    match settings.task {
        TrainTask::FlipFlop { bits, p_flip, .. } => run(settings, FlipFlop::new(bits, p_flip)?, params, observers),
        TrainTask::VariableBinding { id, s, d } => run(settings, LinearVb::new(id, s, d)?, params, observers),
    }
}

impl TrainSettings {
    /// The metadata the model file gets (task, `s`, `d`, seed; [`train`] adds the step): what a
    /// checkpoint written during the run carries too.
    pub fn metadata(&self) -> WeightsMetadata {
        let seed = Some(self.seed);
        match self.task {
            TrainTask::FlipFlop { bits, .. } => {
                WeightsMetadata { task: Some("flipflop".into()), d: Some(bits), seed, ..Default::default() }
            }
            TrainTask::VariableBinding { id, s, d } => {
                WeightsMetadata { task: Some(id.to_string()), s: Some(s), d: Some(d), seed, ..Default::default() }
            }
        }
    }
}

fn run<T: Task>(
    settings: &TrainSettings,
    task: T,
    params: TrainerParams,
    observers: &mut [&mut dyn Observer],
) -> Result<Trained> {
    let mut trainer = Trainer::new(task, params)?;
    let report = trainer.run(observers)?;
    let mut file = ModelFile::new(trainer.model()?);
    if let Some(h0) = trainer.settings().get_h0() {
        file = file.with_h0(ndarray::Array1::from(h0.to_vec()))?;
    }
    let meta = WeightsMetadata { step: Some(report.steps), ..settings.metadata() };
    Ok(Trained { file: file.with_meta(meta).with_dtype(Dtype::F32), report })
}

#[cfg(test)]
mod tests {
    use super::*;
    use emt_core::cells::CellKind;

    /// The engine's cells, and a nonlinearity or cell it does not train refused by name.
    #[test]
    fn cells_map_to_the_engine_or_are_refused() {
        let s = |cell, nonlinearity| TrainSettings { cell, nonlinearity, alpha: 0.5, dt: 0.2, ..Default::default() };
        assert_eq!(s(CellKind::Elman, Activation::Relu).cell_spec().unwrap(), CellSpec::ElmanRelu);
        assert_eq!(s(CellKind::CtRnn, Activation::Tanh).cell_spec().unwrap(), CellSpec::CtRnn { alpha: 0.5 });
        assert_eq!(s(CellKind::CtGru, Activation::Tanh).cell_spec().unwrap(), CellSpec::CtGru { dt: 0.2 });
        let e = s(CellKind::Gru, Activation::Relu).cell_spec().unwrap_err().to_string();
        assert!(e.contains("nonlinearity") && e.contains("gru"), "{e}");
        let e = s(CellKind::Gated, Activation::Tanh).cell_spec().unwrap_err().to_string();
        assert!(e.contains("gated"), "{e}");
    }

    /// The same settings give the same model file byte for byte; the metadata names the task.
    #[test]
    fn training_is_deterministic_and_labelled() {
        let s = TrainSettings {
            task: TrainTask::VariableBinding { id: TaskId::repeat_copy(2), s: 2, d: 2 },
            hidden: 8,
            max_steps: 3,
            seed: 4,
            ..Default::default()
        };
        let (a, b) = (train(&s, &mut []).unwrap(), train(&s, &mut []).unwrap());
        assert_eq!(a.file.to_bytes().unwrap(), b.file.to_bytes().unwrap());
        assert_eq!(a.file.meta.task.as_deref(), Some(TaskId::repeat_copy(2).to_string().as_str()));
        assert_eq!((a.file.meta.seed, a.file.meta.step, a.file.dtype), (Some(4), Some(3), Dtype::F32));
        let ff = TrainSettings { task: TrainTask::FlipFlop { bits: 2, p_flip: 0.1, horizon: 8 }, ..s };
        let run = train(&ff, &mut []).unwrap();
        assert_eq!(
            (run.file.meta.task.as_deref(), run.file.meta.d, run.report.eval.horizon),
            (Some("flipflop"), Some(2), 8)
        );
    }
}
