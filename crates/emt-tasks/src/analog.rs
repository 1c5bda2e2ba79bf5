//! Analog memory: remember a continuous value. The task a line attractor solves exactly, and the
//! one the continuous-time GRU paper (Jordan, Sokol & Park) uses to ask whether trained GRUs
//! find one.

use emt_core::{Episode, Error, Result, Task};
use ndarray::Array3;
use rand::{Rng, RngCore};

/// One input channel pulses, for `pulse_len` steps, with an amplitude drawn uniformly from
/// `[-amplitude, amplitude]`; a new pulse starts with probability `p_pulse` per step once the
/// previous one has ended, else the input is 0. The target is the amplitude of the most recent
/// pulse, held until the next one. Every channel of the state between pulses must therefore
/// carry a continuum of values: a line attractor stores them all, finitely many fixed points
/// only some.
///
/// As in [`FlipFlop`](crate::FlipFlop), a pulse always starts at `t = 0` so that every target is
/// defined, and every step is scored (`input_phase = 0`). The target switches on the first step
/// of a pulse.
///
/// ```
/// use emt_core::Task;
/// let task = emt_tasks::AnalogMemory::new(1.0, 0.05, 2)?;
/// let ep = task.sample(50, 4, &mut emt_core::rng::seeded(0))?;
/// assert_eq!((ep.inputs().dim(), ep.targets().dim()), ((50, 4, 1), (50, 4, 1)));
/// // The target at t is the input of the latest pulse start.
/// assert_eq!(ep.targets()[[0, 0, 0]], ep.inputs()[[0, 0, 0]]);
/// assert!(ep.targets().iter().all(|y| y.abs() <= 1.0));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalogMemory {
    amplitude: f64,
    p_pulse: f64,
    pulse_len: usize,
}

impl AnalogMemory {
    /// Amplitudes in `[-amplitude, amplitude]` (`amplitude > 0`, finite), a new pulse with
    /// probability `0 < p_pulse <= 1` per free step, each lasting `pulse_len >= 1` steps.
    pub fn new(amplitude: f64, p_pulse: f64, pulse_len: usize) -> Result<Self> {
        if !(amplitude.is_finite() && amplitude > 0.0) {
            return Err(Error::param("amplitude", amplitude, "must be positive and finite"));
        }
        if !(p_pulse > 0.0 && p_pulse <= 1.0) {
            return Err(Error::param("p_pulse", p_pulse, "must be in (0, 1]"));
        }
        emt_core::check::positive("pulse_len", pulse_len)?;
        Ok(AnalogMemory { amplitude, p_pulse, pulse_len })
    }

    /// Largest amplitude.
    pub fn amplitude(&self) -> f64 {
        self.amplitude
    }

    /// Probability of a new pulse per free step.
    pub fn p_pulse(&self) -> f64 {
        self.p_pulse
    }

    /// Steps a pulse lasts.
    pub fn pulse_len(&self) -> usize {
        self.pulse_len
    }
}

impl Task for AnalogMemory {
    fn input_dim(&self) -> usize {
        1
    }

    fn output_dim(&self) -> usize {
        1
    }

    fn input_phase(&self) -> usize {
        0
    }

    /// Per sequence and free step (sequences in order): whether a pulse starts (always at
    /// `t = 0`), then its amplitude.
    fn sample(&self, horizon: usize, batch: usize, rng: &mut dyn RngCore) -> Result<Episode> {
        emt_core::check::positive("horizon", horizon)?;
        emt_core::check::positive("batch", batch)?;
        let mut inputs = Array3::<f32>::zeros((horizon, batch, 1));
        let mut targets = Array3::<f32>::zeros((horizon, batch, 1));
        for b in 0..batch {
            let (mut held, mut left) = (0.0f32, 0usize);
            for t in 0..horizon {
                if left == 0 && (t == 0 || rng.random_bool(self.p_pulse)) {
                    held = (rng.random_range(-1.0..=1.0) * self.amplitude) as f32;
                    left = self.pulse_len;
                }
                if left > 0 {
                    inputs[[t, b, 0]] = held;
                    left -= 1;
                }
                targets[[t, b, 0]] = held;
            }
        }
        Episode::new(inputs, targets, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bad_parameters_are_errors() {
        assert!(AnalogMemory::new(0.0, 0.1, 1).is_err());
        assert!(AnalogMemory::new(f64::NAN, 0.1, 1).is_err());
        assert!(AnalogMemory::new(1.0, 0.0, 1).is_err());
        assert!(AnalogMemory::new(1.0, 1.5, 1).is_err());
        assert!(AnalogMemory::new(1.0, 0.1, 0).is_err());
        let task = AnalogMemory::new(1.0, 0.1, 1).unwrap();
        assert!(task.sample(0, 1, &mut emt_core::rng::seeded(0)).is_err());
        assert!(task.sample(1, 0, &mut emt_core::rng::seeded(0)).is_err());
    }

    proptest! {
        /// Pulses last exactly `pulse_len` steps (or until the end), carry one amplitude within
        /// range, and the target holds the latest pulse's amplitude; the same seed gives the same
        /// data.
        #[test]
        fn targets_hold_the_latest_pulse(seed in 0u64..1000, p in 0.05f64..1.0, len in 1usize..4, amp in 0.1f64..3.0) {
            let task = AnalogMemory::new(amp, p, len).unwrap();
            let ep = task.sample(40, 3, &mut emt_core::rng::seeded(seed)).unwrap();
            let again = task.sample(40, 3, &mut emt_core::rng::seeded(seed)).unwrap();
            prop_assert_eq!(ep.inputs(), again.inputs());
            let (x, y) = (ep.inputs(), ep.targets());
            for b in 0..3 {
                let mut t = 0;
                let mut held = f32::NAN;
                while t < 40 {
                    if x[[t, b, 0]] != 0.0 {
                        // A pulse starts here: constant for `len` steps.
                        held = x[[t, b, 0]];
                        prop_assert!((held as f64).abs() <= amp * (1.0 + 1e-6));
                        let end = (t + len).min(40);
                        for s in t..end {
                            prop_assert_eq!(x[[s, b, 0]], held);
                            prop_assert_eq!(y[[s, b, 0]], held);
                        }
                        t = end;
                    } else {
                        prop_assert!(t > 0, "no pulse at t = 0");
                        prop_assert_eq!(y[[t, b, 0]], held);
                        t += 1;
                    }
                }
            }
        }
    }
}
