//! Memory bases `Psi` `(N, n)`: where each memory coordinate lives in the hidden state.

use emt_core::{Error, Result, check};
use ndarray::{Array2, ArrayView2, s};
use rand::{Rng, RngCore, seq::SliceRandom};
use rand_distr::StandardNormal;

/// Relative singular-value cutoff below which a basis counts as rank-deficient.
pub const RANK_TOLERANCE: f64 = 1e-10;

/// A memory basis `Psi` `(N, n)` of full column rank and its dual `Psi+` `(n, N)` with
/// `Psi+ Psi = I_n`: memory coordinate `c` is the hidden-state direction `Psi[:, c]`.
///
/// ```
/// use emt_circuit::MemoryBasis;
/// let basis = MemoryBasis::orthonormal(40, 32, &mut emt_core::rng::seeded(0))?;
/// let eye = basis.dual().dot(&basis.psi());
/// assert!((eye - ndarray::Array2::<f64>::eye(32)).iter().all(|x| x.abs() < 1e-12));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryBasis {
    psi: Array2<f64>,
    dual: Array2<f64>,
    /// For neuron-aligned bases: `(neuron, sign)` of each coordinate.
    neurons: Option<Vec<(usize, f64)>>,
}

fn check_sizes(hidden: usize, n: usize) -> Result<()> {
    check::positive("n", n)?;
    if hidden < n {
        return Err(Error::param("hidden (N)", hidden, format!("must be at least the memory size n = {n}")));
    }
    Ok(())
}

impl MemoryBasis {
    /// A random orthonormal basis: the Q factor of an `(N, n)` Gaussian matrix (Haar
    /// distributed up to column signs). Errors if `N < n` or `n = 0`.
    pub fn orthonormal(hidden: usize, n: usize, rng: &mut dyn RngCore) -> Result<Self> {
        check_sizes(hidden, n)?;
        let psi = emt_linalg::qr(gaussian(hidden, n, rng).view())?.q;
        let dual = psi.t().to_owned();
        Ok(MemoryBasis { psi, dual, neurons: None })
    }

    /// A neuron-aligned basis: each coordinate is one distinct random neuron with a random
    /// sign (a signed permutation embedding). Errors if `N < n` or `n = 0`.
    pub fn signed_permutation(hidden: usize, n: usize, rng: &mut dyn RngCore) -> Result<Self> {
        check_sizes(hidden, n)?;
        let mut neurons: Vec<usize> = (0..hidden).collect();
        neurons.shuffle(rng);
        let placed: Vec<(usize, f64)> =
            neurons[..n].iter().map(|&k| (k, if rng.random::<bool>() { 1.0 } else { -1.0 })).collect();
        let mut psi = Array2::zeros((hidden, n));
        for (c, &(k, sg)) in placed.iter().enumerate() {
            psi[[k, c]] = sg;
        }
        let dual = psi.t().to_owned();
        Ok(MemoryBasis { psi, dual, neurons: Some(placed) })
    }

    /// A user-given basis `(N, n)`; the dual is its pseudo-inverse. Errors on non-finite
    /// values, `N < n`, or a rank-deficient matrix (smallest singular value below
    /// [`RANK_TOLERANCE`] times the largest).
    pub fn from_matrix(psi: Array2<f64>) -> Result<Self> {
        let (hidden, n) = psi.dim();
        check_sizes(hidden, n)?;
        check::finite("psi", &psi)?;
        let dual = pinv_full_column_rank(psi.view(), "psi")?;
        let neurons = neuron_alignment(&psi);
        Ok(MemoryBasis { psi, dual, neurons })
    }

    /// `Psi` `(N, n)`.
    pub fn psi(&self) -> ArrayView2<'_, f64> {
        self.psi.view()
    }

    /// `Psi+` `(n, N)`, with `Psi+ Psi = I_n`.
    pub fn dual(&self) -> ArrayView2<'_, f64> {
        self.dual.view()
    }

    /// Hidden size `N`.
    pub fn hidden_dim(&self) -> usize {
        self.psi.nrows()
    }

    /// Memory size `n`.
    pub fn memory_dim(&self) -> usize {
        self.psi.ncols()
    }

    /// For a neuron-aligned (signed permutation) basis, `(neuron, sign)` per coordinate.
    pub fn neurons(&self) -> Option<&[(usize, f64)]> {
        self.neurons.as_deref()
    }

    /// Columns `block*d .. (block+1)*d` of `Psi`: where variable `block` lives, `(N, d)`.
    /// Errors if `d = 0` or the block runs past the `n` columns.
    pub fn block(&self, block: usize, d: usize) -> Result<ArrayView2<'_, f64>> {
        check::positive("d", d)?;
        let end = block.checked_add(1).and_then(|b| b.checked_mul(d)).filter(|&e| e <= self.memory_dim());
        match end {
            Some(end) => Ok(self.psi.slice(s![.., block * d..end])),
            None => Err(Error::param(
                "block",
                block,
                format!("with d = {d} must end within the n = {} memory columns", self.memory_dim()),
            )),
        }
    }

    /// Hidden states for memory states: `m` `(B, n)` -> `m Psi^T` `(B, N)`.
    pub fn embed(&self, m: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if m.ncols() != self.memory_dim() {
            return Err(Error::shape(
                "m",
                format!("(B, n) with n = {}", self.memory_dim()),
                check::fmt_shape(m.shape()),
            ));
        }
        Ok(m.dot(&self.psi.t()))
    }

    /// Memory coordinates of hidden states: `h` `(B, N)` -> `h Psi+^T` `(B, n)`.
    pub fn coordinates(&self, h: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if h.ncols() != self.hidden_dim() {
            return Err(Error::shape(
                "h",
                format!("(B, N) with N = {}", self.hidden_dim()),
                check::fmt_shape(h.shape()),
            ));
        }
        Ok(h.dot(&self.dual.t()))
    }
}

/// A `(rows, cols)` standard Gaussian matrix, drawn column by column (the order of stage 1,
/// so seeds keep drawing the same numbers).
pub(crate) fn gaussian(rows: usize, cols: usize, rng: &mut dyn RngCore) -> Array2<f64> {
    // Drawn row-major into the transpose, i.e. column-major into the result.
    Array2::from_shape_simple_fn((cols, rows), || rng.sample(StandardNormal)).reversed_axes()
}

/// `Some((neuron, sign))` per column if every column of `psi` is `+-e_k` for distinct `k`.
fn neuron_alignment(psi: &Array2<f64>) -> Option<Vec<(usize, f64)>> {
    let mut used = vec![false; psi.nrows()];
    let mut out = Vec::with_capacity(psi.ncols());
    for col in psi.columns() {
        let nz: Vec<(usize, f64)> = col.iter().copied().enumerate().filter(|&(_, x)| x != 0.0).collect();
        match nz.as_slice() {
            [(k, v)] if v.abs() == 1.0 && !used[*k] => {
                used[*k] = true;
                out.push((*k, *v));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Pseudo-inverse of a tall matrix of full column rank, or `Error::Singular`.
pub(crate) fn pinv_full_column_rank(a: ArrayView2<'_, f64>, what: &str) -> Result<Array2<f64>> {
    let cols = a.ncols();
    let sv = emt_linalg::svd(a)?.s;
    let max = sv.first().copied().unwrap_or(0.0);
    let min = sv.last().copied().unwrap_or(0.0);
    if max.is_nan() || max <= 0.0 || min < RANK_TOLERANCE * max {
        let rank = sv.iter().filter(|&&x| x >= RANK_TOLERANCE * max && x > 0.0).count();
        return Err(Error::singular(
            what,
            format!("rank {rank} < {cols} columns (singular values from {max:.3e} down to {min:.3e})"),
        ));
    }
    emt_linalg::pinv(a, 0.5 * RANK_TOLERANCE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use emt_core::rng;

    #[test]
    fn rejects_small_hidden_and_rank_deficient_bases() {
        let mut r = rng::seeded(0);
        assert!(matches!(MemoryBasis::orthonormal(3, 4, &mut r), Err(Error::InvalidParameter { .. })));
        assert!(matches!(MemoryBasis::signed_permutation(3, 4, &mut r), Err(Error::InvalidParameter { .. })));
        assert!(matches!(MemoryBasis::from_matrix(Array2::zeros((5, 0))), Err(Error::InvalidParameter { .. })));
        let mut psi = Array2::<f64>::eye(4);
        psi[[3, 3]] = 0.0;
        psi[[3, 2]] = 1.0;
        let err = MemoryBasis::from_matrix(psi.slice(s![.., ..]).to_owned()).unwrap_err();
        assert!(matches!(err, Error::Singular { .. }), "{err}");
        assert!(err.to_string().contains("rank 3 < 4"), "{err}");
        let mut nan = Array2::<f64>::eye(4);
        nan[[0, 1]] = f64::NAN;
        assert!(matches!(MemoryBasis::from_matrix(nan), Err(Error::NonFinite { .. })));
    }

    #[test]
    fn blocks_outside_the_basis_are_errors() {
        let basis = MemoryBasis::orthonormal(12, 8, &mut rng::seeded(1)).unwrap();
        assert_eq!(basis.block(1, 4).unwrap().dim(), (12, 4));
        assert_eq!(basis.block(1, 4).unwrap(), basis.psi().slice(s![.., 4..8]));
        for (block, d) in [(2, 4), (0, 9), (usize::MAX, 2)] {
            let e = basis.block(block, d).unwrap_err();
            assert!(matches!(e, Error::InvalidParameter { ref name, .. } if name == "block"), "{e}");
        }
        assert!(matches!(basis.block(0, 0), Err(Error::InvalidParameter { .. })));
    }

    #[test]
    fn signed_permutation_is_detected_and_orthonormal() {
        let b = MemoryBasis::signed_permutation(10, 6, &mut rng::seeded(3)).unwrap();
        let again = MemoryBasis::from_matrix(b.psi().to_owned()).unwrap();
        assert_eq!(again.neurons(), b.neurons());
        approx::assert_abs_diff_eq!(again.dual(), b.dual(), epsilon = 1e-14);
        let general = MemoryBasis::orthonormal(10, 6, &mut rng::seeded(3)).unwrap();
        assert!(general.neurons().is_none());
    }

    #[test]
    fn pinv_of_a_random_tall_matrix_is_a_left_inverse() {
        let a =
            Array2::from_shape_fn((9, 5), |(i, j)| ((i * 5 + j) as f64 * 0.731).sin() + if i == j { 2.0 } else { 0.0 });
        let b = MemoryBasis::from_matrix(a).unwrap();
        approx::assert_abs_diff_eq!(b.dual().dot(&b.psi()), Array2::eye(5), epsilon = 1e-12);
    }
}
