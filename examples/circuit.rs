//! The closed-form circuits of EMT for one task, built and checked with the library API.
//!
//! ```text
//! cargo run --release --example circuit
//! ```
//!
//! `emt circuit` runs the four reference ids (or any `--task`) and prints a JSON summary.

use emt::circuit::{LinearCircuit, MemoryBasis, TanhCircuit};
use emt::core::{metrics, rng};
use emt::prelude::*;

fn main() -> Result<()> {
    let task = LinearVb::new("9241421688590303745,262676,189".parse()?, 8, 8)?;
    let episode = task.sample(1000, 32, &mut rng::seeded(1))?;
    let inputs = episode.inputs().mapv(f64::from);
    let accuracy = |w: &ElmanWeights<f64>| -> Result<f64> {
        let out = w.simulate(inputs.view())?.outputs;
        metrics::sign_accuracy(out.view(), episode.targets(), episode.first_scored())
    };
    let linear = LinearCircuit::new(&task, &MemoryBasis::orthonormal(96, 64, &mut rng::seeded(2))?)?;
    println!("{task}\n  linear circuit: {}", linear.realizability());
    println!("    accuracy at H = 1000: {:.4}", accuracy(linear.weights())?);
    let tanh =
        TanhCircuit::new(1.5, 3.0)?.build(&task, &MemoryBasis::signed_permutation(96, 64, &mut rng::seeded(3))?)?;
    println!("  tanh circuit (ours, g = 1.5, a = 3): accuracy at H = 1000: {:.4}", accuracy(&tanh)?);
    Ok(())
}
