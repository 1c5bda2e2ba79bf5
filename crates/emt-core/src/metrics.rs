//! Scores over the scored steps of an episode (docs/EMT.md §2).

use ndarray::{ArrayView3, Axis, s};

use crate::{Error, Real, Result, check};

fn check_pair<A: Real, B: Real>(
    outputs: &ArrayView3<'_, A>,
    targets: &ArrayView3<'_, B>,
    first_scored: usize,
) -> Result<()> {
    if outputs.shape() != targets.shape() {
        return Err(Error::shape("outputs", check::fmt_shape(targets.shape()), check::fmt_shape(outputs.shape())));
    }
    let t = outputs.dim().0;
    if first_scored >= t || outputs.dim().1 == 0 || outputs.dim().2 == 0 {
        return Err(Error::param(
            "first_scored",
            first_scored,
            format!(
                "must be < T = {t} with a non-empty batch and output (shape {})",
                check::fmt_shape(outputs.shape())
            ),
        ));
    }
    check::finite("outputs", outputs)?;
    check::finite("targets", targets)
}

/// EMT's sign convention: `sign(0) = +1`.
#[inline]
pub fn sign<F: Real>(x: F) -> F {
    if x >= F::zero() { F::one() } else { -F::one() }
}

/// Mean over scored elements (`t >= first_scored`, every batch and output dim) of
/// `[sign(o) == sign(y)]` with `sign(0) = +1`. Shapes `(T, B, d)`.
///
/// ```
/// use ndarray::array;
/// let o = array![[[0.5, -0.1]], [[0.0, -2.0]]];
/// let y = array![[[1.0, 1.0]], [[1.0, 1.0]]];
/// assert_eq!(emt_core::metrics::sign_accuracy(o.view(), y.view(), 1)?, 0.5);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn sign_accuracy<A: Real, B: Real>(
    outputs: ArrayView3<'_, A>,
    targets: ArrayView3<'_, B>,
    first_scored: usize,
) -> Result<f64> {
    check_pair(&outputs, &targets, first_scored)?;
    let o = outputs.slice(s![first_scored.., .., ..]);
    let y = targets.slice(s![first_scored.., .., ..]);
    let hits = o.iter().zip(y.iter()).filter(|&(&a, &b)| (a >= A::zero()) == (b >= B::zero())).count();
    Ok(hits as f64 / o.len() as f64)
}

/// Mean squared error over scored elements, like `torch.mean((o[s:] - y[s:])**2)`.
///
/// ```
/// use ndarray::array;
/// let o = array![[[9.0]], [[1.5]]];
/// let y = array![[[1.0]], [[1.0]]];
/// assert_eq!(emt_core::metrics::output_mse(o.view(), y.view(), 1)?, 0.25);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn output_mse<A: Real, B: Real>(
    outputs: ArrayView3<'_, A>,
    targets: ArrayView3<'_, B>,
    first_scored: usize,
) -> Result<f64> {
    check_pair(&outputs, &targets, first_scored)?;
    let o = outputs.slice(s![first_scored.., .., ..]);
    let y = targets.slice(s![first_scored.., .., ..]);
    let sum: f64 = o.iter().zip(y.iter()).map(|(&a, &b)| (a.f64() - b.f64()).powi(2)).sum();
    Ok(sum / o.len() as f64)
}

/// Largest `|o - y|` over scored elements; with `last` = `Some(k)` only over the last `k`
/// time steps (to see whether an error shrinks over time).
pub fn max_abs_error<A: Real, B: Real>(
    outputs: ArrayView3<'_, A>,
    targets: ArrayView3<'_, B>,
    first_scored: usize,
    last: Option<usize>,
) -> Result<f64> {
    check_pair(&outputs, &targets, first_scored)?;
    let t = outputs.len_of(Axis(0));
    let start = match last {
        Some(k) => first_scored.max(t.saturating_sub(k)),
        None => first_scored,
    };
    let o = outputs.slice(s![start.., .., ..]);
    let y = targets.slice(s![start.., .., ..]);
    Ok(o.iter().zip(y.iter()).map(|(&a, &b)| (a.f64() - b.f64()).abs()).fold(0.0, f64::max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array3, array};

    #[test]
    fn only_scored_steps_count() {
        let o = array![[[-1.0f32]], [[1.0]], [[-1.0]]];
        let y = array![[[1.0f32]], [[1.0]], [[1.0]]];
        assert_eq!(sign_accuracy(o.view(), y.view(), 1).unwrap(), 0.5);
        assert_eq!(sign_accuracy(o.view(), y.view(), 2).unwrap(), 0.0);
        assert_eq!(output_mse(o.view(), y.view(), 1).unwrap(), 2.0);
        assert_eq!(max_abs_error(o.view(), y.view(), 0, Some(2)).unwrap(), 2.0);
        assert_eq!(max_abs_error(o.view(), y.view(), 0, Some(1)).unwrap(), 2.0);
        assert_eq!(max_abs_error(o.view(), y.view(), 1, Some(3)).unwrap(), 2.0);
    }

    #[test]
    fn sign_of_zero_is_plus_one() {
        assert_eq!(sign(0.0f64), 1.0);
        assert_eq!(sign(-0.0f64), 1.0);
        let o = Array3::<f64>::zeros((2, 1, 1));
        assert_eq!(sign_accuracy(o.view(), array![[[1.0]], [[1.0]]].view(), 0).unwrap(), 1.0);
        assert_eq!(sign_accuracy(o.view(), array![[[-1.0]], [[-1.0]]].view(), 0).unwrap(), 0.0);
    }

    #[test]
    fn errors_on_mismatch_nan_and_bad_first_scored() {
        let o = Array3::<f64>::zeros((2, 1, 1));
        assert!(matches!(sign_accuracy(o.view(), Array3::<f64>::zeros((2, 1, 2)).view(), 0), Err(Error::Shape { .. })));
        assert!(matches!(output_mse(o.view(), o.view(), 2), Err(Error::InvalidParameter { .. })));
        let mut bad = o.clone();
        bad[[1, 0, 0]] = f64::NAN;
        assert!(matches!(sign_accuracy(bad.view(), o.view(), 0), Err(Error::NonFinite { .. })));
    }
}
