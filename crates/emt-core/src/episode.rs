//! Episodes (a batch of input/target sequences) and the [`Task`] trait that samples them.

use ndarray::{Array3, ArrayView3};
use rand::RngCore;

use crate::{Error, Result, check};

/// A batch of sequences: inputs `(T, B, d_in)`, targets `(T, B, d_out)`, both time-major
/// `f32`, and which steps are scored: by default `t >= first_scored`; any pattern with
/// [`with_mask`](Self::with_mask) (e.g. a response window in the middle of a trial).
///
/// ```
/// use ndarray::Array3;
/// let ep = emt_core::Episode::new(Array3::zeros((5, 2, 3)), Array3::zeros((5, 2, 3)), 2)?;
/// assert_eq!((ep.len(), ep.batch(), ep.input_dim(), ep.scored_steps()), (5, 2, 3, 3));
/// let ep = ep.with_mask(vec![false, true, false, true, false])?;
/// assert_eq!((ep.first_scored(), ep.scored_steps()), (1, 2));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    inputs: Array3<f32>,
    targets: Array3<f32>,
    first_scored: usize,
    mask: Option<Vec<bool>>,
}

impl Episode {
    /// Checks and builds an episode: equal `T` and `B`, `first_scored < T`, all values finite,
    /// no zero-sized axis.
    pub fn new(inputs: Array3<f32>, targets: Array3<f32>, first_scored: usize) -> Result<Self> {
        let (t, b, d_in) = inputs.dim();
        let (t2, b2, d_out) = targets.dim();
        for (name, v) in [("T", t), ("B", b), ("d_in", d_in), ("d_out", d_out)] {
            check::positive(name, v)?;
        }
        if (t, b) != (t2, b2) {
            return Err(Error::shape(
                "targets",
                format!("(T, B, d_out) with T = {t}, B = {b}"),
                check::fmt_shape(targets.shape()),
            ));
        }
        if first_scored >= t {
            return Err(Error::param("first_scored", first_scored, format!("must be < T = {t}")));
        }
        check::finite("inputs", &inputs)?;
        check::finite("targets", &targets)?;
        Ok(Episode { inputs, targets, first_scored, mask: None })
    }

    /// Scores exactly the steps `t` with `mask[t]` (length `T`, at least one `true`);
    /// `first_scored` becomes the first of them.
    pub fn with_mask(mut self, mask: Vec<bool>) -> Result<Self> {
        if mask.len() != self.len() {
            return Err(Error::shape("score mask", format!("{} steps", self.len()), mask.len().to_string()));
        }
        let Some(first) = mask.iter().position(|&m| m) else {
            return Err(Error::param("score mask", "all false", "must score at least one step"));
        };
        self.first_scored = first;
        self.mask = Some(mask);
        Ok(self)
    }

    /// Which steps are scored, length `T`.
    pub fn scored_mask(&self) -> Vec<bool> {
        match &self.mask {
            Some(m) => m.clone(),
            None => (0..self.len()).map(|t| t >= self.first_scored).collect(),
        }
    }

    /// Inputs, `(T, B, d_in)`.
    pub fn inputs(&self) -> ArrayView3<'_, f32> {
        self.inputs.view()
    }

    /// Targets, `(T, B, d_out)`.
    pub fn targets(&self) -> ArrayView3<'_, f32> {
        self.targets.view()
    }

    /// First scored time step.
    pub fn first_scored(&self) -> usize {
        self.first_scored
    }

    /// Sequence length `T`.
    pub fn len(&self) -> usize {
        self.inputs.dim().0
    }

    /// Always false: episodes have at least one step (kept for clippy's `len` convention).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Batch size `B`.
    pub fn batch(&self) -> usize {
        self.inputs.dim().1
    }

    /// Input dimension `d_in`.
    pub fn input_dim(&self) -> usize {
        self.inputs.dim().2
    }

    /// Output dimension `d_out`.
    pub fn output_dim(&self) -> usize {
        self.targets.dim().2
    }

    /// Number of scored steps (`T - first_scored` without a mask).
    pub fn scored_steps(&self) -> usize {
        match &self.mask {
            Some(m) => m.iter().filter(|&&x| x).count(),
            None => self.len() - self.first_scored,
        }
    }

    /// Splits into `(inputs, targets, first_scored)` (a mask, if any, is dropped).
    pub fn into_parts(self) -> (Array3<f32>, Array3<f32>, usize) {
        (self.inputs, self.targets, self.first_scored)
    }
}

/// A sequence task: something that samples [`Episode`]s.
///
/// `horizon` is the number of scored steps after the input phase, so a sampled episode has
/// `T = input_phase() + horizon` steps and `first_scored = input_phase()`. The random
/// generator is a trait object so tasks can be boxed and mixed.
pub trait Task {
    /// Input dimension `d_in`.
    fn input_dim(&self) -> usize;
    /// Output dimension `d_out`.
    fn output_dim(&self) -> usize;
    /// Length of the input phase (the first scored step).
    fn input_phase(&self) -> usize;
    /// Samples `batch` sequences with `horizon` scored steps.
    ///
    /// Errors if `horizon` or `batch` is zero.
    fn sample(&self, horizon: usize, batch: usize, rng: &mut dyn RngCore) -> Result<Episode>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_invalid_episode_is_an_error() {
        let ok = || (Array3::<f32>::zeros((4, 2, 3)), Array3::<f32>::zeros((4, 2, 1)));
        let (x, y) = ok();
        assert!(Episode::new(x, y, 3).is_ok());
        for shape in [(0, 2, 3), (4, 0, 3), (4, 2, 0)] {
            let e = Episode::new(Array3::zeros(shape), Array3::zeros((shape.0, shape.1, 1)), 0).unwrap_err();
            assert!(matches!(e, Error::InvalidParameter { .. }), "{shape:?}: {e}");
        }
        let (x, _) = ok();
        assert!(
            matches!(Episode::new(x, Array3::zeros((4, 2, 0)), 0), Err(Error::InvalidParameter { ref name, .. }) if name == "d_out")
        );
        let (x, _) = ok();
        assert!(
            matches!(Episode::new(x, Array3::zeros((5, 2, 1)), 0), Err(Error::Shape { ref what, .. }) if what == "targets")
        );
        let (x, y) = ok();
        assert!(
            matches!(Episode::new(x, y, 4), Err(Error::InvalidParameter { ref name, .. }) if name == "first_scored")
        );
        let (mut x, y) = ok();
        x[[1, 1, 2]] = f32::NAN;
        assert!(
            matches!(Episode::new(x, y, 0), Err(Error::NonFinite { ref what, ref index, .. }) if what == "inputs" && index == &vec![1, 1, 2])
        );
        let (x, mut y) = ok();
        y[[3, 0, 0]] = f32::INFINITY;
        assert!(matches!(Episode::new(x, y, 0), Err(Error::NonFinite { ref what, .. }) if what == "targets"));
    }
}
