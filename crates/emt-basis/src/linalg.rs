//! Dense linear algebra on ndarray types, with faer underneath (hidden from the API).

use emt_core::{Error, Result, check};
use faer::Mat;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use num_complex::Complex64;

fn to_faer(a: &ArrayView2<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn square(what: &str, a: &ArrayView2<'_, f64>) -> Result<()> {
    let (r, c) = a.dim();
    if r != c || r == 0 {
        return Err(Error::shape(what, "(n, n) with n >= 1", check::fmt_shape(a.shape())));
    }
    check::finite(what, a)
}

/// Eigenvalues and right eigenvectors of a real square matrix: `A V = V diag(values)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Eigen {
    /// Eigenvalues `(n)`.
    pub values: Array1<Complex64>,
    /// Eigenvectors as columns `(n, n)`.
    pub vectors: Array2<Complex64>,
}

/// Complex eigendecomposition of a real, not necessarily symmetric, matrix `(n, n)`.
///
/// ```
/// let a = ndarray::array![[0.0, -1.0], [1.0, 0.0]];     // rotation by 90 degrees
/// let e = emt_basis::linalg::eig(a.view())?;
/// let mut ims: Vec<f64> = e.values.iter().map(|z| z.im).collect();
/// ims.sort_by(f64::total_cmp);
/// assert!((ims[0] + 1.0).abs() < 1e-12 && (ims[1] - 1.0).abs() < 1e-12);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn eig(a: ArrayView2<'_, f64>) -> Result<Eigen> {
    square("matrix", &a)?;
    let e = to_faer(&a)
        .eigen()
        .map_err(|err| Error::singular("matrix", format!("eigendecomposition did not converge: {err:?}")))?;
    let n = a.nrows();
    let s = e.S().column_vector();
    let u = e.U();
    let values = Array1::from_shape_fn(n, |i| {
        let z = s.get(i);
        Complex64::new(z.re, z.im)
    });
    let vectors = Array2::from_shape_fn((n, n), |(i, j)| {
        let z = u.get(i, j);
        Complex64::new(z.re, z.im)
    });
    Ok(Eigen { values, vectors })
}

/// Eigenvalues only (cheaper than [`eig`]).
pub fn eigenvalues(a: ArrayView2<'_, f64>) -> Result<Vec<Complex64>> {
    square("matrix", &a)?;
    let vals = to_faer(&a)
        .eigenvalues()
        .map_err(|err| Error::singular("matrix", format!("eigenvalues did not converge: {err:?}")))?;
    Ok(vals.iter().map(|z| Complex64::new(z.re, z.im)).collect())
}

/// Thin SVD `A = U diag(s) V^T`: `u` `(m, k)`, `s` `(k)` descending, `vt` `(k, n)`, `k = min(m, n)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Svd {
    /// Left singular vectors `(m, k)`.
    pub u: Array2<f64>,
    /// Singular values `(k)`, descending.
    pub s: Array1<f64>,
    /// Right singular vectors, transposed `(k, n)`.
    pub vt: Array2<f64>,
}

/// Thin singular value decomposition of `a` `(m, n)`.
pub fn svd(a: ArrayView2<'_, f64>) -> Result<Svd> {
    check::finite("matrix", &a)?;
    let (m, n) = a.dim();
    if m == 0 || n == 0 {
        return Err(Error::shape("matrix", "(m, n) with m, n >= 1", check::fmt_shape(a.shape())));
    }
    let d =
        to_faer(&a).thin_svd().map_err(|err| Error::singular("matrix", format!("SVD did not converge: {err:?}")))?;
    let k = m.min(n);
    let (u, s, v) = (d.U(), d.S().column_vector(), d.V());
    Ok(Svd {
        u: Array2::from_shape_fn((m, k), |(i, j)| *u.get(i, j)),
        s: Array1::from_shape_fn(k, |i| *s.get(i)),
        vt: Array2::from_shape_fn((k, n), |(i, j)| *v.get(j, i)),
    })
}

/// Moore-Penrose pseudo-inverse `(n, m)` of `a` `(m, n)`; singular values below
/// `rcond * s_max` are treated as zero.
///
/// ```
/// let a = ndarray::array![[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]];
/// let p = emt_basis::linalg::pinv(a.view(), 1e-12)?;
/// assert!((p.dot(&a) - ndarray::Array2::<f64>::eye(2)).iter().all(|x| x.abs() < 1e-14));
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn pinv(a: ArrayView2<'_, f64>, rcond: f64) -> Result<Array2<f64>> {
    if !(rcond.is_finite() && rcond >= 0.0) {
        return Err(Error::param("rcond", rcond, "must be finite and >= 0"));
    }
    let d = svd(a)?;
    let cut = rcond * d.s.first().copied().unwrap_or(0.0);
    let inv: Array1<f64> = d.s.mapv(|x| if x > cut && x > 0.0 { 1.0 / x } else { 0.0 });
    // pinv = V diag(1/s) U^T
    let mut v_scaled = d.vt.t().to_owned();
    for (mut col, &w) in v_scaled.columns_mut().into_iter().zip(&inv) {
        col *= w;
    }
    Ok(v_scaled.dot(&d.u.t()))
}

/// Numerical rank: singular values above `rcond * s_max`.
pub fn rank(a: ArrayView2<'_, f64>, rcond: f64) -> Result<usize> {
    let d = svd(a)?;
    let cut = rcond * d.s.first().copied().unwrap_or(0.0);
    Ok(d.s.iter().filter(|&&x| x > cut && x > 0.0).count())
}

/// Principal components of centred data.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Feature means `(features)`.
    pub mean: Array1<f64>,
    /// Unit-norm components as rows `(k, features)`, by decreasing variance.
    pub components: Array2<f64>,
    /// Variance along each component `(k)` (denominator `samples - 1`).
    pub variance: Array1<f64>,
    /// Fraction of total variance each component explains `(k)`.
    pub explained: Array1<f64>,
}

/// Top-`k` PCA of `x` `(samples, features)` (centred; `k` is capped at the data's rank
/// bound `min(samples, features)`). Errors on fewer than two samples or `k = 0`.
pub fn pca(x: ArrayView2<'_, f64>, k: usize) -> Result<Pca> {
    let (samples, features) = x.dim();
    if samples < 2 {
        return Err(Error::param("samples", samples, "PCA needs at least 2"));
    }
    check::positive("k", k)?;
    let mean = x.mean_axis(Axis(0)).ok_or_else(|| Error::param("samples", samples, "PCA needs at least 2"))?;
    let centred = &x - &mean;
    let d = svd(centred.view())?;
    let k = k.min(d.s.len()).min(features);
    let denom = (samples - 1) as f64;
    let total: f64 = d.s.iter().map(|s| s * s / denom).sum();
    let variance: Array1<f64> = d.s.iter().take(k).map(|s| s * s / denom).collect();
    let explained = if total > 0.0 { &variance / total } else { Array1::zeros(k) };
    Ok(Pca { mean, components: d.vt.slice(ndarray::s![..k, ..]).to_owned(), variance, explained })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_distr::StandardNormal;

    fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((rows, cols), |_| r.sample(StandardNormal))
    }

    #[test]
    fn eig_residual_on_random_256() {
        let a = gaussian(256, 256, 1);
        let e = eig(a.view()).unwrap();
        let ac = a.mapv(|x| Complex64::new(x, 0.0));
        let av = ac.dot(&e.vectors);
        let vl = &e.vectors * &e.values.view().insert_axis(Axis(0));
        let worst = (&av - &vl).iter().map(|z| z.norm()).fold(0.0, f64::max);
        assert!(worst < 1e-10, "max |AV - V L| = {worst:e}");
    }

    #[test]
    fn svd_pinv_and_rank() {
        let a = gaussian(9, 5, 2);
        let d = svd(a.view()).unwrap();
        let mut us = d.u.clone();
        for (mut c, &s) in us.columns_mut().into_iter().zip(&d.s) {
            c *= s;
        }
        let back = us.dot(&d.vt);
        assert!((&back - &a).iter().all(|x| x.abs() < 1e-12));
        let p = pinv(a.view(), 1e-12).unwrap();
        assert!((p.dot(&a) - Array2::<f64>::eye(5)).iter().all(|x| x.abs() < 1e-12));
        let low = gaussian(9, 2, 3).dot(&gaussian(2, 5, 4));
        assert_eq!(rank(low.view(), 1e-10).unwrap(), 2);
    }

    #[test]
    fn pca_finds_the_dominant_direction() {
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let dir = ndarray::array![0.6, 0.8, 0.0];
        let x = Array2::from_shape_fn((500, 3), |(_, j)| 0.0 * j as f64);
        let x = x + Array2::from_shape_fn((500, 3), |(_, _)| 0.01 * r.sample::<f64, _>(StandardNormal));
        let t: Array1<f64> = (0..500).map(|_| r.sample::<f64, _>(StandardNormal)).collect();
        let x = x + &t.insert_axis(Axis(1)) * &dir + 5.0;
        let p = pca(x.view(), 2).unwrap();
        let align = p.components.row(0).dot(&dir).abs();
        assert!(align > 0.999 && p.explained[0] > 0.99, "{align} {:?}", p.explained);
        assert!(p.mean.iter().all(|m| (m - 5.0).abs() < 0.2));
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(eig(Array2::<f64>::zeros((2, 3)).view()), Err(Error::Shape { .. })));
        let mut nan = Array2::<f64>::eye(2);
        nan[[1, 0]] = f64::NAN;
        assert!(matches!(eigenvalues(nan.view()), Err(Error::NonFinite { .. })));
        assert!(matches!(pca(Array2::<f64>::zeros((1, 3)).view(), 1), Err(Error::InvalidParameter { .. })));
        assert!(matches!(pinv(Array2::<f64>::eye(2).view(), -1.0), Err(Error::InvalidParameter { .. })));
    }
}
