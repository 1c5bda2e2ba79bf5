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
mod plots;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "emt", version, about = "Open up recurrent neural networks: train, simulate, analyse, plot")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a network (elman, gru, ctrnn, ctgru) on variable binding or the flip-flop task.
    Train(cmd::train::Args),
    /// Closed-form EMT circuits: build, simulate, report.
    Circuit(cmd::circuit::Args),
    /// Write a planted EMT network (a known memory basis) as a model file.
    Plant(cmd::plant::Args),
    /// Variable-memory basis of a trained (or planted) Elman RNN.
    Analyze(cmd::analyze::Args),
    /// Run any model file on inputs from a safetensors file.
    Simulate(cmd::simulate::Args),
    /// What a model's zero-input run settles on: fixed point, cycle, invariant circle or chaos.
    Cycle(cmd::cycle::Args),
    /// Fixed and slow points of a model under a constant input (any cell).
    FixedPoints(cmd::fixed_points::Args),
    /// Lyapunov spectrum of a model's zero-input dynamics (any cell).
    Lyapunov(cmd::lyapunov::Args),
    /// Phase shift per input pulse of a model's oscillation.
    Phase(cmd::phase::Args),
    /// A grid of training runs from a JSON spec: parallel, resumable, shardable, Slurm scripts.
    Sweep(cmd::sweep::Args),
    /// EMT Table 1 from a sweep's results, beside the paper's numbers (markdown and JSON).
    Table(cmd::table::Args),
    /// One command per dynamics paper (so far: phase-codes, the SET-task paper).
    Reproduce(cmd::reproduce::Args),
    /// Vary one scalar of a model file: fixed points, attractor, period and bifurcations.
    SweepParam(cmd::sweep_param::Args),
    /// Figures: spectrum, phi, memory, training, lyapunov, fixed points, PRC, bifurcation diagram.
    Plot(cmd::plot::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
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
    };
    common::finish(result)
}
