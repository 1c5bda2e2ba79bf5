//! `emt`: train, simulate, analyse and plot recurrent networks from the command line.
//!
//! Every subcommand prints a human summary, shows progress on stderr for long work, and ends
//! its stdout with one JSON object on one line (scripts parse that line). Errors go to stderr
//! with a failing exit code and name the offending value or path.

/// `print!` for results: see [`common::write_stdout`] (a closed pipe ends the run quietly).
macro_rules! out {
    ($($t:tt)*) => { $crate::common::write_stdout(format_args!($($t)*)) };
}

/// `println!` for results: see [`common::write_stdout`].
macro_rules! outln {
    () => { $crate::common::write_stdout(format_args!("\n")) };
    ($($t:tt)*) => { $crate::common::write_stdout(format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprintln!` for notes and errors: see [`common::write_stderr`].
macro_rules! errln {
    ($($t:tt)*) => { $crate::common::write_stderr(format_args!("{}\n", format_args!($($t)*))) };
}

mod cmd;
mod common;
mod observers;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "emt", version, about = "Open up recurrent neural networks: train, simulate, analyse, plot")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Stop any command after S seconds of wall time: `train` stops after the step in flight
    /// and saves what it has (JSON `stop`: "deadline"); every other command stops at its next
    /// interrupt check (within 2 s at most) with an error and exit status 124 (as timeout(1)),
    /// leaving no partial file (its outputs are written atomically; a sweep keeps its finished
    /// runs). Apart from this, every command's work is bounded by its own arguments (see its
    /// --help). Ctrl-C works the same way (status 130; `train` saves with stop "interrupted");
    /// a second Ctrl-C quits at once.
    #[arg(long, global = true, value_name = "S")]
    max_seconds: Option<f64>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a network (elman, gru, lstm, ctrnn, ctgru) on variable binding or the flip-flop task.
    ///
    /// Work: at most --max-steps BPTT steps of one batch each, plus an evaluation every so often
    /// and at the end; a network too large for the machine's memory is refused before allocating.
    Train(cmd::train::Args),
    /// Closed-form EMT circuits: build, simulate, report.
    Circuit(cmd::circuit::Args),
    /// Write a planted EMT network (a known memory basis) as a model file.
    Plant(cmd::plant::Args),
    /// Variable-memory basis of a trained (or planted) Elman RNN.
    Analyze(cmd::analyze::Args),
    /// Run any model file on inputs from a safetensors file.
    ///
    /// Work: one step of the cell per input step and sequence (T x B steps); a trajectory that
    /// overflows is an error, never written.
    Simulate(cmd::simulate::Args),
    /// What a model's zero-input run settles on: fixed point, cycle, invariant circle or chaos.
    ///
    /// Work: maps, transient + steps map steps; flows, Dormand-Prince over transient + steps
    /// time units with at most max(10^5, 10^4 t) steps, and a stiff run that would overrun that
    /// is refused at once (an error naming the stiffness), then a Lyapunov run of the same length.
    Cycle(cmd::cycle::Args),
    /// Fixed and slow points of a model under a constant input (any cell).
    ///
    /// Work: per seed (--starts box starts and the states of their --steps-step runs, or the
    /// --init-states rows), at most 5000 Levenberg-Marquardt / Newton iterations of an n x n
    /// solve (a seed whose q falls by < 1% in 50 iterations or by < 0.1% in 10 accepted steps,
    /// or too slowly to reach 1e-12 in the iterations left, stops), then one eigenvalue problem
    /// per distinct point; seeds and points run on --threads. Gated models solve the reduced
    /// equation in h (N unknowns, not 3N) and classify by the full Jacobian: defaults at
    /// N = 200 take ~30 s on 2 cores. An iteration costs n^3 (0.45 s at n = 2000, a point's
    /// spectrum ~2 s), so without --starts the recipe keeps max(4, 1344 (256/n)^3) seeds above
    /// 256 unknowns (n = 2000: 4 seeds, 20-90 s on 2 cores). Sizes past the machine's memory
    /// are refused before allocating.
    FixedPoints(cmd::fixed_points::Args),
    /// Lyapunov spectrum of a model's zero-input dynamics (any cell).
    ///
    /// Work: transient + steps steps (flows: RK4 steps of --dt), each with k tangent vectors
    /// and a QR every --renormalize-every steps.
    Lyapunov(cmd::lyapunov::Args),
    /// Phase shift per input pulse of a model's oscillation.
    ///
    /// Work: one attractor run bounded as in `emt cycle`, then per pulse and each of --arrivals
    /// phases one run of a fixed number of periods (settle plus measuring window).
    Phase(cmd::phase::Args),
    /// A grid of training runs from a JSON spec: parallel, resumable, shardable, Slurm scripts.
    ///
    /// Work: the spec's runs, each bounded by its max_steps, --jobs at a time; a restart skips the
    /// finished runs whose weights still load.
    Sweep(cmd::sweep::Args),
    /// EMT Table 1 from a sweep's results, beside the paper's numbers (markdown and JSON).
    Table(cmd::table::Args),
    /// One command per dynamics paper: phase-codes (the SET task), gating, gru.
    ///
    /// Work: fixed by each paper's settings (the README gives each run's time; --quick is a
    /// reduced setting of seconds); --max-seconds bounds it.
    Reproduce(cmd::reproduce::Args),
    /// Vary one scalar of a model file: fixed points, attractor, period and bifurcations.
    ///
    /// Work: per value, a fixed-point search from --starts seeds and the previous value's points,
    /// bisections of at most log2(step / --tol) solves per bifurcation, and an attractor run
    /// bounded as in `emt cycle` (--length).
    SweepParam(cmd::sweep_param::Args),
    /// Figures: spectrum, phi, memory, lyapunov, fixed points, PRC, bifurcation diagram, decoding,
    /// finite-state automaton, training.
    Plot(cmd::plot::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(s) = cli.max_seconds {
        if let Err(e) = common::arm_deadline(s, matches!(cli.command, Command::Train(_))) {
            return common::finish(Err(e));
        }
    }
    common::install_ctrl_c();
    // `train` watches --max-seconds itself (it stops and saves); every other command is stopped
    // by the hook, which the library's long loops check.
    let watch_deadline = !matches!(cli.command, Command::Train(_));
    let result = emt_core::interrupt::with_hook(move || common::stop_requested(watch_deadline), || dispatch(&cli));
    common::finish(result)
}

/// Runs the chosen command.
fn dispatch(cli: &Cli) -> emt_core::Result<serde_json::Value> {
    match &cli.command {
        Command::Train(a) => cmd::train::run(a),
        Command::Circuit(a) => cmd::circuit::run(a),
        Command::Plant(a) => cmd::plant::run(a),
        Command::Analyze(a) => cmd::analyze::run(a),
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Cycle(a) => cmd::cycle::run(a),
        Command::FixedPoints(a) => cmd::fixed_points::run(a),
        Command::Lyapunov(a) => cmd::lyapunov::run(a),
        Command::Phase(a) => cmd::phase::run(a),
        Command::Sweep(a) => cmd::sweep::run(a),
        Command::Table(a) => cmd::table::run(a),
        Command::Reproduce(a) => cmd::reproduce::run(a),
        Command::SweepParam(a) => cmd::sweep_param::run(a),
        Command::Plot(a) => cmd::plot::run(a),
    }
}
