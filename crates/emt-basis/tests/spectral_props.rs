//! spectral_error never returns NaN on valid input and depends only on the spectra.

use emt_basis::spectral_error;
use ndarray::Array2;
use proptest::prelude::*;

fn gaussian(n: usize, seed: u64, scale: f64) -> Array2<f64> {
    emt_testkit::gaussian(n, n, seed) * scale
}

proptest! {
    #![proptest_config(emt_testkit::proptest_config(64))]

    /// Finite, in [0, pi], counts consistent, for random matrices of different sizes and
    /// scales (including ones with no eigenvalue above the threshold).
    #[test]
    fn never_nan(n in 1usize..24, m in 1usize..24, seed: u64, scale in 0.01f64..3.0, threshold in 0.0f64..2.0) {
        let a = gaussian(n, seed, scale / (n as f64).sqrt());
        let b = gaussian(m, seed ^ 1, 1.0 / (m as f64).sqrt());
        let c = spectral_error(a.view(), b.view(), threshold).unwrap();
        prop_assert!(c.radians.is_finite() && (0.0..=std::f64::consts::PI).contains(&c.radians));
        prop_assert_eq!(c.matched, c.count_a.min(c.count_b));
        prop_assert_eq!(c.unmatched, c.count_a.abs_diff(c.count_b));
    }

    /// A similarity transform S A S^-1 has A's spectrum: the error against A is tiny.
    #[test]
    fn invariant_under_similarity(n in 2usize..20, seed: u64) {
        let a = gaussian(n, seed, 1.0 / (n as f64).sqrt());
        let s = gaussian(n, seed ^ 7, 1.0) + Array2::<f64>::eye(n) * 3.0;
        let s_inv = emt_basis::linalg::pinv(s.view(), 0.0).unwrap();
        let b = s.dot(&a).dot(&s_inv);
        let c = spectral_error(a.view(), b.view(), 0.5).unwrap();
        prop_assert!(c.radians < 1e-7, "{}", c.radians);
        prop_assert_eq!(c.unmatched, 0);
    }
}
