//! # emt-testkit: what emt's tests share (unpublished)
//!
//! - [`REFERENCE_IDS`]: the four task ids of docs/EMT.md §2 (s = d = 8), as raw `(id1, id2, id3)`
//!   so that this crate needs no emt crate but emt-core (each crate's tests build `TaskId`s from them).
//! - [`proptest_config`]: proptest settings with failures persisted beside the test file.
//! - [`gaussian`], [`gaussian_from`]: seeded standard Gaussian matrices.
//! - [`jacobian_fd`], [`max_abs_diff`]: central finite differences and comparison.
//! - [`systems`]: dynamical systems with known answers (Hénon, logistic, linear maps and flows,
//!   Lorenz, Rössler, the random rate network), as `emt_core` maps and flows.
//! - [`fuzz`]: a seeded structure-aware mutator of safetensors files (loader fuzzing).
//!
//! ```
//! let j = emt_testkit::jacobian_fd(|x| ndarray::array![x[0] * x[1], x[0].sin()], ndarray::array![1.0, 2.0].view(), 1e-6);
//! assert!((j[[0, 0]] - 2.0).abs() < 1e-8 && (j[[1, 0]] - 1f64.cos()).abs() < 1e-8);
//! ```

#![warn(missing_docs)]

pub mod fuzz;
pub mod systems;

use ndarray::{Array1, Array2, ArrayView1};
use rand::{Rng, RngCore, SeedableRng};
use rand_distr::StandardNormal;

/// The `X` of docs/EMT.md's reference ids.
pub const X: u128 = 9241421688590303745;

/// The four reference ids of docs/EMT.md §2 (s = d = 8): repeat copy, `(X,0,0)`,
/// `(X,262676,189)`, `(X,38637,145)`.
pub const REFERENCE_IDS: [(u128, u128, u128); 4] = [(255, 0, 0), (X, 0, 0), (X, 262676, 189), (X, 38637, 145)];

/// Proptest settings: `cases` cases, failures persisted beside the test file
/// (`*.proptest-regressions`, committed with the tests).
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Default::default()
    }
}

/// A `(rows, cols)` standard Gaussian matrix from a ChaCha8 stream seeded with `seed`.
pub fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    gaussian_from(rows, cols, &mut rand_chacha::ChaCha8Rng::seed_from_u64(seed))
}

/// A `(rows, cols)` standard Gaussian matrix drawn row by row from `rng`.
pub fn gaussian_from(rows: usize, cols: usize, rng: &mut dyn RngCore) -> Array2<f64> {
    Array2::from_shape_simple_fn((rows, cols), || rng.sample(StandardNormal))
}

/// Central-difference Jacobian `(m, n)` of `f: R^n -> R^m` at `x` with step `eps`.
pub fn jacobian_fd(f: impl Fn(ArrayView1<'_, f64>) -> Array1<f64>, x: ArrayView1<'_, f64>, eps: f64) -> Array2<f64> {
    let n = x.len();
    let m = f(x).len();
    let mut jac = Array2::zeros((m, n));
    let mut xp = x.to_owned();
    for j in 0..n {
        let orig = xp[j];
        xp[j] = orig + eps;
        let fp = f(xp.view());
        xp[j] = orig - eps;
        let fm = f(xp.view());
        xp[j] = orig;
        jac.column_mut(j).assign(&((fp - fm) / (2.0 * eps)));
    }
    jac
}

/// Largest absolute elementwise difference of two equally shaped arrays (`inf` if the
/// shapes differ, so a shape bug can never pass as a small error).
pub fn max_abs_diff<D: ndarray::Dimension>(a: &ndarray::Array<f64, D>, b: &ndarray::Array<f64, D>) -> f64 {
    if a.shape() != b.shape() {
        return f64::INFINITY;
    }
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_is_seeded_and_standard() {
        assert_eq!(gaussian(3, 4, 7), gaussian(3, 4, 7));
        assert_ne!(gaussian(3, 4, 7), gaussian(3, 4, 8));
        let g = gaussian(200, 200, 1);
        let mean = g.mean().unwrap_or(f64::NAN);
        let var = g.mapv(|x| x * x).mean().unwrap_or(f64::NAN);
        assert!(mean.abs() < 0.02 && (var - 1.0).abs() < 0.02, "{mean} {var}");
    }

    #[test]
    fn finite_differences_of_a_linear_map_are_its_matrix() {
        let a = gaussian(3, 5, 2);
        let j = jacobian_fd(|x| a.dot(&x), Array1::ones(5).view(), 1e-3);
        assert!(max_abs_diff(&j, &a) < 1e-12);
        assert_eq!(max_abs_diff(&j, &Array2::zeros((5, 3))), f64::INFINITY);
    }
}
