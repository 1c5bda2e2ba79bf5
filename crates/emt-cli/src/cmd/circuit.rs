//! `emt circuit`: builds the closed-form circuits for a task and checks them by simulation.
//!
//! ```text
//! emt circuit                                   # the four reference ids of docs/EMT.md
//! emt circuit --task 255,0,0 --s 8 --d 8 --hidden 96 --horizon 1000 --seed 0
//! ```
//!
//! Prints a short summary per task; the last stdout line is one JSON object
//! `{"circuits": [...]}` with, per task, keys `task`, `s`, `d`, `hidden`, `horizon`, `cycles`
//! ([length, sign] per cycle), `eig_count_08`, `linear_realizable`, `linear_accuracy`,
//! `linear_max_abs_err`, `tanh_accuracy`, `tanh_max_abs_err_last_100`.

use emt_circuit::{LinearCircuit, MemoryBasis, TanhCircuit};
use emt_core::{ElmanWeights, Episode, Result, Task, metrics, rng};
use emt_tasks::{LinearVb, Phi, TaskId};
use serde_json::json;

use crate::common::TaskArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The task; omit --task to run the four reference ids of docs/EMT.md (s = d = 8).
    #[command(flatten)]
    task: TaskArgs,
    /// Hidden size N (>= s*d); default max(96, s*d).
    #[arg(long)]
    hidden: Option<usize>,
    /// Output-phase length H.
    #[arg(long, default_value_t = 1000)]
    horizon: usize,
    /// Seed for the bases and the test episodes.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Sequences simulated.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Tanh circuit gain g (> 1).
    #[arg(long, default_value_t = 1.5)]
    gain: f64,
    /// Tanh circuit write strength a (> g).
    #[arg(long, default_value_t = 3.0)]
    write: f64,
}

const X: u128 = 9241421688590303745;

fn score(w: &ElmanWeights<f64>, ep: &Episode, last: Option<usize>) -> Result<(f64, f64)> {
    let out = w.simulate(ep.inputs().mapv(f64::from).view())?.outputs;
    let acc = metrics::sign_accuracy(out.view(), ep.targets(), ep.first_scored())?;
    let err = metrics::max_abs_error(out.view(), ep.targets(), ep.first_scored(), last)?;
    Ok((acc, err))
}

fn run_one(args: &Args, id: TaskId, s: usize, d: usize) -> Result<serde_json::Value> {
    let task = LinearVb::new(id, s, d)?;
    let n = s * d;
    let hidden = args.hidden.unwrap_or(n.max(96));
    let phi = Phi::new(&task);
    let ep = task.sample(args.horizon, args.batch, &mut rng::stream(args.seed, 1))?;

    let linear = LinearCircuit::new(&task, &MemoryBasis::orthonormal(hidden, n, &mut rng::stream(args.seed, 2))?)?;
    let (lin_acc, lin_err) = score(linear.weights(), &ep, None)?;
    let tanh_basis = MemoryBasis::signed_permutation(hidden, n, &mut rng::stream(args.seed, 3))?;
    let tanh = TanhCircuit::new(args.gain, args.write)?.build(&task, &tanh_basis)?;
    let (tanh_acc, tanh_err) = score(&tanh, &ep, Some(100))?;

    outln!("{task}");
    for (j, src) in task.sources().iter().enumerate() {
        out!("  y{j} = {}y(t-{})_{}", if src.sign < 0 { "-" } else { "" }, src.lag, src.dim);
    }
    outln!();
    let cycles = phi.cycle_structure();
    let lengths: Vec<String> = cycles.iter().map(|(l, p)| format!("{l}{}", if *p < 0 { "-" } else { "+" })).collect();
    outln!("  Phi cycles: {} | #|eig| > 0.8: {}", lengths.join(" "), phi.eig_count_above(0.8));
    outln!("  linear circuit (N = {hidden}): {}", linear.realizability());
    outln!("    accuracy {lin_acc:.4}, max |o - y| {lin_err:.3e} over H = {}", args.horizon);
    outln!(
        "  tanh circuit (g = {}, a = {}, m* = {:.6}): accuracy {tanh_acc:.4}, max |o - y| over the last 100 steps {tanh_err:.3e}",
        args.gain,
        args.write,
        TanhCircuit::new(args.gain, args.write)?.fixed_point()
    );
    Ok(json!({
        "task": id.to_string(),
        "s": s,
        "d": d,
        "hidden": hidden,
        "horizon": args.horizon,
        "cycles": cycles.iter().map(|&(l, p)| json!([l, p])).collect::<Vec<_>>(),
        "eig_count_08": phi.eig_count_above(0.8),
        "linear_realizable": linear.realizable(),
        "linear_accuracy": lin_acc,
        "linear_max_abs_err": lin_err,
        "tanh_accuracy": tanh_acc,
        "tanh_max_abs_err_last_100": tanh_err,
    }))
}

pub fn run(args: &Args) -> Result<serde_json::Value> {
    let jobs: Vec<(TaskId, usize, usize)> = match args.task.task {
        Some(id) => vec![(id, args.task.s, args.task.d)],
        None => [(255, 0, 0), (X, 0, 0), (X, 262676, 189), (X, 38637, 145)]
            .iter()
            .map(|&(a, b, c)| (TaskId::new(a, b, c), 8, 8))
            .collect(),
    };
    let results = jobs.into_iter().map(|(id, s, d)| run_one(args, id, s, d)).collect::<Result<Vec<_>>>()?;
    Ok(json!({ "circuits": results }))
}
