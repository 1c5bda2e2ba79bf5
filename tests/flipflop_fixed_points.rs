//! The classic FixedPointFinder example end to end: train an Elman RNN on the 3-bit flip-flop,
//! then find its fixed points under zero input: 8 stable ones, one per stored word (docs/DYNAMICS.md
//! §9), plus saddles between them.

use emt::core::{Task, rng};
use emt::dynamics::{FixedPointParams, Stability, System, find_fixed_points};
use emt::prelude::*;
use emt::rnn::{Trainer, TrainerParams};
use emt::tasks::FlipFlop;
use ndarray::{Array1, Array2};

#[test]
fn a_trained_three_bit_flip_flop_has_eight_stable_fixed_points() {
    let task = FlipFlop::new(3, 0.05).unwrap();
    let params = TrainerParams::paper()
        .hidden(24)
        .batch(32)
        .lr(1e-2)
        .max_steps(3000)
        .curriculum(Curriculum::new(vec![40], 0.99).unwrap())
        .eval_horizon(500)
        .eval_batch(64)
        .eval_every(50)
        .target_accuracy(Some(0.999))
        .seed(0);
    let mut trainer = Trainer::new(task, params).unwrap();
    let report = trainer.run(&mut []).unwrap();
    let w = trainer.weights().unwrap().cast::<f64>();
    // Seeds: hidden states along fresh episodes (every stored word visited), plus noise.
    let ep = task.sample(200, 16, &mut rng::seeded(5)).unwrap();
    let hidden = w.simulate(ep.inputs().mapv(f64::from).view()).unwrap().hidden;
    let states: Array2<f64> =
        hidden.slice(ndarray::s![..;10, .., ..]).to_owned().into_shape_with_order((20 * 16, 24)).unwrap();
    let noise = emt_testkit::gaussian(states.nrows(), 24, 9) * 0.05;
    let seeds = &states + &noise;
    let found = find_fixed_points(System::Map(&w), Array1::zeros(3).view(), seeds.view(), &FixedPointParams::default())
        .unwrap();
    let unstable: Vec<usize> =
        found.fixed.iter().filter(|p| p.stability == Stability::Unstable).map(|p| p.unstable_dims).collect();
    eprintln!(
        "flip-flop (eval accuracy {:.4} after {} steps): {} fixed points, {} stable, unstable dims {:?}, {} slow, {} outliers from {} seeds",
        report.eval.stats.accuracy,
        report.steps,
        found.fixed.len(),
        found.stable_count(),
        unstable,
        found.slow.len(),
        found.outliers,
        found.seeds
    );
    assert_eq!(found.stable_count(), 8);
    // Each stable point reads out a different word of signs.
    let mut words: Vec<Vec<bool>> = found
        .fixed
        .iter()
        .filter(|p| p.stability == Stability::Stable)
        .map(|p| w.w_r().dot(&p.state).iter().map(|&y| y > 0.0).collect())
        .collect();
    words.sort();
    words.dedup();
    assert_eq!(words.len(), 8, "the 8 stable points store the 8 words");
}
