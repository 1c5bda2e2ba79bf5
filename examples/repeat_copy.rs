//! Trains an Elman RNN on a variable-binding task in the paper's setting (EMT.md §5).
//!
//! ```text
//! cargo run --release --example repeat_copy
//! cargo run --release --example repeat_copy -- --task 9241421688590303745,0,0 --hidden 128 --seed 1 --threads 2
//! ```
//!
//! d = s = 8, N = 128, batch 64, Adam lr 1e-3, clip 1.0, curriculum [10, 20, 40, 60, 100] at
//! 0.96, evaluation at H = 200 on 512 fresh sequences every 100 steps once the curriculum is at
//! its top, until accuracy >= 0.999 or the step budget. Progress goes to stderr; the weights
//! are saved as safetensors (PyTorch names); the last stdout line is one JSON object with keys
//! `task`, `s`, `d`, `hidden`, `seed`, `steps`, `train_seconds`, `steps_per_second`,
//! `eval_horizon`, `eval_accuracy`, `final_loss`, `weights` (and `threads`).

use std::path::PathBuf;

mod common;

use clap::Parser;
use emt::core::io::{WeightsMetadata, save_weights};
use emt::prelude::*;
use emt::rnn::{Control, Event, Observer, Trainer, TrainerParams, TrainerView};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Train an Elman RNN on a variable-binding task (EMT paper setting)")]
struct Args {
    /// The task (default: repeat copy for d bits).
    #[command(flatten)]
    task: common::TaskArgs,
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
    /// Where to save the weights (safetensors).
    #[arg(long, default_value = "repeat_copy.safetensors")]
    out: PathBuf,
}

/// Progress on stderr: steps, loss, batch accuracy, horizon, last evaluation.
struct Progress {
    bar: ProgressBar,
    last_eval: f64,
}

impl Observer for Progress {
    fn observe(&mut self, _: &TrainerView<'_>, event: &Event) -> Control {
        match event {
            Event::Step(s) => {
                self.bar.set_position(s.step);
                if s.step % 25 == 0 {
                    self.bar.set_message(format!(
                        "H={} loss {:.4} acc {:.4} | eval {:.4}",
                        s.horizon, s.stats.loss, s.stats.accuracy, self.last_eval
                    ));
                }
            }
            Event::Advanced { step, horizon, .. } => {
                self.bar.println(format!("step {step}: curriculum -> H = {horizon}"))
            }
            Event::Eval(e) => self.last_eval = e.stats.accuracy,
        }
        Control::Continue
    }
}

fn run(args: &Args) -> Result<serde_json::Value> {
    let id = args.task.id_or_repeat_copy();
    let task = LinearVb::new(id, args.task.s, args.task.d)?;
    let params =
        TrainerParams::paper().hidden(args.hidden).seed(args.seed).max_steps(args.max_steps).threads(args.threads);
    let mut trainer = Trainer::new(task, params)?;
    let bar = ProgressBar::new(args.max_steps);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {per_sec} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut progress = Progress { bar, last_eval: 0.0 };
    let report = trainer.run(&mut [&mut progress])?;
    progress.bar.finish_and_clear();
    let meta = WeightsMetadata {
        task: Some(id.to_string()),
        s: Some(args.task.s),
        d: Some(args.task.d),
        seed: Some(args.seed),
        step: Some(report.steps),
        ..Default::default()
    };
    save_weights(&args.out, &trainer.weights()?, &meta)?;
    println!(
        "{}: {} steps ({:?}) in {:.1} s of training ({:.0} steps/s), eval accuracy {:.5} at H = {}, weights -> {}",
        id,
        report.steps,
        report.stop,
        report.train_seconds,
        report.steps as f64 / report.train_seconds,
        report.eval.stats.accuracy,
        report.eval.horizon,
        args.out.display()
    );
    Ok(json!({
        "task": id.to_string(),
        "s": args.task.s,
        "d": args.task.d,
        "hidden": args.hidden,
        "seed": args.seed,
        "steps": report.steps,
        "train_seconds": report.train_seconds,
        "steps_per_second": report.steps as f64 / report.train_seconds,
        "eval_horizon": report.eval.horizon,
        "eval_accuracy": report.eval.stats.accuracy,
        "final_loss": report.final_loss,
        "weights": args.out.display().to_string(),
        "threads": args.threads,
    }))
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    common::finish(run(&args))
}
