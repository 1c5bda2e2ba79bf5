//! Named members of the family: classic repeat copy and compose copy.

use emt_core::{Episode, Error, Result, Task};
use rand::RngCore;

use crate::{LinearVb, TaskId};

/// Classic repeat copy (e.g. `d = 6`, `s = 7`, 4 repeats): show `s` random `d`-bit patterns,
/// then reproduce them `repeats` times. It is [`LinearVb`] with `id1 = 2^d - 1` and horizon
/// `repeats * s`, and consumes the random stream identically.
///
/// ```
/// use emt_tasks::RepeatCopy;
/// let task = RepeatCopy::new(6, 7, 4)?;
/// let ep = task.sample_classic(3, &mut emt_core::rng::seeded(0))?;
/// assert_eq!(ep.inputs().dim(), (35, 3, 6));
/// assert_eq!(ep.targets()[[7 + 14 + 2, 1, 5]], ep.inputs()[[2, 1, 5]]);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatCopy {
    inner: LinearVb,
    repeats: usize,
}

impl RepeatCopy {
    /// `d` bits, `s` patterns, `repeats` copies. Errors on zero sizes or `s*d > 128`.
    pub fn new(d: usize, s: usize, repeats: usize) -> Result<Self> {
        emt_core::check::positive("repeats", repeats)?;
        emt_core::check::positive("d", d)?;
        let inner = LinearVb::new(TaskId::repeat_copy(d), s, d)?;
        Ok(RepeatCopy { inner, repeats })
    }

    /// Number of copies in the classic episode.
    pub fn repeats(&self) -> usize {
        self.repeats
    }

    /// The classic horizon, `repeats * s`.
    pub fn classic_horizon(&self) -> usize {
        self.repeats * self.inner.s()
    }

    /// An episode of the classic length `s + repeats * s`.
    pub fn sample_classic(&self, batch: usize, rng: &mut dyn RngCore) -> Result<Episode> {
        self.inner.sample(self.classic_horizon(), batch, rng)
    }

    /// The same task as a [`LinearVb`].
    pub fn as_linear_vb(&self) -> &LinearVb {
        &self.inner
    }
}

/// Compose copy, the "diagonal" task: `y(t)_j = y(t - s + j)_j` (output bit `j` copies its own
/// bit from `s - j` steps back). Needs `d <= s`; for `s = d = 8` it is
/// `TaskId(0x8040201008040201, 0, 0)`.
///
/// ```
/// use emt_tasks::{ComposeCopy, TaskId};
/// assert_eq!(ComposeCopy::new(8, 8)?.as_linear_vb().id(), TaskId::new(0x8040201008040201, 0, 0));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeCopy {
    inner: LinearVb,
}

impl ComposeCopy {
    /// `s` variables of `d` bits, `d <= s`.
    pub fn new(s: usize, d: usize) -> Result<Self> {
        emt_core::check::positive("d", d)?;
        if d > s {
            return Err(Error::param("d", d, format!("compose copy needs d <= s = {s}")));
        }
        if s.checked_mul(d).is_none_or(|n| n > 128) {
            return Err(Error::param("s*d", format!("{s}*{d}"), "must be at most 128 (id1 is a u128 bit mask)"));
        }
        // Output j reads window position k*d + i with k = i = j.
        let id1 = (0..d).fold(0u128, |acc, j| acc | 1u128 << (j * d + j));
        Ok(ComposeCopy { inner: LinearVb::new(TaskId::new(id1, 0, 0), s, d)? })
    }

    /// The same task as a [`LinearVb`].
    pub fn as_linear_vb(&self) -> &LinearVb {
        &self.inner
    }
}

/// Both named tasks are `LinearVb`s; they sample exactly as their `LinearVb` does.
macro_rules! delegate_task {
    ($($ty:ty),*) => {$(
        impl Task for $ty {
            fn input_dim(&self) -> usize { self.inner.input_dim() }
            fn output_dim(&self) -> usize { self.inner.output_dim() }
            fn input_phase(&self) -> usize { self.inner.input_phase() }
            fn sample(&self, horizon: usize, batch: usize, rng: &mut dyn RngCore) -> Result<Episode> {
                self.inner.sample(horizon, batch, rng)
            }
        }
    )*};
}
delegate_task!(RepeatCopy, ComposeCopy);
