//! `emt train`: an Elman RNN on a variable-binding task in the paper's setting (EMT.md §5).
//!
//! d = s = 8, N = 128, batch 64, Adam lr 1e-3, clip 1.0, curriculum [10, 20, 40, 60, 100] at
//! 0.96, evaluation at H = 200 on 512 fresh sequences every 100 steps once the curriculum is
//! at its top, until accuracy >= 0.999 or the step budget. The last stdout line is one JSON
//! object with keys `task`, `s`, `d`, `hidden`, `seed`, `steps`, `train_seconds`,
//! `steps_per_second`, `eval_horizon`, `eval_accuracy`, `final_loss`, `weights`, `threads`,
//! `optimizer`, `lr`, `weight_decay` (and `log` when `--log` is given).

use std::path::PathBuf;

use emt_core::Result;
use emt_core::io::WeightsMetadata;
use emt_rnn::{AdamConfig, Observer, Trainer, TrainerParams};
use emt_tasks::LinearVb;
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
    /// Where to save the model file (safetensors, F32, cell = elman).
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
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Optimizer {
    Adam,
    Adamw,
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    // Fail on a bad path now, not after minutes of training.
    ensure_writable(&args.out)?;
    let id = args.task.id_or_repeat_copy();
    let task = LinearVb::new(id, args.task.s, args.task.d)?;
    let adam = match args.optimizer {
        Optimizer::Adam => AdamConfig { lr: args.lr, weight_decay: args.weight_decay, ..Default::default() },
        Optimizer::Adamw => AdamConfig::adamw(args.lr, args.weight_decay),
    };
    let params = TrainerParams::paper()
        .hidden(args.hidden)
        .seed(args.seed)
        .max_steps(args.max_steps)
        .threads(args.threads)
        .adam(adam);
    let mut trainer = Trainer::new(task, params)?;
    let meta = WeightsMetadata {
        task: Some(id.to_string()),
        s: Some(args.task.s),
        d: Some(args.task.d),
        seed: Some(args.seed),
        ..Default::default()
    };
    let mut progress = Progress::new(progress_bar(args.max_steps));
    let mut log = match &args.log {
        Some(p) => Some(JsonlLog::create(p.clone(), args.log_every)?),
        None => None,
    };
    let mut checkpoint = Checkpoint { path: args.out.clone(), every: args.checkpoint_every, meta: meta.clone() };
    let mut observers: Vec<&mut dyn Observer> = vec![&mut progress, &mut checkpoint];
    if let Some(l) = log.as_mut() {
        observers.push(l);
    }
    let report = trainer.run(&mut observers)?;
    let weights = trainer.weights()?.cast::<f64>();
    let file = emt_core::cells::ModelFile::new(emt_core::cells::Model::Elman(weights))
        .with_meta(WeightsMetadata { step: Some(report.steps), ..meta })
        .with_dtype(emt_core::cells::Dtype::F32);
    crate::common::write_atomic(&args.out, &file.to_bytes()?)?;
    let rate = report.steps as f64 / report.train_seconds.max(f64::MIN_POSITIVE);
    println!(
        "{id}: {} steps ({:?}) in {:.1} s of training ({rate:.0} steps/s), eval accuracy {:.5} at H = {}, weights -> {}",
        report.steps,
        report.stop,
        report.train_seconds,
        report.eval.stats.accuracy,
        report.eval.horizon,
        args.out.display()
    );
    let mut summary = json!({
        "task": id.to_string(),
        "s": args.task.s,
        "d": args.task.d,
        "hidden": args.hidden,
        "seed": args.seed,
        "steps": report.steps,
        "train_seconds": report.train_seconds,
        "steps_per_second": rate,
        "eval_horizon": report.eval.horizon,
        "eval_accuracy": report.eval.stats.accuracy,
        "final_loss": report.final_loss,
        "weights": args.out.display().to_string(),
        "threads": args.threads,
        "optimizer": match args.optimizer { Optimizer::Adam => "adam", Optimizer::Adamw => "adamw" },
        "lr": args.lr,
        "weight_decay": args.weight_decay,
    });
    if let Some(p) = &args.log {
        summary["log"] = json!(p.display().to_string());
    }
    Ok(summary)
}
