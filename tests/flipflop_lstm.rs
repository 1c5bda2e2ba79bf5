//! A 3-bit flip-flop LSTM trained in PyTorch (`tests/fixtures/make_torch_flipflop_lstm.py`),
//! opened as the whole-module state dict torch saved (`rnn.*`, `fc.*`, float32), seeded the
//! FixedPointFinder way (states sampled from its own trajectories), has 8 stable fixed points of
//! its state [h; c], one per stored word.

use emt::core::cells::{CellKind, ModelFile};
use emt::core::{Task, rng};
use emt::dynamics::{AsSystem, FixedPointParams, Stability, find_fixed_points, sample_states};
use emt::tasks::FlipFlop;
use ndarray::{Array1, s};

#[test]
fn a_pytorch_flip_flop_lstm_has_eight_stable_fixed_points() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/flipflop_lstm.safetensors");
    let file = ModelFile::load(path).unwrap();
    let model = &file.model;
    assert_eq!((model.kind(), model.state_dim(), model.input_dim(), model.output_dim()), (CellKind::Lstm, 32, 3, 3));
    // Trajectories of fresh episodes visit every stored word.
    let ep = FlipFlop::new(3, 0.05).unwrap().sample(200, 16, &mut rng::seeded(5)).unwrap();
    let traj = file.simulate(ep.inputs().mapv(f64::from).view(), None).unwrap();
    let seeds = sample_states(traj.hidden.view().into_dyn(), 256, 0.05, 3).unwrap();
    let params = FixedPointParams { threads: 2, ..Default::default() };
    let found = find_fixed_points(model.system().unwrap(), Array1::zeros(3).view(), seeds.view(), &params).unwrap();
    let stable: Vec<_> = found.fixed.iter().filter(|p| p.stability == Stability::Stable).collect();
    eprintln!(
        "flip-flop LSTM: {} fixed points ({} stable), unstable dims {:?}, max q {:.1e}, {} slow, {} outliers from {} seeds",
        found.fixed.len(),
        stable.len(),
        found.fixed.iter().filter(|p| p.stability == Stability::Unstable).map(|p| p.unstable_dims).collect::<Vec<_>>(),
        found.fixed.iter().map(|p| p.q).fold(0.0f64, f64::max),
        found.slow.len(),
        found.outliers,
        found.seeds
    );
    assert_eq!(stable.len(), 8);
    // The readout of each stable point's h (the first 16 entries) is a different word of signs.
    let mut words: Vec<Vec<bool>> = stable
        .iter()
        .map(|p| {
            let mut y = Array1::zeros(3);
            model.cell().output_into(p.state.view(), y.view_mut());
            assert!(y.iter().all(|v| v.abs() > 0.5), "a stable point reads out a clear word: {y}");
            y.iter().map(|&v| v > 0.0).collect()
        })
        .collect();
    words.sort();
    words.dedup();
    assert_eq!(words.len(), 8);
    // The cell memory matters: c is not a function of h alone at these points.
    assert!(stable.iter().any(|p| p.state.slice(s![16..]).iter().any(|c| c.abs() > 1.0)));
}
