//! Spectral error between a trained `W_hh` and the theory's `Phi` (docs/EMT.md §4).

use emt_core::{Error, Result};
use ndarray::ArrayView2;
use num_complex::Complex64;

use crate::linalg;

/// How two spectra compare: eigenvalues with `|λ| > threshold` on each side are paired by an
/// optimal one-to-one assignment of their arguments (angles), and the mean absolute angle
/// difference over the pairs is reported. Moduli are ignored on purpose: tanh turns
/// `|λ| > 1` into limit cycles, so only the rotation speed is comparable.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralComparison {
    /// Mean absolute argument difference over matched pairs, radians in `[0, π]`; 0 when
    /// nothing is matched (see `matched`).
    pub radians: f64,
    /// Eigenvalues above the threshold in the first operator.
    pub count_a: usize,
    /// Eigenvalues above the threshold in the second operator.
    pub count_b: usize,
    /// Pairs matched: `min(count_a, count_b)`.
    pub matched: usize,
    /// Eigenvalues left without a partner: `|count_a - count_b|`.
    pub unmatched: usize,
    /// The matched pairs `(from a, from b)`.
    pub pairs: Vec<(Complex64, Complex64)>,
}

impl SpectralComparison {
    /// The error in degrees.
    pub fn degrees(&self) -> f64 {
        self.radians.to_degrees()
    }
}

/// Compares the spectra of two square matrices (any sizes).
///
/// ```
/// let a = ndarray::array![[0.0, -1.0], [1.0, 0.0]];
/// let same = emt_basis::spectral_error(a.view(), a.view(), 0.9)?;
/// assert_eq!((same.radians, same.matched, same.unmatched), (0.0, 2, 0));
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn spectral_error(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, threshold: f64) -> Result<SpectralComparison> {
    compare_spectra(&linalg::eigenvalues(a)?, &linalg::eigenvalues(b)?, threshold)
}

/// Compares two lists of eigenvalues (e.g. a numeric spectrum with `Phi`'s exact one).
pub fn compare_spectra(a: &[Complex64], b: &[Complex64], threshold: f64) -> Result<SpectralComparison> {
    if !(threshold.is_finite() && threshold >= 0.0) {
        return Err(Error::param("threshold", threshold, "must be finite and >= 0"));
    }
    if let Some(z) = a.iter().chain(b).find(|z| !(z.re.is_finite() && z.im.is_finite())) {
        return Err(Error::NonFinite {
            what: "eigenvalue".into(),
            index: vec![],
            value: if z.re.is_finite() { z.im } else { z.re },
        });
    }
    let keep = |v: &[Complex64]| -> Vec<Complex64> { v.iter().copied().filter(|z| z.norm() > threshold).collect() };
    let (ka, kb) = (keep(a), keep(b));
    // The assignment runs rows <= columns; transpose if needed and swap pairs back.
    let (rows, cols, swapped) = if ka.len() <= kb.len() { (&ka, &kb, false) } else { (&kb, &ka, true) };
    let cost = ndarray::Array2::from_shape_fn((rows.len(), cols.len()), |(i, j)| angle_gap(rows[i], cols[j]));
    let assignment = linalg::assignment(cost.view())?;
    let pairs: Vec<(Complex64, Complex64)> = assignment
        .iter()
        .enumerate()
        .map(|(i, &j)| if swapped { (cols[j], rows[i]) } else { (rows[i], cols[j]) })
        .collect();
    let total: f64 = assignment.iter().enumerate().map(|(i, &j)| cost[[i, j]]).sum();
    let matched = pairs.len();
    Ok(SpectralComparison {
        radians: if matched == 0 { 0.0 } else { total / matched as f64 },
        count_a: ka.len(),
        count_b: kb.len(),
        matched,
        unmatched: ka.len().abs_diff(kb.len()),
        pairs,
    })
}

/// |arg x - arg y| wrapped into [0, π]; exactly 0 for equal arguments.
fn angle_gap(x: Complex64, y: Complex64) -> f64 {
    let d = x.arg() - y.arg();
    d.sin().atan2(d.cos()).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_invariant_and_counts_reported() {
        let a: Vec<Complex64> = (0..6).map(|k| Complex64::from_polar(1.0, k as f64)).collect();
        let mut b = a.clone();
        b.reverse();
        let c = compare_spectra(&a, &b, 0.9).unwrap();
        assert_eq!((c.radians, c.matched, c.unmatched), (0.0, 6, 0));
        let mut more = a.clone();
        more.push(Complex64::new(0.95, 0.0));
        more.push(Complex64::new(0.1, 0.0)); // below the threshold: ignored
        let c = compare_spectra(&a, &more, 0.9).unwrap();
        assert_eq!((c.count_a, c.count_b, c.matched, c.unmatched), (6, 7, 6, 1));
        assert!(c.radians.is_finite());
        let none = compare_spectra(&[], &a, 0.9).unwrap();
        assert_eq!((none.radians, none.matched, none.unmatched), (0.0, 0, 6));
        assert!(compare_spectra(&a, &a, f64::NAN).is_err());
    }

    #[test]
    fn wraps_angles_across_pi() {
        let x = Complex64::from_polar(1.0, std::f64::consts::PI - 0.01);
        let y = Complex64::from_polar(1.0, -std::f64::consts::PI + 0.01);
        assert!((angle_gap(x, y) - 0.02).abs() < 1e-12);
    }
}
