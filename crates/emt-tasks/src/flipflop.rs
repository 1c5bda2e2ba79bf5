//! The flip-flop task (Sussillo & Barak 2013): the classic benchmark for fixed-point analysis.

use emt_core::{Episode, Error, Result, Task};
use ndarray::Array3;
use rand::{Rng, RngCore};

/// `bits` independent flip-flops. Each input channel pulses `+1` or `-1` (equally likely) with
/// probability `p_flip` per step, else stays 0; the target of each channel holds the sign of its
/// most recent pulse. A trained network needs `2^bits` stable fixed points, one per stored word
/// (FixedPointFinder's 3-bit example has 8).
///
/// Our convention, so that every target is `+-1` and sign accuracy means something: every
/// channel pulses at `t = 0`; `p_flip` governs the later steps. Every step is scored
/// (`input_phase = 0`, `T = horizon`).
///
/// ```
/// use emt_core::Task;
/// let task = emt_tasks::FlipFlop::new(3, 0.05)?;
/// let ep = task.sample(100, 4, &mut emt_core::rng::seeded(0))?;
/// assert_eq!((ep.inputs().dim(), ep.targets().dim(), ep.first_scored()), ((100, 4, 3), (100, 4, 3), 0));
/// assert!(ep.targets().iter().all(|&y| y == 1.0 || y == -1.0));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlipFlop {
    bits: usize,
    p_flip: f64,
}

impl FlipFlop {
    /// `bits >= 1` channels, pulse probability `0 < p_flip <= 1` per channel and step.
    pub fn new(bits: usize, p_flip: f64) -> Result<Self> {
        emt_core::check::positive("bits", bits)?;
        if !(p_flip > 0.0 && p_flip <= 1.0) {
            return Err(Error::param("p_flip", p_flip, "must be in (0, 1]"));
        }
        Ok(FlipFlop { bits, p_flip })
    }

    /// Number of channels.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Pulse probability per channel and step.
    pub fn p_flip(&self) -> f64 {
        self.p_flip
    }
}

impl Task for FlipFlop {
    fn input_dim(&self) -> usize {
        self.bits
    }

    fn output_dim(&self) -> usize {
        self.bits
    }

    fn input_phase(&self) -> usize {
        0
    }

    /// Draws, per step, sequence and channel (in that order): whether it pulses (not at
    /// `t = 0`, where it always does), then the pulse's sign.
    fn sample(&self, horizon: usize, batch: usize, rng: &mut dyn RngCore) -> Result<Episode> {
        emt_core::check::positive("horizon", horizon)?;
        emt_core::check::positive("batch", batch)?;
        let mut inputs = Array3::<f32>::zeros((horizon, batch, self.bits));
        let mut targets = Array3::<f32>::zeros((horizon, batch, self.bits));
        for t in 0..horizon {
            for b in 0..batch {
                for i in 0..self.bits {
                    let held = if t == 0 { 0.0 } else { targets[[t - 1, b, i]] };
                    let pulse = t == 0 || rng.random_bool(self.p_flip);
                    targets[[t, b, i]] = if pulse {
                        let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
                        inputs[[t, b, i]] = sign;
                        sign
                    } else {
                        held
                    };
                }
            }
        }
        Episode::new(inputs, targets, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_hold_the_last_pulse_and_pulses_have_the_given_rate() {
        let task = FlipFlop::new(3, 0.1).unwrap();
        let ep = task.sample(2000, 8, &mut emt_core::rng::seeded(3)).unwrap();
        let (x, y) = (ep.inputs(), ep.targets());
        let mut pulses = 0usize;
        for b in 0..8 {
            for i in 0..3 {
                let mut last = 0.0;
                for t in 0..2000 {
                    let u = x[[t, b, i]];
                    assert!(u == 0.0 || u == 1.0 || u == -1.0);
                    if t == 0 {
                        assert_ne!(u, 0.0, "every channel pulses at t = 0");
                    } else if u != 0.0 {
                        pulses += 1;
                    }
                    if u != 0.0 {
                        last = u;
                    }
                    assert_eq!(y[[t, b, i]], last);
                }
            }
        }
        let rate = pulses as f64 / (1999.0 * 24.0);
        // 47,976 Bernoulli(0.1) draws: standard deviation 0.0014.
        assert!((rate - 0.1).abs() < 0.006, "{rate}");
        let positive = x.iter().filter(|&&u| u > 0.0).count() as f64 / x.iter().filter(|&&u| u != 0.0).count() as f64;
        assert!((positive - 0.5).abs() < 0.03, "{positive}");
    }

    #[test]
    fn seeded_and_checked() {
        let task = FlipFlop::new(2, 0.3).unwrap();
        let a = task.sample(20, 3, &mut emt_core::rng::seeded(1)).unwrap();
        assert_eq!(a, task.sample(20, 3, &mut emt_core::rng::seeded(1)).unwrap());
        assert_ne!(a, task.sample(20, 3, &mut emt_core::rng::seeded(2)).unwrap());
        for p in [0.0, -0.1, 1.5, f64::NAN] {
            assert!(matches!(FlipFlop::new(2, p), Err(Error::InvalidParameter { .. })), "{p}");
        }
        assert!(FlipFlop::new(0, 0.1).is_err());
        assert!(task.sample(0, 3, &mut emt_core::rng::seeded(1)).is_err());
    }
}
