//! Phi: the memory operator of a variable-binding task (docs/EMT.md §3), shared by the circuit
//! builders (emt-circuit) and the basis extraction (emt-basis).

use std::f64::consts::PI;

use emt_core::{Error, Result, check};

use crate::LinearVb;
use ndarray::{Array1, Array2};
use num_complex::Complex64;

/// One cycle of Phi's coordinate map `r -> pi(r)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// The coordinates on the cycle, in the order `r, pi(r), pi(pi(r)), ...`, starting at
    /// the smallest.
    pub coordinates: Vec<usize>,
    /// Product of the signs along the cycle, `+1` or `-1`.
    pub sign: i8,
}

impl Cycle {
    /// Number of coordinates on the cycle.
    pub fn len(&self) -> usize {
        self.coordinates.len()
    }

    /// Always false (a cycle has at least one coordinate).
    pub fn is_empty(&self) -> bool {
        self.coordinates.is_empty()
    }
}

/// The memory operator `Phi` `(n, n)`, `n = s*d`, of a [`LinearVb`] task.
///
/// Block `k` (rows and columns `k*d .. (k+1)*d`) is variable `k`, `k = 0` the oldest:
/// `Phi[k, k+1] = I_d` shifts each variable one slot older and `Phi[s-1, :] = F^T` writes the
/// composition into the newest slot. Every row `r` has exactly one nonzero, `sign(r)` at
/// column `target(r)`, so `(Phi x)_r = sign(r) x_target(r)`: a signed functional graph whose
/// cycles give the whole nonzero spectrum.
///
/// ```
/// use emt_tasks::{LinearVb, Phi, TaskId};
/// let phi = Phi::new(&LinearVb::new(TaskId::new(0x8040201008040201, 0, 0), 8, 8)?);
/// let mut lengths: Vec<usize> = phi.cycles().iter().map(|c| c.len()).collect();
/// lengths.sort_unstable();
/// assert_eq!(lengths, vec![1, 2, 3, 4, 5, 6, 7, 8]);
/// assert_eq!(phi.eig_count_above(0.8), 36);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phi {
    s: usize,
    d: usize,
    target: Vec<usize>,
    sign: Vec<i8>,
    cycles: Vec<Cycle>,
}

impl Phi {
    /// Builds Phi for `task`.
    pub fn new(task: &LinearVb) -> Self {
        let (s, d) = (task.s(), task.d());
        let n = s * d;
        let mut target: Vec<usize> = (0..n).map(|r| r + d).collect();
        let mut sign = vec![1i8; n];
        let last = (s - 1) * d;
        for (j, (&c, sg)) in task.choice().iter().zip(task.signs()).enumerate() {
            target[last + j] = c;
            sign[last + j] = if sg < 0.0 { -1 } else { 1 };
        }
        let cycles = find_cycles(&target, &sign);
        Phi { s, d, target, sign, cycles }
    }

    /// Number of variables `s`.
    pub fn s(&self) -> usize {
        self.s
    }

    /// Bits per variable `d`.
    pub fn d(&self) -> usize {
        self.d
    }

    /// Memory size `n = s*d`.
    pub fn n(&self) -> usize {
        self.target.len()
    }

    /// Column of row `r`'s single nonzero; errors if `r >= n`.
    pub fn target(&self, r: usize) -> Result<usize> {
        self.target.get(r).copied().ok_or_else(|| self.row_error(r))
    }

    /// Sign of row `r`'s single nonzero; errors if `r >= n`.
    pub fn sign(&self, r: usize) -> Result<i8> {
        self.sign.get(r).copied().ok_or_else(|| self.row_error(r))
    }

    /// Every row's target column `(n)`: `Phi[r, targets[r]] = signs[r]`.
    pub fn targets(&self) -> &[usize] {
        &self.target
    }

    /// Every row's sign `(n)`, `+1` or `-1`.
    pub fn signs(&self) -> &[i8] {
        &self.sign
    }

    fn row_error(&self, r: usize) -> Error {
        Error::param("row", r, format!("must be below n = s*d = {}", self.n()))
    }

    /// The dense matrix `(n, n)`.
    pub fn matrix(&self) -> Array2<f64> {
        let mut m = Array2::zeros((self.n(), self.n()));
        for r in 0..self.n() {
            m[[r, self.target[r]]] = self.sign[r] as f64;
        }
        m
    }

    /// `Phi x` `(n)` without forming the matrix: `(Phi x)_r = sign(r) x_target(r)`. Errors
    /// unless `x` has length `n`.
    pub fn apply(&self, x: &Array1<f64>) -> Result<Array1<f64>> {
        check::shape("x", x, &[self.n()])?;
        Ok((0..self.n()).map(|r| self.sign[r] as f64 * x[self.target[r]]).collect())
    }

    /// The cycles of `r -> target(r)`, ordered by their smallest coordinate.
    pub fn cycles(&self) -> &[Cycle] {
        &self.cycles
    }

    /// `(length, sign)` of each cycle, in [`cycles`](Self::cycles) order.
    pub fn cycle_structure(&self) -> Vec<(usize, i8)> {
        self.cycles.iter().map(|c| (c.len(), c.sign)).collect()
    }

    /// True for coordinates on a cycle; the others lie on transient chains that feed a cycle
    /// and are forgotten after at most `n` steps.
    pub fn on_cycle(&self) -> Vec<bool> {
        let mut on = vec![false; self.n()];
        for c in &self.cycles {
            for &r in &c.coordinates {
                on[r] = true;
            }
        }
        on
    }

    /// The exact spectrum, `n` values: a cycle of length `L` and sign `p` contributes the `L`
    /// roots of `x^L = p`; every other eigenvalue is 0 (the transient chains are nilpotent).
    /// Cycle eigenvalues come first, in cycle order.
    pub fn spectrum(&self) -> Vec<Complex64> {
        let mut eig = Vec::with_capacity(self.n());
        for c in &self.cycles {
            let l = c.len() as f64;
            let offset = if c.sign < 0 { PI / l } else { 0.0 };
            eig.extend((0..c.len()).map(|k| Complex64::from_polar(1.0, offset + 2.0 * PI * k as f64 / l)));
        }
        eig.resize(self.n(), Complex64::new(0.0, 0.0));
        eig
    }

    /// Number of eigenvalues with `|λ| > threshold`: all cycle coordinates when
    /// `0 <= threshold < 1` (docs/EMT.md's rank: 64 for repeat copy, 36 for the other reference ids).
    pub fn eig_count_above(&self, threshold: f64) -> usize {
        self.spectrum().iter().filter(|z| z.norm() > threshold).count()
    }

    /// Coordinates reachable from the readout block (`s-1`) in one or more steps of
    /// `target`: the memory the output can ever read, in increasing order.
    pub fn readout_reachable(&self) -> Vec<usize> {
        let n = self.n();
        let mut seen = vec![false; n];
        let mut stack: Vec<usize> = ((self.s - 1) * self.d..n).map(|r| self.target[r]).collect();
        while let Some(c) = stack.pop() {
            if !seen[c] {
                seen[c] = true;
                stack.push(self.target[c]);
            }
        }
        (0..n).filter(|&c| seen[c]).collect()
    }
}

/// Cycles of a functional graph (every node has one successor), with sign products.
fn find_cycles(target: &[usize], sign: &[i8]) -> Vec<Cycle> {
    let n = target.len();
    // 0 = unvisited, 1 = on the current walk, 2 = finished.
    let mut state = vec![0u8; n];
    let mut cycles = Vec::new();
    for start in 0..n {
        let mut walk = Vec::new();
        let mut r = start;
        while state[r] == 0 {
            state[r] = 1;
            walk.push(r);
            r = target[r];
        }
        if state[r] == 1 {
            // The walk closed on itself: the cycle is the walk's tail from r.
            let pos = walk.iter().position(|&x| x == r).unwrap_or(0);
            let coords = &walk[pos..];
            let min_at = coords.iter().enumerate().min_by_key(|&(_, &c)| c).map_or(0, |(i, _)| i);
            let coordinates: Vec<usize> = coords[min_at..].iter().chain(&coords[..min_at]).copied().collect();
            let sign = coordinates.iter().map(|&c| sign[c]).product();
            cycles.push(Cycle { coordinates, sign });
        }
        for &w in &walk {
            state[w] = 2;
        }
    }
    cycles.sort_by_key(|c| c.coordinates[0]);
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskId;

    #[test]
    fn apply_matches_the_matrix_and_bad_arguments_are_errors() {
        let task = LinearVb::new(TaskId::new(9241421688590303745, 262676, 189), 8, 8).unwrap();
        let phi = Phi::new(&task);
        let x: Array1<f64> = (0..64).map(|k| (k as f64 * 0.37).sin()).collect();
        assert_eq!(phi.apply(&x).unwrap(), phi.matrix().dot(&x));
        assert!(matches!(phi.apply(&Array1::zeros(63)), Err(Error::Shape { .. })));
        for r in [0, 17, 63] {
            assert_eq!(phi.target(r).unwrap(), phi.targets()[r]);
            assert_eq!(phi.sign(r).unwrap(), phi.signs()[r]);
        }
        for bad in [64, usize::MAX] {
            assert!(matches!(phi.target(bad), Err(Error::InvalidParameter { .. })));
            assert!(matches!(phi.sign(bad), Err(Error::InvalidParameter { .. })));
        }
    }
}
