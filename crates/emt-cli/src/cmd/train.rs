//! `emt train`: a network of any cell on a variable-binding task in the paper's setting
//! (docs/EMT.md §5), or on the flip-flop task.
//!
//! d = s = 8, N = 128, batch 64, Adam lr 1e-3, clip 1.0, curriculum [10, 20, 40, 60, 100] at
//! 0.96, evaluation at H = 200 on 512 fresh sequences every 100 steps once the curriculum is
//! at its top, until accuracy >= 0.999 or the step budget. `--flipflop BITS` trains the
//! flip-flop task instead, on sequences of `--horizon` steps (no curriculum). The last stdout
//! line is one JSON object with keys `task`, `s`, `d`, `hidden`, `seed`, `steps`,
//! `train_seconds`, `steps_per_second`, `eval_horizon`, `eval_accuracy`, `final_loss`,
//! `weights`, `threads`, `optimizer`, `lr`, `weight_decay`, `cell`, `nonlinearity`, `alpha` / `dt` (ctrnn /
//! ctgru), `noise`, `rate_penalty`, `bias`, `init`, `h0` (and `log` when `--log` is given; `bits`, `p_flip`
//! for the flip-flop, whose `s` is null and `d` its bit count).

use std::path::PathBuf;

use emt_core::{Error, Result};
use emt_rnn::recipe::{TrainSettings, TrainTask, Trained};
use emt_rnn::{CellSpec, Observer};
use serde_json::json;

use crate::common::{TaskArgs, ensure_writable, progress_bar};
use crate::observers::{Checkpoint, JsonlLog, Progress};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    task: TaskArgs,
    /// Hidden size N.
    #[arg(long, default_value_t = 128)]
    hidden: usize,
    /// Seed (initialisation, training data and evaluation data streams).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Step budget.
    #[arg(long, default_value_t = 20_000)]
    max_steps: u64,
    /// Threads the batch is split across (default: the machine's cores). Results are
    /// bit-identical for a given seed and thread count.
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(1, |n| n.get()))]
    threads: usize,
    /// Where to save the model file (safetensors, F32, the stage-2 format of the cell).
    #[arg(long, default_value = "repeat_copy.safetensors")]
    out: PathBuf,
    /// Write one JSON line per logged step, curriculum advance and evaluation here.
    #[arg(long)]
    log: Option<PathBuf>,
    /// Log every K-th step (evaluations and advances are always logged).
    #[arg(long, default_value_t = 10)]
    log_every: u64,
    /// Write the current weights to --out every K steps (0: only at the end).
    #[arg(long, default_value_t = 0)]
    checkpoint_every: u64,
    /// Optimiser: Adam with coupled L2 (`torch.optim.Adam`) or AdamW (decoupled decay).
    #[arg(long, value_enum, default_value_t = Optimizer::Adam)]
    optimizer: Optimizer,
    /// Learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Weight decay (coupled for adam, decoupled for adamw).
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// The cell.
    #[arg(long, value_enum, default_value_t = Cell::Elman)]
    cell: Cell,
    /// Elman nonlinearity: tanh or relu (PyTorch's `nonlinearity`; written to the model file).
    #[arg(long, default_value = "tanh")]
    nonlinearity: emt_core::Activation,
    /// ctrnn: alpha = dt / tau in (0, 1].
    #[arg(long, default_value_t = 0.1)]
    alpha: f64,
    /// ctgru: Euler step dt.
    #[arg(long, default_value_t = 0.1)]
    dt: f64,
    /// ctrnn: std of the Gaussian training noise inside the alpha term.
    #[arg(long, default_value_t = 0.0)]
    noise: f64,
    /// Rate penalty c in c * mean(rate^2) (rate = h, or tanh h for the ctrnn).
    #[arg(long, default_value_t = 0.0)]
    rate_penalty: f64,
    /// Give the network biases (PyTorch's bias_ih_l0 / bias_hh_l0 and the readout bias).
    #[arg(long)]
    bias: bool,
    /// Initialisation: PyTorch's uniform default, or Glorot-normal (the SET-task paper's).
    #[arg(long, value_enum, default_value_t = InitArg::Pytorch)]
    init: InitArg,
    /// Start every sequence from h = ones instead of zeros (the SET-task paper); the model file
    /// then carries that h0.
    #[arg(long)]
    h0_ones: bool,
    /// Train the flip-flop task with this many bits instead of variable binding.
    #[arg(long)]
    flipflop: Option<usize>,
    /// Flip-flop: pulse probability per step and channel.
    #[arg(long, default_value_t = 0.05)]
    p_flip: f64,
    /// Flip-flop: sequence length (training and evaluation).
    #[arg(long, default_value_t = 100)]
    horizon: usize,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum InitArg {
    Pytorch,
    Glorot,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Elman,
    Gru,
    Ctrnn,
    Ctgru,
    Lstm,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Optimizer {
    Adam,
    Adamw,
}

impl Args {
    /// The library's settings for this run.
    fn settings(&self) -> Result<TrainSettings> {
        use emt_core::cells::CellKind;
        let task = match self.flipflop {
            Some(bits) => TrainTask::FlipFlop { bits, p_flip: self.p_flip, horizon: self.horizon },
            None => TrainTask::VariableBinding { id: self.task.id_or_repeat_copy(), s: self.task.s, d: self.task.d },
        };
        Ok(TrainSettings {
            task,
            cell: match self.cell {
                Cell::Elman => CellKind::Elman,
                Cell::Gru => CellKind::Gru,
                Cell::Ctrnn => CellKind::CtRnn,
                Cell::Ctgru => CellKind::CtGru,
                Cell::Lstm => CellKind::Lstm,
            },
            nonlinearity: self.nonlinearity,
            hidden: self.hidden,
            seed: self.seed,
            max_steps: self.max_steps,
            threads: self.threads,
            optimizer: match self.optimizer {
                Optimizer::Adam => emt_rnn::recipe::Optimizer::Adam,
                Optimizer::Adamw => emt_rnn::recipe::Optimizer::AdamW,
            },
            lr: self.lr,
            weight_decay: self.weight_decay,
            alpha: self.alpha,
            dt: self.dt,
            noise: self.noise,
            rate_penalty: self.rate_penalty,
            bias: self.bias,
            init: match self.init {
                InitArg::Pytorch => emt_rnn::Init::PyTorch,
                InitArg::Glorot => emt_rnn::Init::GlorotNormal,
            },
            h0_ones: self.h0_ones,
        })
    }
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    // Fail on a bad path now, not after minutes of training.
    ensure_writable(&args.out, &[])?;
    if let Some(log) = &args.log {
        ensure_writable(log, &[])?;
        if crate::common::output_target(log)? == crate::common::output_target(&args.out)? {
            return Err(Error::param("--log", log.display(), "is the same file as --out"));
        }
    }
    let settings = args.settings()?;
    let cell = settings.cell_spec().map_err(|e| match e {
        Error::InvalidParameter { name, value, reason } if name == "nonlinearity" => {
            Error::InvalidParameter { name: "--nonlinearity".into(), value, reason }
        }
        other => other,
    })?;
    let mut summary = train(args, &settings)?;
    let name = match settings.task {
        TrainTask::FlipFlop { bits, p_flip, .. } => {
            summary["task"] = json!("flipflop");
            summary["s"] = serde_json::Value::Null;
            summary["d"] = json!(bits);
            summary["bits"] = json!(bits);
            summary["p_flip"] = json!(p_flip);
            format!("flipflop({bits} bits)")
        }
        TrainTask::VariableBinding { id, s, d } => {
            summary["task"] = json!(id.to_string());
            summary["s"] = json!(s);
            summary["d"] = json!(d);
            id.to_string()
        }
    };
    match cell {
        CellSpec::CtRnn { alpha } => summary["alpha"] = json!(alpha),
        CellSpec::CtGru { dt } => summary["dt"] = json!(dt),
        _ => {}
    }
    outln!(
        "{name} ({}): {} steps in {:.1} s of training ({:.0} steps/s), eval accuracy {:.5} at H = {}, weights -> {}",
        cell.name(),
        summary["steps"],
        summary["train_seconds"].as_f64().unwrap_or(f64::NAN),
        summary["steps_per_second"].as_f64().unwrap_or(f64::NAN),
        summary["eval_accuracy"].as_f64().unwrap_or(f64::NAN),
        summary["eval_horizon"],
        args.out.display()
    );
    Ok(summary)
}

/// Trains, writes the model file, and returns the summary keys common to all tasks.
fn train(args: &Args, settings: &TrainSettings) -> Result<serde_json::Value> {
    let cell = settings.cell_spec()?;
    let mut progress = Progress::new(progress_bar(args.max_steps));
    let mut log = match &args.log {
        Some(p) => Some(JsonlLog::create(p.clone(), args.log_every)?),
        None => None,
    };
    let mut checkpoint = Checkpoint { path: args.out.clone(), every: args.checkpoint_every, meta: settings.metadata() };
    let mut deadline = crate::common::deadline().map(|(start, s)| crate::observers::Deadline {
        until: start + std::time::Duration::from_secs_f64(s),
        hit: false,
    });
    let mut observers: Vec<&mut dyn Observer> = vec![&mut progress, &mut checkpoint];
    if let Some(l) = log.as_mut() {
        observers.push(l);
    }
    if let Some(d) = deadline.as_mut() {
        observers.push(d);
    }
    let Trained { file, report } = emt_rnn::recipe::train(settings, &mut observers)?;
    let stop = match report.stop {
        _ if deadline.as_ref().is_some_and(|d| d.hit) => "deadline",
        emt_rnn::StopReason::TargetReached => "target_reached",
        emt_rnn::StopReason::MaxSteps => "max_steps",
        emt_rnn::StopReason::Observer => "observer",
        emt_rnn::StopReason::Interrupted => "interrupted",
    };
    crate::common::write_atomic(&args.out, &file.to_bytes()?)?;
    let rate = report.steps as f64 / report.train_seconds.max(f64::MIN_POSITIVE);
    let mut summary = json!({
        "hidden": args.hidden,
        "seed": args.seed,
        "steps": report.steps,
        "stop": stop,
        "train_seconds": report.train_seconds,
        "steps_per_second": rate,
        "eval_horizon": report.eval.horizon,
        "eval_accuracy": report.eval.stats.accuracy,
        "final_loss": report.final_loss,
        "weights": args.out.display().to_string(),
        "threads": args.threads,
        "optimizer": settings.optimizer.name(),
        "lr": args.lr,
        "weight_decay": args.weight_decay,
        "cell": cell.name(),
        "nonlinearity": args.nonlinearity.name(),
        "noise": args.noise,
        "rate_penalty": args.rate_penalty,
        "bias": args.bias,
        "init": match args.init { InitArg::Pytorch => "pytorch", InitArg::Glorot => "glorot" },
        "h0": if args.h0_ones { json!("ones") } else { serde_json::Value::Null },
    });
    if let Some(p) = &args.log {
        summary["log"] = json!(p.display().to_string());
    }
    Ok(summary)
}
