//! Issue 12: the handcrafted Z3 oscillator (docs/DYNAMICS.md §7) classifies all 27 SET sequences, at
//! any timing, by its phase offset from the zero-input run.

use emt::core::cells::OscillatorWeights;
use emt::core::{DiscreteMap, rng};
use emt::tasks::SetTask;

#[test]
fn the_z3_oscillator_classifies_all_27_sequences() {
    let task = SetTask::random(100, 11).unwrap();
    let osc = OscillatorWeights::z3(task.colour_vectors().view(), 2, 2.0 * std::f64::consts::PI / 25.0, 0.5).unwrap();
    let zero = ndarray::Array1::zeros(100);
    for round in 0..20 {
        let test = task.test_set(&mut rng::stream(round, 9)).unwrap();
        let (t_len, batch, _) = test.inputs().dim();
        assert_eq!(batch, 27);
        let mut right = 0;
        for (b, cards) in SetTask::sequences().into_iter().enumerate() {
            let (mut z, mut null) = (ndarray::array![1.0, 0.0], ndarray::array![1.0, 0.0]);
            for t in 0..t_len {
                let x = test.inputs().slice(ndarray::s![t, b, ..]).mapv(f64::from);
                z = osc.step(z.view(), x.view()).unwrap();
                null = osc.step(null.view(), zero.view()).unwrap();
            }
            // Phase offset from the null run, in (-pi, pi].
            let offset = (null[0] * z[1] - null[1] * z[0]).atan2(null[0] * z[0] + null[1] * z[1]);
            let accept = offset.abs() < std::f64::consts::FRAC_PI_3;
            right += usize::from(accept == SetTask::accepts(cards));
            let k = cards.iter().map(|&c| [1i32, -1, 0][c]).sum::<i32>();
            let expect = emt::dynamics::wrap(2.0 * std::f64::consts::PI / 3.0 * f64::from(k));
            // Inputs are f32: c.x carries their rounding (~1e-8).
            assert!((offset - expect).abs() < 1e-6, "{}: offset {offset} vs {expect}", SetTask::name(cards));
        }
        assert_eq!(right, 27, "round {round}");
    }
}
