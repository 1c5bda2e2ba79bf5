//! # emt-linalg: dense linear algebra on ndarray types
//!
//! faer does the work; the API speaks `ndarray` (`ArrayView2<f64>` in, owned arrays out) and
//! `emt_core::Error` (shapes, NaN/inf and singular matrices are typed errors naming the
//! argument, never panics). One backend for the whole workspace: emt-circuit, emt-basis and
//! emt-dynamics all call these functions.
//!
//! ```
//! let a = ndarray::array![[4.0, 1.0], [2.0, 3.0]];
//! let mut ev: Vec<f64> = emt_linalg::eigenvalues(a.view())?.iter().map(|z| z.re).collect();
//! ev.sort_by(f64::total_cmp);
//! assert!((ev[0] - 2.0).abs() < 1e-12 && (ev[1] - 5.0).abs() < 1e-12);
//! # Ok::<(), emt_core::Error>(())
//! ```

#![warn(missing_docs)]

mod cluster;
mod gram;

pub use cluster::{Clusters, single_linkage};
use emt_core::{Error, Result, check};
use faer::Mat;
pub use gram::gram;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use num_complex::Complex64;

fn to_faer(a: &ArrayView2<'_, f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn nonempty(what: &str, a: &ArrayView2<'_, f64>) -> Result<()> {
    let (m, n) = a.dim();
    if m == 0 || n == 0 {
        return Err(Error::shape(what, "(m, n) with m, n >= 1", check::fmt_shape(a.shape())));
    }
    check::finite(what, a)
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

/// faer's iteration ran out: say which decomposition, of what size, and faer's reason.
fn not_converged(what: &str, a: &ArrayView2<'_, f64>, err: impl std::fmt::Debug) -> Error {
    Error::NotConverged {
        what: format!("{what} of a {} matrix ({err:?})", check::fmt_shape(a.shape())),
        iterations: None,
        residual: None,
    }
}

/// Complex eigendecomposition of a real, not necessarily symmetric, matrix `(n, n)`.
///
/// ```
/// let a = ndarray::array![[0.0, -1.0], [1.0, 0.0]];     // rotation by 90 degrees
/// let e = emt_linalg::eig(a.view())?;
/// let mut ims: Vec<f64> = e.values.iter().map(|z| z.im).collect();
/// ims.sort_by(f64::total_cmp);
/// assert!((ims[0] + 1.0).abs() < 1e-12 && (ims[1] - 1.0).abs() < 1e-12);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn eig(a: ArrayView2<'_, f64>) -> Result<Eigen> {
    square("matrix", &a)?;
    check::finite("matrix", &a)?;
    let e = to_faer(&a).eigen().map_err(|err| not_converged("eigendecomposition", &a, err))?;
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
    check::finite("matrix", &a)?;
    let vals = to_faer(&a).eigenvalues().map_err(|err| not_converged("eigenvalues", &a, err))?;
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
    let d = to_faer(&a).thin_svd().map_err(|err| not_converged("SVD", &a, err))?;
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
/// let p = emt_linalg::pinv(a.view(), 1e-12)?;
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

/// Thin QR `A = Q R` of `a` `(m, n)`: `q` `(m, k)` with orthonormal columns, `r` `(k, n)` upper
/// trapezoidal with `R_ii >= 0`, `k = min(m, n)`. The sign convention makes the factorisation
/// unique for full column rank (and Gram-Schmidt's), so results do not depend on the backend.
#[derive(Debug, Clone, PartialEq)]
pub struct Qr {
    /// Orthonormal factor `(m, k)`.
    pub q: Array2<f64>,
    /// Upper-trapezoidal factor `(k, n)` with a non-negative diagonal.
    pub r: Array2<f64>,
}

/// Thin QR decomposition (Householder) of `a` `(m, n)`.
///
/// ```
/// let a = ndarray::array![[3.0, 1.0], [4.0, 2.0], [0.0, 5.0]];
/// let d = emt_linalg::qr(a.view())?;
/// assert!((d.q.dot(&d.r) - &a).iter().all(|x| x.abs() < 1e-12));
/// assert!(d.r[[0, 0]] > 0.0 && d.r[[1, 1]] > 0.0 && d.r[[1, 0]] == 0.0);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn qr(a: ArrayView2<'_, f64>) -> Result<Qr> {
    nonempty("matrix", &a)?;
    let (m, n) = a.dim();
    let k = m.min(n);
    let d = to_faer(&a).qr();
    let (fq, fr) = (d.compute_thin_Q(), d.thin_R());
    // Flip signs so that R_ii >= 0 (Q columns flip with the R rows).
    let signs: Vec<f64> = (0..k).map(|i| if *fr.get(i, i) < 0.0 { -1.0 } else { 1.0 }).collect();
    let q = Array2::from_shape_fn((m, k), |(i, j)| *fq.get(i, j) * signs[j]);
    let r = Array2::from_shape_fn((k, n), |(i, j)| if j < i { 0.0 } else { *fr.get(i, j) * signs[i] });
    Ok(Qr { q, r })
}

/// Relative pivot size below which [`solve`] and [`inverse`] call a matrix singular.
pub const SINGULAR_TOLERANCE: f64 = 1e-13;

/// LU with partial (row) pivoting, `P A = L U`, in plain Rust: `lu` holds `L` (unit, below the
/// diagonal) and `U`; `perm[i]` is the row of `A` in row `i`.
///
/// Why not faer's: in a build where another crate turns on pulp's AVX-512 (`x86-v4`) features,
/// faer 0.24's `full_piv_lu` stopped pivoting (`[[0, 1], [2, 0]]` gave `U = [[0, 1], [0, -inf]]`),
/// a silently wrong factorisation that the sweep tests caught. The few lines below cannot
/// depend on feature unification.
struct Lu {
    lu: Array2<f64>,
    perm: Vec<usize>,
}

/// Columns per panel of the blocked factorisation of an `n x n` matrix: the trailing update, a
/// matrix product, does the O(n^3) work at GEMM speed, while the panel itself is factored
/// unblocked, so small matrices want narrow panels. Measured on one core (AVX2 EPYC): n = 200
/// solves in 0.37 / 0.51 / 0.66 ms with panels of 16 / 32 / 64, n = 1000 in 49 / 35 / 43 ms,
/// n = 2000 in 0.32 / 0.23 s with 32 / 64 (1.74 s unblocked).
fn lu_panel(n: usize) -> usize {
    match n {
        0..400 => 16,
        400..1500 => 32,
        _ => 64,
    }
}

fn lu_factor(what: &str, a: &ArrayView2<'_, f64>) -> Result<Lu> {
    square(what, a)?;
    let n = a.nrows();
    // Row-major buffer: row swaps and the panel's row updates are contiguous.
    let mut m: Vec<f64> = a.iter().copied().collect();
    let mut perm: Vec<usize> = (0..n).collect();
    let panel = lu_panel(n);
    for k0 in (0..n).step_by(panel) {
        let k1 = (k0 + panel).min(n);
        factor_panel(&mut m, n, k0, k1, &mut perm);
        // U12 = L11^-1 A12: the panel's rows right of the panel.
        for k in k0..k1 {
            let (head, tail) = m.split_at_mut((k + 1) * n);
            let pivot_row = &head[k * n + k1..(k + 1) * n];
            for row in tail.chunks_exact_mut(n).take(k1 - k - 1) {
                let f = row[k];
                if f != 0.0 {
                    for (x, &y) in row[k1..].iter_mut().zip(pivot_row) {
                        *x -= f * y;
                    }
                }
            }
        }
        // A22 -= L21 U12, as one matrix product.
        if k1 < n {
            let mut view = ndarray::ArrayViewMut2::from_shape((n, n), &mut m[..])
                .map_err(|e| Error::shape(what, format!("({n}, {n})"), e.to_string()))?;
            let (top, bottom) = view.view_mut().split_at(Axis(0), k1);
            let u12 = top.slice(ndarray::s![k0..k1, k1..]);
            let (l21, mut a22) = bottom.split_at(Axis(1), k1);
            ndarray::linalg::general_mat_mul(-1.0, &l21.slice(ndarray::s![.., k0..k1]), &u12, 1.0, &mut a22);
        }
    }
    let lu = Array2::from_shape_vec((n, n), m).map_err(|e| Error::shape(what, format!("({n}, {n})"), e.to_string()))?;
    Ok(Lu { lu, perm })
}

/// Unblocked LU with partial pivoting of columns `k0..k1` (rows `k0..n`), swapping whole rows;
/// columns right of the panel are left for the caller's block updates.
fn factor_panel(m: &mut [f64], n: usize, k0: usize, k1: usize, perm: &mut [usize]) {
    for k in k0..k1 {
        let mut p = k;
        for i in k + 1..n {
            if m[i * n + k].abs() > m[p * n + k].abs() {
                p = i;
            }
        }
        if p != k {
            let (top, bottom) = m.split_at_mut(p * n);
            top[k * n..(k + 1) * n].swap_with_slice(&mut bottom[..n]);
            perm.swap(k, p);
        }
        let pivot = m[k * n + k];
        if pivot == 0.0 {
            // The whole column below is zero too: nothing to eliminate (`check` reports it).
            continue;
        }
        let (head, tail) = m.split_at_mut((k + 1) * n);
        let pivot_row = &head[k * n + k + 1..k * n + k1];
        for row in tail.chunks_exact_mut(n) {
            let f = row[k] / pivot;
            row[k] = f;
            if f != 0.0 {
                for (x, &y) in row[k + 1..k1].iter_mut().zip(pivot_row) {
                    *x -= f * y;
                }
            }
        }
    }
}

impl Lu {
    /// Errors unless every pivot is above `SINGULAR_TOLERANCE` times the largest.
    fn check(&self, what: &str) -> Result<()> {
        let d = self.lu.diag();
        let largest = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let smallest = d.iter().fold(f64::INFINITY, |m, v| m.min(v.abs()));
        if largest == 0.0 || smallest <= SINGULAR_TOLERANCE * largest {
            return Err(Error::singular(
                what,
                format!(
                    "smallest LU pivot {smallest:.3e} vs largest {largest:.3e} (ratio below {SINGULAR_TOLERANCE:e})"
                ),
            ));
        }
        Ok(())
    }

    fn solve(&self, b: &ArrayView2<'_, f64>) -> Array2<f64> {
        let mut x = Array2::from_shape_fn(b.dim(), |(i, j)| b[[self.perm[i], j]]);
        for c in 0..x.ncols() {
            let mut col: Vec<f64> = x.column(c).to_vec();
            for (i, row) in self.lu.rows().into_iter().enumerate() {
                let s: f64 = row.iter().zip(&col[..i]).map(|(l, v)| l * v).sum();
                col[i] -= s;
            }
            for (i, row) in self.lu.rows().into_iter().enumerate().rev() {
                let s: f64 = row.iter().skip(i + 1).zip(&col[i + 1..]).map(|(u, v)| u * v).sum();
                col[i] = (col[i] - s) / row[i];
            }
            x.column_mut(c).assign(&Array1::from(col));
        }
        x
    }
}

/// Solves `A X = B` for `a` `(n, n)` and `b` `(n, k)` by LU with partial pivoting. Errors on shapes,
/// non-finite values, or a matrix whose smallest pivot is below [`SINGULAR_TOLERANCE`] times
/// the largest.
///
/// ```
/// let singular = ndarray::array![[1.0, 2.0], [2.0, 4.0]];
/// assert!(emt_linalg::solve(singular.view(), ndarray::array![[1.0], [1.0]].view()).is_err());
/// ```
pub fn solve(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let lu = lu_factor("matrix", &a)?;
    lu.check("matrix")?;
    if b.nrows() != a.nrows() {
        return Err(Error::shape("rhs", format!("({}, k)", a.nrows()), check::fmt_shape(b.shape())));
    }
    check::finite("rhs", &b)?;
    let out = lu.solve(&b);
    check::finite("solution", &out)?;
    Ok(out)
}

/// Solves `A x = b` for one right-hand side `b` `(n)`.
pub fn solve_vec(a: ArrayView2<'_, f64>, b: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
    let x = solve(a, b.insert_axis(Axis(1)))?;
    Ok(x.column(0).to_owned())
}

/// Inverse of a square, non-singular matrix `(n, n)` (see [`solve`]).
pub fn inverse(a: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
    let n = a.nrows();
    solve(a, Array2::<f64>::eye(n).view())
}

/// `ln |det A|` of a square matrix `(n, n)` from its LU factors (`-inf` for a singular
/// matrix, which is a valid answer here, not an error).
///
/// ```
/// let a = ndarray::array![[2.0, 1.0], [0.0, -3.0]];
/// assert!((emt_linalg::log_abs_det(a.view())? - 6f64.ln()).abs() < 1e-14);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn log_abs_det(a: ArrayView2<'_, f64>) -> Result<f64> {
    let lu = lu_factor("matrix", &a)?;
    Ok(lu.lu.diag().iter().map(|u| u.abs().ln()).sum())
}

/// 2-norm condition number `s_max / s_min` of `a` `(m, n)` (infinite if rank-deficient).
pub fn condition_number(a: ArrayView2<'_, f64>) -> Result<f64> {
    let d = svd(a)?;
    let max = d.s.first().copied().unwrap_or(0.0);
    let min = d.s.last().copied().unwrap_or(0.0);
    Ok(if min > 0.0 { max / min } else { f64::INFINITY })
}

/// Minimum-cost assignment of every row of `cost` `(rows, cols)` to a distinct column, for
/// `rows <= cols`: returns the column of each row. Errors if `rows > cols` or a cost is NaN
/// or infinite.
///
/// ```
/// let cost = ndarray::array![[4.0, 1.0, 3.0], [2.0, 0.0, 5.0]];
/// assert_eq!(emt_linalg::assignment(cost.view())?, vec![1, 0]);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn assignment(cost: ArrayView2<'_, f64>) -> Result<Vec<usize>> {
    let (rows, cols) = cost.dim();
    if rows > cols {
        return Err(Error::shape("cost", "(rows, cols) with rows <= cols", check::fmt_shape(cost.shape())));
    }
    check::finite("cost", &cost)?;
    let table: Vec<Vec<f64>> = cost.rows().into_iter().map(|r| r.to_vec()).collect();
    Ok(hungarian(&table, cols))
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
    use emt_testkit::gaussian;
    use ndarray::array;

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
        let dir = ndarray::array![0.6, 0.8, 0.0];
        let t: Array1<f64> = gaussian(500, 1, 6).column(0).to_owned();
        let x = gaussian(500, 3, 5) * 0.01 + &t.insert_axis(Axis(1)) * &dir + 5.0;
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
            let cost = Array2::from_shape_fn((n, m), |(i, j)| {
                (((i * 31 + j * 17) as u64 ^ seed).wrapping_mul(2654435761) % 1000) as f64
            });
            let a = assignment(cost.view()).unwrap();
            let mut seen = a.clone();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), n, "distinct columns");
            let total: f64 = a.iter().enumerate().map(|(i, &j)| cost[[i, j]]).sum();
            let table: Vec<Vec<f64>> = cost.rows().into_iter().map(|r| r.to_vec()).collect();
            assert_eq!(total, brute_force(&table, m), "seed {seed}");
        }
        assert!(assignment(Array2::zeros((3, 2)).view()).is_err());
    }

    #[test]
    fn qr_has_nonnegative_diagonal_and_reconstructs() {
        let a = gaussian(7, 4, 11);
        let d = qr(a.view()).unwrap();
        assert!((d.q.dot(&d.r) - &a).iter().all(|x| x.abs() < 1e-12));
        assert!((d.q.t().dot(&d.q) - Array2::<f64>::eye(4)).iter().all(|x| x.abs() < 1e-12));
        assert!((0..4).all(|i| d.r[[i, i]] >= 0.0));
        let wide = gaussian(3, 5, 12);
        let d = qr(wide.view()).unwrap();
        assert_eq!((d.q.dim(), d.r.dim()), ((3, 3), (3, 5)));
        assert!((d.q.dot(&d.r) - &wide).iter().all(|x| x.abs() < 1e-12));
    }

    /// The matrices on which faer's full-pivot LU stopped pivoting in AVX-512 builds.
    #[test]
    fn zero_leading_entries_are_pivoted() {
        for a in [
            array![[0.0, 1.0], [-2.0, 0.0]],
            array![[0.0, 1.0], [2.0, 0.0]],
            array![[0.0, 1.0, 0.0], [-2.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
        ] {
            let b = Array2::from_shape_fn((a.nrows(), 1), |(i, _)| i as f64 + 1.0);
            let x = solve(a.view(), b.view()).unwrap();
            assert!((a.dot(&x) - &b).iter().all(|v| v.abs() < 1e-15), "{a}");
            assert!((log_abs_det(a.view()).unwrap() - 2f64.ln()).abs() < 1e-15);
        }
    }

    /// `P A = L U` from the blocked factors, for sizes across the panel boundaries.
    fn lu_residual(a: &Array2<f64>) -> f64 {
        let n = a.nrows();
        let f = lu_factor("a", &a.view()).unwrap();
        let l = Array2::from_shape_fn((n, n), |(i, j)| match i.cmp(&j) {
            std::cmp::Ordering::Greater => f.lu[[i, j]],
            std::cmp::Ordering::Equal => 1.0,
            std::cmp::Ordering::Less => 0.0,
        });
        let u = Array2::from_shape_fn((n, n), |(i, j)| if i <= j { f.lu[[i, j]] } else { 0.0 });
        let pa = Array2::from_shape_fn((n, n), |(i, j)| a[[f.perm[i], j]]);
        // Partial pivoting keeps |L| <= 1: the blocked order must pivot exactly as the plain one.
        assert!(l.iter().all(|v| v.abs() <= 1.0), "a multiplier above 1: pivoting skipped");
        (pa - l.dot(&u)).iter().fold(0.0f64, |m, v| m.max(v.abs()))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        #[test]
        fn blocked_lu_reconstructs_and_solves(n in 1usize..200, seed in 0u64..1000) {
            let a = gaussian(n, n, seed);
            proptest::prop_assert!(lu_residual(&a) < 1e-11 * n as f64);
            let b = gaussian(n, 2, seed + 1);
            if let Ok(x) = solve(a.view(), b.view()) {
                let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs())) * x.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                proptest::prop_assert!((a.dot(&x) - &b).iter().all(|v| v.abs() < 1e-9 * n as f64 * scale));
            }
        }
    }

    /// A permutation that needs a row swap in every panel, and a zero column in the second.
    #[test]
    fn blocked_lu_pivots_in_every_panel() {
        let n = 150;
        let a = Array2::from_shape_fn((n, n), |(i, j)| if j == (i + 1) % n { (i + 1) as f64 } else { 0.0 });
        assert_eq!(lu_residual(&a), 0.0);
        let b = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
        let x = solve(a.view(), b.view()).unwrap();
        assert!((a.dot(&x) - &b).iter().all(|v| v.abs() < 1e-12));
        let mut s = gaussian(n, n, 3);
        s.column_mut(100).fill(0.0);
        assert!(matches!(solve(s.view(), b.view()), Err(Error::Singular { .. })));
    }

    #[test]
    fn solve_inverse_and_singular_detection() {
        let a = gaussian(6, 6, 13);
        let inv = inverse(a.view()).unwrap();
        assert!((inv.dot(&a) - Array2::<f64>::eye(6)).iter().all(|x| x.abs() < 1e-10));
        let b = gaussian(6, 1, 14);
        let x = solve_vec(a.view(), b.column(0)).unwrap();
        assert!((a.dot(&x) - b.column(0)).iter().all(|v| v.abs() < 1e-10));
        let mut s = a.clone();
        let r0 = s.row(0).to_owned();
        s.row_mut(1).assign(&(&r0 * 2.0));
        let e = inverse(s.view()).unwrap_err();
        assert!(matches!(e, Error::Singular { .. }), "{e}");
        assert!(matches!(solve(a.view(), Array2::zeros((5, 1)).view()), Err(Error::Shape { .. })));
        assert!(condition_number(Array2::<f64>::eye(3).view()).unwrap() == 1.0);
    }
}

/// The README example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
