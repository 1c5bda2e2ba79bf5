//! Where a training step's time goes: wall time per phase of the engine, measured only when
//! asked for ([`Engine::with_phase_times`](crate::Engine::with_phase_times)), so the hot path
//! pays one predictable branch per phase boundary otherwise.

use std::time::Instant;

/// The engine's phases, in the order a step runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Load,
    Input,
    RecurrentForward,
    ForwardPointwise,
    Readout,
    RecurrentBackward,
    BackwardPointwise,
    WeightGrads,
}

/// Seconds spent per phase, summed over calls. Per-chunk phases are thread 0's chunk (with
/// several threads the chunks run side by side and are the same size up to one sequence);
/// `reduction` (summing the threads' gradients) and `total` (the whole call, wall clock) are the
/// caller's. `total` minus the phases is what the threads spend waiting and starting.
///
/// ```
/// use emt_core::{Task, rng};
/// use emt_rnn::{ElmanParams, Engine, TanhMode};
/// let task = emt_tasks::RepeatCopy::new(3, 4, 2)?;
/// let ep = task.sample_classic(8, &mut rng::seeded(0))?;
/// let params = ElmanParams::<f32>::init(32, 3, 3, false, &mut rng::seeded(1))?;
/// let mut grad = ElmanParams::zeros(params.layout());
/// let mut engine = Engine::new(1, TanhMode::Fast)?.with_phase_times(true);
/// engine.loss_and_grad(&params, &ep, &mut grad)?;
/// let t = engine.phase_times();
/// assert_eq!(t.calls, 1);
/// assert!(t.recurrent_forward > 0.0 && t.phases() <= t.total);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    /// Copying the chunk's inputs and targets (and drawing ctrnn noise).
    pub load: f64,
    /// The input GEMM `X W_ih^T` over all steps at once, plus biases.
    pub input: f64,
    /// The per-step recurrent GEMMs of the forward sweep.
    pub recurrent_forward: f64,
    /// Nonlinearities and gate arithmetic of the forward sweep.
    pub forward_pointwise: f64,
    /// Readout GEMM, loss, readout gradients and the direct state gradients.
    pub readout: f64,
    /// The per-step recurrent GEMMs of the backward sweep.
    pub recurrent_backward: f64,
    /// Derivatives of the nonlinearities and gates in the backward sweep.
    pub backward_pointwise: f64,
    /// Weight-gradient GEMMs after the sweep, plus bias sums.
    pub weight_grads: f64,
    /// Summing the threads' gradients in a fixed order.
    pub reduction: f64,
    /// Wall time of the whole calls.
    pub total: f64,
    /// Calls measured.
    pub calls: u64,
}

impl PhaseTimes {
    /// The sum of the per-chunk phases and the reduction.
    pub fn phases(&self) -> f64 {
        self.load
            + self.input
            + self.recurrent_forward
            + self.forward_pointwise
            + self.readout
            + self.recurrent_backward
            + self.backward_pointwise
            + self.weight_grads
            + self.reduction
    }

    /// `(name, seconds)` for every field but `calls`, in step order.
    pub fn named(&self) -> [(&'static str, f64); 10] {
        [
            ("load", self.load),
            ("input", self.input),
            ("recurrent_forward", self.recurrent_forward),
            ("forward_pointwise", self.forward_pointwise),
            ("readout", self.readout),
            ("recurrent_backward", self.recurrent_backward),
            ("backward_pointwise", self.backward_pointwise),
            ("weight_grads", self.weight_grads),
            ("reduction", self.reduction),
            ("total", self.total),
        ]
    }

    fn slot(&mut self, phase: Phase) -> &mut f64 {
        match phase {
            Phase::Load => &mut self.load,
            Phase::Input => &mut self.input,
            Phase::RecurrentForward => &mut self.recurrent_forward,
            Phase::ForwardPointwise => &mut self.forward_pointwise,
            Phase::Readout => &mut self.readout,
            Phase::RecurrentBackward => &mut self.recurrent_backward,
            Phase::BackwardPointwise => &mut self.backward_pointwise,
            Phase::WeightGrads => &mut self.weight_grads,
        }
    }
}

/// A lap timer: `lap(phase)` books the time since the previous lap (or `start`) to `phase`.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    on: bool,
    last: Option<Instant>,
    pub(crate) times: PhaseTimes,
}

impl Clock {
    pub(crate) fn new(on: bool) -> Self {
        Clock { on, ..Clock::default() }
    }

    #[inline]
    pub(crate) fn start(&mut self) {
        if self.on {
            self.last = Some(Instant::now());
        }
    }

    #[inline]
    pub(crate) fn lap(&mut self, phase: Phase) {
        if self.on {
            let now = Instant::now();
            if let Some(last) = self.last {
                *self.times.slot(phase) += (now - last).as_secs_f64();
            }
            self.last = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{CellSpec, Engine, Params, TanhMode};
    use emt_core::{Episode, rng};
    use ndarray::Array3;

    /// Timing changes nothing: losses and gradients are bit-identical with the clock on, for
    /// every cell and 1 or 2 threads; every phase the cell has is booked.
    #[test]
    fn phase_times_leave_results_unchanged_and_cover_every_phase() {
        let x = Array3::from_shape_fn((9, 6, 3), |(t, b, i)| ((t * 7 + b * 3 + i) as f32 * 0.37).sin());
        let y = Array3::from_shape_fn((9, 6, 2), |(t, b, i)| ((t + b * 5 + i) as f32 * 0.51).cos());
        let ep = Episode::new(x, y, 2).unwrap();
        for cell in [CellSpec::Elman, CellSpec::Gru, CellSpec::CtRnn { alpha: 0.3 }, CellSpec::CtGru { dt: 0.2 }] {
            for threads in [1, 2] {
                let params = Params::<f32>::init_cell(cell, 8, 3, 2, true, &mut rng::seeded(4)).unwrap();
                let (mut g1, mut g2) = (Params::zeros(params.layout()), Params::zeros(params.layout()));
                let mut plain = Engine::new(threads, TanhMode::Fast).unwrap();
                let mut timed = Engine::new(threads, TanhMode::Fast).unwrap().with_phase_times(true);
                let a = plain.loss_and_grad(&params, &ep, &mut g1).unwrap();
                let b = timed.loss_and_grad(&params, &ep, &mut g2).unwrap();
                assert_eq!(a.loss.to_bits(), b.loss.to_bits(), "{cell:?}");
                assert!(g1.as_slice().iter().zip(g2.as_slice()).all(|(u, v)| u.to_bits() == v.to_bits()));
                let t = timed.phase_times();
                assert_eq!((t.calls, plain.phase_times().calls), (1, 0));
                for (name, secs) in t.named() {
                    if name != "load" && name != "reduction" {
                        assert!(secs > 0.0, "{cell:?} {threads} threads: {name} not booked");
                    }
                }
                assert!(t.phases() <= t.total * (1.0 + 1e-9) + 1e-6, "{cell:?}: {} > {}", t.phases(), t.total);
            }
        }
    }
}
