//! The floating-point types emt computes in.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A float the engine and the analysis can run in: implemented for `f32` (training engine)
/// and `f64` (analysis, gradient checks).
pub trait Real:
    num_traits::Float
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + Debug
    + Display
    + Default
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Send
    + Sync
    + 'static
{
    /// Name of the type, `"f32"` or `"f64"` (used in file metadata and messages).
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest for `f32`.
    fn of(x: f64) -> Self;

    /// Converts to `f64` (exact for both implementations).
    fn f64(self) -> f64;
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    #[inline]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    #[inline]
    fn of(x: f64) -> Self {
        x
    }
    #[inline]
    fn f64(self) -> f64 {
        self
    }
}
