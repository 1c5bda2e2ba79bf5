//! Spectral error between a trained `W_hh` and the theory's `Phi` (EMT.md §4).

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
    let cost: Vec<Vec<f64>> = rows.iter().map(|x| cols.iter().map(|y| angle_gap(*x, *y)).collect()).collect();
    let assignment = hungarian(&cost, cols.len());
    let pairs: Vec<(Complex64, Complex64)> = assignment
        .iter()
        .enumerate()
        .map(|(i, &j)| if swapped { (cols[j], rows[i]) } else { (rows[i], cols[j]) })
        .collect();
    let total: f64 = assignment.iter().enumerate().map(|(i, &j)| cost[i][j]).sum();
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

/// Minimum-cost assignment of every row to a distinct column (`rows <= cols`), by the
/// Hungarian algorithm with potentials, O(rows^2 cols). Returns the column of each row.
fn hungarian(cost: &[Vec<f64>], cols: usize) -> Vec<usize> {
    let n = cost.len();
    let m = cols;
    if n == 0 {
        return Vec::new();
    }
    let (mut u, mut v) = (vec![0.0; n + 1], vec![0.0; m + 1]);
    let (mut p, mut way) = (vec![0usize; m + 1], vec![0usize; m + 1]);
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![f64::INFINITY; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let (mut delta, mut j1) = (f64::INFINITY, 0);
            for j in 1..=m {
                if !used[j] {
                    let cur = cost[i0 - 1][j - 1] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut assignment = vec![0; n];
    for j in 1..=m {
        if p[j] != 0 {
            assignment[p[j] - 1] = j - 1;
        }
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force(cost: &[Vec<f64>], cols: usize) -> f64 {
        fn go(i: usize, cost: &[Vec<f64>], used: &mut Vec<bool>, acc: f64, best: &mut f64) {
            if i == cost.len() {
                *best = best.min(acc);
                return;
            }
            for j in 0..used.len() {
                if !used[j] {
                    used[j] = true;
                    go(i + 1, cost, used, acc + cost[i][j], best);
                    used[j] = false;
                }
            }
        }
        let mut best = f64::INFINITY;
        go(0, cost, &mut vec![false; cols], 0.0, &mut best);
        best
    }

    #[test]
    fn hungarian_is_optimal_against_brute_force() {
        for seed in 0..200u64 {
            let (n, m) = (1 + seed as usize % 5, 1 + seed as usize % 5 + (seed as usize / 5) % 3);
            let cost: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    (0..m).map(|j| (((i * 31 + j * 17) as u64 ^ seed).wrapping_mul(2654435761) % 1000) as f64).collect()
                })
                .collect();
            let a = hungarian(&cost, m);
            let mut seen = a.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), n, "distinct columns");
            let total: f64 = a.iter().enumerate().map(|(i, &j)| cost[i][j]).sum();
            assert_eq!(total, brute_force(&cost, m), "seed {seed}");
        }
    }

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
