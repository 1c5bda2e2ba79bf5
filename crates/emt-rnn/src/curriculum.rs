//! The horizon curriculum of docs/EMT.md §2.

use emt_core::{Error, Result};

/// A horizon ladder: training starts at the first horizon and advances one level after any
/// batch whose accuracy exceeds the threshold; it never goes back.
///
/// ```
/// let mut c = emt_rnn::Curriculum::paper();
/// assert_eq!(c.horizon(), 10);
/// assert!(!c.observe(0.95));
/// assert!(c.observe(0.97));
/// assert_eq!((c.level(), c.horizon()), (1, 20));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Curriculum {
    horizons: Vec<usize>,
    threshold: f64,
    level: usize,
}

impl Curriculum {
    /// The paper's ladder `[10, 20, 40, 60, 100]` at threshold 0.96.
    pub fn paper() -> Self {
        Curriculum { horizons: vec![10, 20, 40, 60, 100], threshold: 0.96, level: 0 }
    }

    /// A ladder of strictly increasing positive horizons and a threshold in `(0, 1]`.
    pub fn new(horizons: Vec<usize>, threshold: f64) -> Result<Self> {
        if horizons.is_empty() {
            return Err(Error::param("horizons", "[]", "the ladder needs at least one horizon"));
        }
        if let Some(pos) = horizons.iter().position(|&h| h == 0) {
            return Err(Error::param(format!("horizons[{pos}]"), 0, "horizons must be at least 1"));
        }
        if let Some(pos) = horizons.windows(2).position(|w| w[1] <= w[0]) {
            return Err(Error::param(
                format!("horizons[{}]", pos + 1),
                horizons[pos + 1],
                format!("the ladder must be strictly increasing (previous is {})", horizons[pos]),
            ));
        }
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(Error::param("threshold", threshold, "must be in (0, 1]"));
        }
        Ok(Curriculum { horizons, threshold, level: 0 })
    }

    /// Records one batch accuracy; returns whether the level advanced. NaN never advances.
    pub fn observe(&mut self, batch_accuracy: f64) -> bool {
        if batch_accuracy > self.threshold && !self.is_last() {
            self.level += 1;
            true
        } else {
            false
        }
    }

    /// The current training horizon.
    pub fn horizon(&self) -> usize {
        self.horizons[self.level]
    }

    /// The current level (0-based).
    pub fn level(&self) -> usize {
        self.level
    }

    /// True at the top of the ladder.
    pub fn is_last(&self) -> bool {
        self.level + 1 == self.horizons.len()
    }

    /// The ladder.
    pub fn horizons(&self) -> &[usize] {
        &self.horizons
    }

    /// The advance threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }
}

impl Default for Curriculum {
    fn default() -> Self {
        Curriculum::paper()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn climbs_and_never_goes_back() {
        let mut c = Curriculum::new(vec![2, 5], 0.9).unwrap();
        assert!(!c.observe(0.9), "must exceed, not equal");
        assert!(!c.observe(f64::NAN));
        assert!(c.observe(0.95));
        assert!(c.is_last());
        assert!(!c.observe(1.0));
        assert!(!c.observe(0.0));
        assert_eq!(c.horizon(), 5);
    }

    #[test]
    fn invalid_ladders_are_errors() {
        for (h, th) in [
            (vec![], 0.9),
            (vec![0, 3], 0.9),
            (vec![3, 3], 0.9),
            (vec![5, 3], 0.9),
            (vec![3], 0.0),
            (vec![3], 1.5),
            (vec![3], f64::NAN),
        ] {
            assert!(matches!(Curriculum::new(h.clone(), th), Err(Error::InvalidParameter { .. })), "{h:?} {th}");
        }
    }
}
