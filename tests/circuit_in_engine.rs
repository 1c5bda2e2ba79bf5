//! The training engine runs closed-form circuits exactly like the reference simulator, and a
//! trained network's saved weights load back for analysis.

use emt::circuit::{MemoryBasis, TanhCircuit};
use emt::core::{Task, io, metrics, rng};
use emt::prelude::*;
use emt::rnn::{ElmanParams, Engine, TanhMode};

#[test]
fn engine_forward_matches_reference_simulator_on_tanh_circuits() {
    for (id, s, d) in [("255,0,0", 8, 8), ("9241421688590303745,262676,189", 8, 8), ("9,1,2", 3, 2)] {
        let task = LinearVb::new(id.parse().unwrap(), s, d).unwrap();
        let n = s * d;
        let basis = MemoryBasis::signed_permutation(n + 16, n, &mut rng::seeded(3)).unwrap();
        let weights = TanhCircuit::new(1.5, 3.0).unwrap().build(&task, &basis).unwrap();
        let ep = task.sample(300, 8, &mut rng::seeded(4)).unwrap();
        let reference = weights.simulate(ep.inputs().mapv(f64::from).view()).unwrap();

        let params = ElmanParams::from_weights(&weights).unwrap();
        let (outputs, hidden) = Engine::<f64>::new(1, TanhMode::Exact).unwrap().forward(&params, ep.inputs()).unwrap();
        let diff = |a: &ndarray::Array3<f64>, b: &ndarray::Array3<f64>| {
            a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
        };
        assert!(diff(&outputs, &reference.outputs) < 1e-12, "{id}: outputs differ");
        assert!(diff(&hidden, &reference.hidden) < 1e-12, "{id}: hidden states differ");

        // The f32 engine with the fast tanh solves the task too.
        let (o32, _) =
            Engine::<f32>::new(2, TanhMode::Fast).unwrap().forward(&params.cast::<f32>(), ep.inputs()).unwrap();
        assert_eq!(metrics::sign_accuracy(o32.view(), ep.targets(), ep.first_scored()).unwrap(), 1.0, "{id}");
    }
}

#[test]
fn saved_trainer_weights_reload_identically() {
    let task = RepeatCopy::new(3, 4, 2).unwrap();
    let params = emt::rnn::TrainerParams::paper().hidden(16).max_steps(5).eval_batch(8).eval_horizon(8);
    let mut trainer = emt::rnn::Trainer::new(task, params).unwrap();
    trainer.run(&mut []).unwrap();
    let w = trainer.weights().unwrap();
    let bytes = io::weights_to_safetensors(&w, &io::WeightsMetadata { step: Some(5), ..Default::default() }).unwrap();
    let (back, meta) = io::weights_from_safetensors(&bytes, "memory").unwrap();
    assert_eq!(back, w.cast::<f64>());
    assert_eq!(meta.step, Some(5));
}
