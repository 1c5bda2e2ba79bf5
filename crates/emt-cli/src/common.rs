//! What the subcommands share: task flags, output-path checks, atomic writes, the exit path.

use std::path::{Path, PathBuf};

use clap::Args;
use emt_core::{Error, Result};
use emt_tasks::TaskId;

// Output safety lives in the library (Python and library users write files too).
pub use emt_core::fs::{ensure_writable, output_target, write_atomic};

/// `--task ID1,ID2,ID3 --s S --d D`.
#[derive(Args, Debug, Clone)]
pub struct TaskArgs {
    /// Task id "id1,id2,id3" (default: repeat copy for d bits).
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Number of variables s.
    #[arg(long, default_value_t = 8)]
    pub s: usize,
    /// Bits per variable d.
    #[arg(long, default_value_t = 8)]
    pub d: usize,
}

impl TaskArgs {
    /// The id given, or repeat copy for `d` bits.
    pub fn id_or_repeat_copy(&self) -> TaskId {
        self.task.unwrap_or(TaskId::repeat_copy(self.d))
    }
}

/// When `--max-seconds` runs out (set once, at start).
static DEADLINE: std::sync::OnceLock<(std::time::Instant, f64)> = std::sync::OnceLock::new();

/// The exit status when `--max-seconds` passes: timeout(1)'s.
pub const EXIT_DEADLINE: i32 = 124;

/// The exit status after Ctrl-C: a shell's for SIGINT (128 + 2).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Set by the first Ctrl-C.
static CTRL_C: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Seconds the `--max-seconds` watchdog waits past the deadline for the analysis to stop
/// itself at its next interrupt check (a clean error with the same message) before it ends the
/// process.
const DEADLINE_GRACE: f64 = 2.0;

/// Arms `--max-seconds S`. `train` watches the deadline itself (it stops and saves), so its
/// watchdog only fires as a backstop, at 2 S + 10 s. Every other command is asked to stop at S
/// through the interrupt hook ([`stop_requested`]; the library's long loops check it), and the
/// watchdog fires at S + 2 s for work that has no check: it removes temporary files in flight,
/// says so on stderr and exits with [`EXIT_DEADLINE`].
pub fn arm_deadline(seconds: f64, cooperative: bool) -> Result<()> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(Error::param("--max-seconds", seconds, "must be finite and > 0"));
    }
    let start = std::time::Instant::now();
    let _ = DEADLINE.set((start, seconds));
    let fire_after = if cooperative { 2.0 * seconds + 10.0 } else { seconds + DEADLINE_GRACE };
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs_f64(fire_after));
        emt_core::fs::remove_in_flight();
        let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("error: {}\n", deadline_message()));
        std::process::exit(EXIT_DEADLINE);
    });
    Ok(())
}

/// What a command stopped by `--max-seconds` says.
fn deadline_message() -> String {
    let (start, seconds) = DEADLINE.get().copied().unwrap_or((std::time::Instant::now(), 0.0));
    format!(
        "stopped after --max-seconds {seconds} ({:.1} s of wall time) before the command finished: \
         no summary; files it had finished writing stay, none is partial",
        start.elapsed().as_secs_f64()
    )
}

/// Whether `--max-seconds` has passed.
fn deadline_passed() -> bool {
    DEADLINE.get().is_some_and(|(start, s)| start.elapsed().as_secs_f64() >= *s)
}

/// Installs the Ctrl-C handler: the first press asks the running command to stop at its next
/// interrupt check ([`stop_requested`]; training stops after the step in flight and saves), a
/// second press removes temporary files in flight and exits with [`EXIT_INTERRUPTED`] at once.
pub fn install_ctrl_c() {
    // Without a handler (e.g. one is already installed) Ctrl-C keeps its default: exit at once.
    let _ = ctrlc::set_handler(|| {
        if CTRL_C.swap(true, std::sync::atomic::Ordering::SeqCst) {
            emt_core::fs::remove_in_flight();
            std::process::exit(EXIT_INTERRUPTED);
        }
        let _ = std::io::Write::write_fmt(
            &mut std::io::stderr(),
            format_args!("\ninterrupt: stopping at the next check (Ctrl-C again to quit at once)\n"),
        );
    });
}

/// The interrupt hook of every command (`emt_core::interrupt`): stop after Ctrl-C, and for
/// commands that do not watch `--max-seconds` themselves (all but `train`), once it passes.
pub fn stop_requested(watch_deadline: bool) -> bool {
    CTRL_C.load(std::sync::atomic::Ordering::Relaxed) || (watch_deadline && deadline_passed())
}

/// `--max-seconds` as (start, seconds), if given.
pub fn deadline() -> Option<(std::time::Instant, f64)> {
    DEADLINE.get().copied()
}

/// Prints the summary as the last stdout line, or the error on stderr with a failing code.
pub fn finish(result: Result<serde_json::Value>) -> std::process::ExitCode {
    match result {
        Ok(summary) => {
            outln!("{summary}");
            if let Err(e) = std::io::Write::flush(&mut std::io::stdout()) {
                stream_failed("stdout", &e);
            }
            std::process::ExitCode::SUCCESS
        }
        // Stopped through the interrupt hook: by the deadline (timeout(1)'s status) or Ctrl-C.
        Err(Error::Interrupted { what }) if deadline_passed() => {
            emt_core::fs::remove_in_flight();
            errln!("error: {} ({what} interrupted)", deadline_message());
            std::process::ExitCode::from(EXIT_DEADLINE as u8)
        }
        Err(e @ Error::Interrupted { .. }) => {
            errln!("error: {e} by Ctrl-C: no summary; files it had finished writing stay, none is partial");
            std::process::ExitCode::from(EXIT_INTERRUPTED as u8)
        }
        Err(e) => {
            errln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The exit status of a tool whose reader went away: what a shell reports for one ended by
/// SIGPIPE (128 + 13), as `yes | head -1` gives under `set -o pipefail`.
pub const EXIT_BROKEN_PIPE: i32 = 141;

/// Writes to stdout (the `out!` / `outln!` macros). `println!` panics when stdout is a closed
/// pipe or a full device (`emt ... | head -1` exited 101 with a panic message); here a reader
/// that went away ends the run quietly with [`EXIT_BROKEN_PIPE`], and any other failure (a full
/// disk, `/dev/full`) with one line on stderr and status 1.
pub fn write_stdout(args: std::fmt::Arguments) {
    if let Err(e) = std::io::Write::write_fmt(&mut std::io::stdout().lock(), args) {
        stream_failed("stdout", &e);
    }
}

/// Writes to stderr (the `errln!` macro), ending the run as [`write_stdout`] does if it fails.
pub fn write_stderr(args: std::fmt::Arguments) {
    if let Err(e) = std::io::Write::write_fmt(&mut std::io::stderr().lock(), args) {
        stream_failed("stderr", &e);
    }
}

fn stream_failed(which: &str, e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(EXIT_BROKEN_PIPE);
    }
    // stderr may be the broken stream itself; then there is nobody left to tell.
    let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("error: writing {which}: {e}\n"));
    std::process::exit(1)
}

/// A progress bar on stderr in the house style (hidden when stderr is not a terminal).
pub fn progress_bar(len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {per_sec} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// `--weights F` and the choices a PyTorch file may leave open (`--cell`, `--nonlinearity`,
/// `--prefix`, `--readout`); each must agree with the file's metadata where that speaks.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// Model file: an emt file or a PyTorch state dict (RNN tanh/relu, GRU, LSTM, any layers).
    #[arg(long)]
    pub weights: PathBuf,
    /// Cell of a file without `cell` metadata (elman, gru, lstm, ctrnn, ctgru, gated,
    /// oscillator; any case). Default: read from the shapes.
    #[arg(long)]
    pub cell: Option<emt_core::cells::CellKind>,
    /// Elman nonlinearity of a file without `nonlinearity` metadata (tanh, relu). Default tanh.
    #[arg(long)]
    pub nonlinearity: Option<emt_core::Activation>,
    /// Module prefix of the recurrent tensors in a whole-module state dict (e.g. `rnn` for
    /// `rnn.weight_ih_l0`), where several modules hold some.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Module prefix of the readout Linear (e.g. `fc` for `fc.weight`), where several fit.
    #[arg(long)]
    pub readout: Option<String>,
}

impl ModelArgs {
    /// Loads the file with these choices.
    pub fn load(&self) -> Result<emt_core::cells::ModelFile> {
        emt_core::cells::ModelFile::load_with(&self.weights, &self.options())
    }

    /// The choices as library options.
    pub fn options(&self) -> emt_core::cells::LoadOptions {
        emt_core::cells::LoadOptions {
            cell: self.cell,
            nonlinearity: self.nonlinearity,
            prefix: self.prefix.clone(),
            readout: self.readout.clone(),
        }
    }
}

/// `--task --s --d` for commands that read a model file: each defaults to the file's metadata.
#[derive(Args, Debug, Clone)]
pub struct ModelTaskArgs {
    /// Task id "id1,id2,id3" (default: the file's `task` metadata; required without it).
    #[arg(long)]
    pub task: Option<TaskId>,
    /// Number of variables s (default: the file's metadata, else 8).
    #[arg(long)]
    pub s: Option<usize>,
    /// Bits per variable d (default: the file's metadata, else 8).
    #[arg(long)]
    pub d: Option<usize>,
}

impl ModelTaskArgs {
    /// The task: flags first, then the file's metadata. A file without `task` metadata (a
    /// PyTorch state dict) needs `--task`: guessing repeat copy failed later with a shape
    /// message that named no flag.
    pub fn resolve(&self, meta: &emt_core::io::WeightsMetadata) -> Result<(TaskId, usize, usize)> {
        let s = self.s.or(meta.s).unwrap_or(8);
        let d = self.d.or(meta.d).unwrap_or(8);
        let id = match (self.task, &meta.task) {
            (Some(id), _) => id,
            (None, Some(text)) => text.parse()?,
            (None, None) => {
                return Err(Error::param(
                    "--task",
                    "missing",
                    "the file has no `task` metadata, so say which variable-binding task the network was \
                     trained on: --task ID1,ID2,ID3 --s S --d D (repeat copy of 8 bits: --task 255,0,0 --s 8 --d 8)",
                ));
            }
        };
        Ok((id, s, d))
    }
}

/// The Elman weights of a model file, or an error saying which cell the file holds.
pub fn elman_of(file: &emt_core::cells::ModelFile, path: &Path, command: &str) -> Result<emt_core::ElmanWeights<f64>> {
    match &file.model {
        emt_core::cells::Model::Elman(w) => Ok(w.clone()),
        other => Err(Error::param(
            "--weights",
            path.display(),
            format!("`emt {command}` needs an elman model; this file holds a {} model", other.kind()),
        )),
    }
}
