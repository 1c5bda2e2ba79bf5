//! Trains an Elman RNN on repeat copy in the paper's setting (docs/EMT.md §5) with the library API:
//! a `Trainer`, one observer that prints progress, and a model file at the end.
//!
//! ```text
//! cargo run --release --example repeat_copy            # d = s = 8, N = 128, to 0.999 at H = 200
//! cargo run --release --example repeat_copy -- 3       # another seed
//! ```
//!
//! The `emt train` command does the same with every setting as a flag, a JSON Lines log,
//! checkpoints and a progress bar.

use emt::core::cells::{Dtype, Model, ModelFile};
use emt::core::io::WeightsMetadata;
use emt::prelude::*;
use emt::rnn::{Control, Event, Observer, Trainer, TrainerParams, TrainerView};

/// Prints every curriculum advance and evaluation.
struct Print;

impl Observer for Print {
    fn observe(&mut self, _: &TrainerView<'_>, event: &Event) -> Result<Control> {
        match event {
            Event::Advanced { step, horizon, .. } => println!("step {step:>6}: curriculum -> H = {horizon}"),
            Event::Eval(e) if e.step % 1000 == 0 => {
                println!("step {:>6}: accuracy {:.4} at H = {}", e.step, e.stats.accuracy, e.horizon)
            }
            _ => {}
        }
        Ok(Control::Continue)
    }
}

fn main() -> Result<()> {
    let seed = std::env::args()
        .nth(1)
        .map_or(Ok(0), |s| s.parse::<u64>())
        .map_err(|e| Error::param("seed", e, "must be an integer"))?;
    let task = LinearVb::new(TaskId::repeat_copy(8), 8, 8)?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut trainer = Trainer::new(task, TrainerParams::paper().seed(seed).threads(threads))?;
    let report = trainer.run(&mut [&mut Print])?;
    println!(
        "{} steps ({:?}) in {:.1} s of training on {threads} threads: accuracy {:.5} at H = {}",
        report.steps, report.stop, report.train_seconds, report.eval.stats.accuracy, report.eval.horizon
    );
    let meta = WeightsMetadata {
        task: Some("255,0,0".into()),
        s: Some(8),
        d: Some(8),
        seed: Some(seed),
        step: Some(report.steps),
        ..Default::default()
    };
    let file = ModelFile::new(Model::Elman(trainer.weights()?.cast())).with_meta(meta).with_dtype(Dtype::F32);
    file.save("repeat_copy.safetensors")?;
    println!("weights -> repeat_copy.safetensors (open them up: emt analyze --weights repeat_copy.safetensors)");
    Ok(())
}
