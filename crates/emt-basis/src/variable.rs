//! The variable-memory (privileged) basis of a trained network (docs/EMT.md §4).

use std::collections::VecDeque;

use emt_core::{ElmanWeights, Error, Result, check};
use emt_tasks::Phi;
use ndarray::{Array1, Array2, ArrayView2, Axis};

use crate::linalg::{self, Pca};

/// Which block the paper's method grounds on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grounding {
    /// `B = pinv(W_r)` (the reference code).
    #[default]
    Readout,
    /// `B = W_ih` (the paper's text).
    Input,
}

/// How the basis is extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Ours (default): follow `Psi*[pi(r)] = sign(r) Psi*[r] W_hh / gain` from the readout rows;
    /// exact for any invertible memory basis, no eigendecompositions.
    #[default]
    DualRecursion,
    /// The paper's: Krylov blocks `W_hh^(s-1-k) B`, unit-norm columns, rank reduction against
    /// `Phi`'s eigenvalue count, `Psi* = pinv(Psi)`.
    PaperKrylov(Grounding),
    /// Fitted to the data: `Psi*` minimises `|Psi* h(t) - w(t)|^2 + ridge |Psi*|^2` over a
    /// hidden-state history with its known window content (see
    /// [`VariableBasis::fit_least_squares`]), on the dual recursion's (observable) coordinates.
    LeastSquares,
}

/// Extraction settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExtractOptions {
    /// The method.
    pub method: Method,
    /// PCA components of the unexplained hidden history (0: none).
    pub pca_components: usize,
    /// Eigenvalue modulus counted by the paper's rank reduction.
    pub rank_threshold: f64,
    /// Relative singular-value cutoff for pseudo-inverses.
    pub rcond: f64,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions { method: Method::DualRecursion, pca_components: 10, rank_threshold: 0.8, rcond: 1e-12 }
    }
}

/// A closure of the dual recursion: row `row` maps onto `target`, which another path had
/// already defined. `residual = |sign Psi*[row] W_hh / gain - Psi*[target]| / |Psi*[target]|`:
/// 0 for an exact circuit; large where a trained network departs from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClosureResidual {
    /// The row whose image closed the loop.
    pub row: usize,
    /// The row it landed on.
    pub target: usize,
    /// Relative mismatch.
    pub residual: f64,
}

/// The extracted basis: `Psi` `(N, m)`, its dual `Psi*` `(m, N)` with `Psi* Psi = I`, over the
/// memory coordinates used (`m` of `Phi`'s `n = s*d`), plus diagnostics.
///
/// ```
/// use emt_basis::{ExtractOptions, VariableBasis};
/// use emt_core::{Activation, ElmanWeights};
/// use emt_tasks::{LinearVb, Phi, TaskId};
/// // A linear circuit in the standard basis: W_hh = Phi, readout = newest slot.
/// let task = LinearVb::new(TaskId::new(0b1001, 1, 0), 2, 2)?;
/// let phi = Phi::new(&task);
/// let w_r = ndarray::Array2::from_shape_fn((2, 4), |(j, c)| f64::from(c == 2 + j));
/// let w = ElmanWeights::new(phi.matrix(), w_r.t().to_owned(), w_r)?.with_activation(Activation::Identity);
/// let basis = VariableBasis::extract(&w, &phi, None, &ExtractOptions::default())?;
/// assert!(basis.phi_error() < 1e-12);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct VariableBasis {
    method: Method,
    coordinates: Vec<usize>,
    psi: Array2<f64>,
    psi_dual: Array2<f64>,
    phi_emp: Array2<f64>,
    phi_theory: Array2<f64>,
    gain: f64,
    closures: Vec<ClosureResidual>,
    complement: Option<Pca>,
}

impl VariableBasis {
    /// Extracts the basis of `weights` for the task operator `phi`; `history` `(samples, N)`
    /// (hidden states, any number of sequences stacked) feeds the PCA complement.
    ///
    /// Errors: output size not `d`, input size not `d` when grounding on the input, a history
    /// with the wrong width, or a rank-deficient basis (e.g. `N` smaller than the coordinates
    /// used).
    pub fn extract(
        weights: &ElmanWeights<f64>,
        phi: &Phi,
        history: Option<ArrayView2<'_, f64>>,
        opts: &ExtractOptions,
    ) -> Result<Self> {
        let d = phi.d();
        if weights.output_dim() != d {
            return Err(Error::shape(
                "w_r",
                format!("(d, N) with d = {d} (the task's)"),
                check::fmt_shape(weights.w_r().shape()),
            ));
        }
        if let Some(h) = &history {
            if h.ncols() != weights.hidden_dim() {
                return Err(Error::shape(
                    "history",
                    format!("(samples, N) with N = {}", weights.hidden_dim()),
                    check::fmt_shape(h.shape()),
                ));
            }
            check::finite("history", h)?;
        }
        if !(opts.rcond.is_finite() && opts.rcond >= 0.0) {
            return Err(Error::param("rcond", opts.rcond, "must be finite and >= 0"));
        }
        let w_hh = weights.w_hh();
        let (coordinates, psi_dual, gain, closures, psi) = match opts.method {
            Method::DualRecursion => {
                let dual = dual_recursion(weights, phi);
                let rows = dual.rows_matrix();
                let psi = right_inverse(&rows, opts.rcond)?;
                (dual.coordinates, rows, dual.gain, dual.closures, psi)
            }
            Method::PaperKrylov(grounding) => {
                let (coords, psi) = paper_basis(weights, phi, grounding, opts)?;
                let dual = linalg::pinv(psi.view(), opts.rcond)?;
                check_left_inverse(&dual, &psi)?;
                (coords, dual, 1.0, Vec::new(), psi)
            }
            Method::LeastSquares => {
                return Err(Error::param(
                    "method",
                    "LeastSquares",
                    "needs the window content: use VariableBasis::fit_least_squares",
                ));
            }
        };
        let phi_full = phi.matrix();
        let phi_theory = phi_full.select(Axis(0), &coordinates).select(Axis(1), &coordinates);
        let raw = psi_dual.dot(&w_hh).dot(&psi);
        // The paper's method does not know the gain. Phi on its kept (on-cycle) coordinates is a
        // signed permutation, all eigenvalues on the unit circle, so the gain is the geometric
        // mean of the eigenvalue moduli of Psi* W_hh Psi: it never looks at Phi, so it cannot
        // hide a mismatch.
        let gain = match opts.method {
            Method::DualRecursion => gain,
            Method::PaperKrylov(_) | Method::LeastSquares => eigen_gain(&raw)?,
        };
        let phi_emp = raw / gain;
        let complement = match (history, opts.pca_components) {
            (Some(h), k) if k > 0 => {
                let explained = h.dot(&psi_dual.t()).dot(&psi.t());
                Some(linalg::pca((&h - &explained).view(), k)?)
            }
            _ => None,
        };
        Ok(VariableBasis {
            method: opts.method,
            coordinates,
            psi,
            psi_dual,
            phi_emp,
            phi_theory,
            gain,
            closures,
            complement,
        })
    }

    /// Fits `Psi*` to a hidden-state history `states` `(M, N)` whose true window content
    /// `windows` `(M, s*d)` is known (the task defines it: [`crate::memory_windows`]), by ridge
    /// regression, `Psi* = W^T H (H^T H + ridge I)^-1`, on the coordinates the dual recursion
    /// reaches (the observable ones). `Psi = pinv(Psi*)`; the gain is the geometric mean of the
    /// eigenvalue moduli of `Psi* W_hh Psi` (as for the paper's method), and the closure
    /// residuals `|(sign(r) Psi*[r] W_hh / gain - Psi*[pi(r)]) H^T| / |Psi*[pi(r)] H^T|` (on the
    /// fitted states `H`, since the fit leaves unvisited directions free) are reported for every
    /// coordinate whose image is in the set, so all three methods can be compared on
    /// `phi_error`, closures and decoding. Fit on one set of episodes, decode on fresh ones.
    pub fn fit_least_squares(
        weights: &ElmanWeights<f64>,
        phi: &Phi,
        states: ArrayView2<'_, f64>,
        windows: ArrayView2<'_, f64>,
        ridge: f64,
    ) -> Result<Self> {
        let n_hidden = weights.hidden_dim();
        check::shape("states", &states, &[states.nrows(), n_hidden])?;
        check::shape("windows", &windows, &[states.nrows(), phi.n()])?;
        check::finite("states", &states)?;
        check::finite("windows", &windows)?;
        if !(ridge.is_finite() && ridge >= 0.0) {
            return Err(Error::param("ridge", ridge, "must be finite and >= 0"));
        }
        if weights.output_dim() != phi.d() {
            return Err(Error::shape(
                "w_r",
                format!("(d, N) with d = {}", phi.d()),
                check::fmt_shape(weights.w_r().shape()),
            ));
        }
        let coordinates = dual_recursion(weights, phi).coordinates;
        let target = windows.select(Axis(1), &coordinates);
        let mut gram = states.t().dot(&states);
        let scale = gram.diag().iter().fold(0.0f64, |m, v| m.max(*v)).max(f64::MIN_POSITIVE);
        gram.diag_mut().mapv_inplace(|v| v + ridge * scale);
        let rhs = states.t().dot(&target);
        let x = linalg::solve(gram.view(), rhs.view())?;
        let psi_dual = x.t().to_owned();
        // No independence check here: a network that stores little gives nearly dependent rows,
        // and then a large phi_error and poor decoding are the finding, not an error.
        let psi = linalg::pinv(psi_dual.view(), 1e-12)?;
        let raw = psi_dual.dot(&weights.w_hh()).dot(&psi);
        let gain = eigen_gain(&raw)?;
        let phi_full = phi.matrix();
        let phi_theory = phi_full.select(Axis(0), &coordinates).select(Axis(1), &coordinates);
        let position: std::collections::HashMap<usize, usize> =
            coordinates.iter().enumerate().map(|(j, &c)| (c, j)).collect();
        let closures = coordinates
            .iter()
            .enumerate()
            .filter_map(|(j, &r)| {
                let c = phi.targets()[r];
                let k = *position.get(&c)?;
                let image = psi_dual.row(j).dot(&weights.w_hh()) * (f64::from(phi.signs()[r]) / gain);
                let target = psi_dual.row(k).to_owned();
                // Measured on the states the rows were fitted to: directions the network never
                // visits are unconstrained by the fit and say nothing about it.
                let on_data = |v: &Array1<f64>| norm(&states.dot(v));
                let residual = on_data(&(image - &target)) / on_data(&target).max(f64::MIN_POSITIVE);
                Some(ClosureResidual { row: r, target: c, residual })
            })
            .collect();
        Ok(VariableBasis {
            method: Method::LeastSquares,
            coordinates,
            psi,
            psi_dual,
            phi_emp: raw / gain,
            phi_theory,
            gain,
            closures,
            complement: None,
        })
    }

    /// The method used.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Memory coordinates used (indices into `0..s*d`, ascending).
    pub fn coordinates(&self) -> &[usize] {
        &self.coordinates
    }

    /// `Psi` `(N, m)`.
    pub fn psi(&self) -> ArrayView2<'_, f64> {
        self.psi.view()
    }

    /// `Psi*` `(m, N)`.
    pub fn psi_dual(&self) -> ArrayView2<'_, f64> {
        self.psi_dual.view()
    }

    /// `Psi* W_hh Psi / gain` `(m, m)`: should equal [`phi_theory`](Self::phi_theory).
    pub fn phi_emp(&self) -> ArrayView2<'_, f64> {
        self.phi_emp.view()
    }

    /// `Phi` restricted to the coordinates used `(m, m)`.
    pub fn phi_theory(&self) -> ArrayView2<'_, f64> {
        self.phi_theory.view()
    }

    /// `max |Phi_emp - Phi|` over the coordinates used.
    pub fn phi_error(&self) -> f64 {
        (&self.phi_emp - &self.phi_theory).iter().fold(0.0, |m, x| m.max(x.abs()))
    }

    /// The gain `g` with `W_hh ~ g Psi Phi Psi*` (1 for a linear circuit, the circuit's gain for
    /// the tanh circuit).
    pub fn gain(&self) -> f64 {
        self.gain
    }

    /// Closure residuals (dual recursion and least squares; empty for the paper's method).
    pub fn closure_residuals(&self) -> &[ClosureResidual] {
        &self.closures
    }

    /// Largest closure residual (0 when there are none).
    pub fn max_closure_residual(&self) -> f64 {
        self.closures.iter().fold(0.0, |m, c| m.max(c.residual))
    }

    /// PCA of the hidden history that `Psi` does not explain, if a history was given.
    pub fn complement(&self) -> Option<&Pca> {
        self.complement.as_ref()
    }

    /// Hidden states in the basis: `h` `(T, N)` -> `h Psi*^T` `(T, m)`: each variable moving
    /// slot to slot.
    pub fn project(&self, h: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        if h.ncols() != self.psi_dual.ncols() {
            return Err(Error::shape(
                "h",
                format!("(T, N) with N = {}", self.psi_dual.ncols()),
                check::fmt_shape(h.shape()),
            ));
        }
        Ok(h.dot(&self.psi_dual.t()))
    }
}

/// The reached dual rows with their depths and closures.
struct Dual {
    coordinates: Vec<usize>,
    rows: Vec<Array1<f64>>,
    gain: f64,
    closures: Vec<ClosureResidual>,
}

impl Dual {
    fn rows_matrix(&self) -> Array2<f64> {
        let n = self.rows.first().map_or(0, |r| r.len());
        let mut m = Array2::zeros((self.rows.len(), n));
        for (mut dst, src) in m.rows_mut().into_iter().zip(&self.rows) {
            dst.assign(src);
        }
        m
    }
}

/// docs/EMT.md §4, "Exact dual recursion": `Psi*[pi(r)] = sign(r) Psi*[r] W_hh / gain`, starting
/// from the readout (block s-1 of `Psi*`), breadth first.
fn dual_recursion(weights: &ElmanWeights<f64>, phi: &Phi) -> Dual {
    let (s, d, n) = (phi.s(), phi.d(), phi.n());
    let w_hh = weights.w_hh();
    let mut rows: Vec<Option<Array1<f64>>> = vec![None; n];
    let mut depth = vec![0usize; n];
    let mut queue = VecDeque::new();
    for (j, r) in weights.w_r().rows().into_iter().enumerate() {
        let c = (s - 1) * d + j;
        rows[c] = Some(r.to_owned());
        queue.push_back(c);
    }
    // (row, target, image, depth of the image) for targets already defined.
    let mut closing = Vec::new();
    while let Some(r) = queue.pop_front() {
        let (c, sg) = (phi.targets()[r], f64::from(phi.signs()[r]));
        let Some(src) = rows[r].as_ref() else { continue };
        let image = src.dot(&w_hh) * sg;
        if rows[c].is_none() {
            rows[c] = Some(image);
            depth[c] = depth[r] + 1;
            queue.push_back(c);
        } else {
            closing.push((r, c, image, depth[r] + 1));
        }
    }
    // Every step multiplies by the gain: a closure that lands e steps deeper than its target
    // shows gain^e. Average log-gains over closures with e != 0.
    let logs: Vec<f64> = closing
        .iter()
        .filter_map(|(_, c, image, dep)| {
            let e = *dep as f64 - depth[*c] as f64;
            let target = rows[*c].as_ref()?;
            let ratio = norm(image) / norm(target);
            (e != 0.0 && ratio > 0.0 && ratio.is_finite()).then(|| ratio.ln() / e)
        })
        .collect();
    let gain = if logs.is_empty() { 1.0 } else { (logs.iter().sum::<f64>() / logs.len() as f64).exp() };
    let coordinates: Vec<usize> = (0..n).filter(|&c| rows[c].is_some()).collect();
    let normalise = |v: &Array1<f64>, k: usize| v / gain.powi(k as i32);
    let closures = closing
        .iter()
        .filter_map(|(r, c, image, dep)| {
            let target = normalise(rows[*c].as_ref()?, depth[*c]);
            let residual = norm(&(normalise(image, *dep) - &target)) / norm(&target).max(f64::MIN_POSITIVE);
            Some(ClosureResidual { row: *r, target: *c, residual })
        })
        .collect();
    let rows = coordinates.iter().filter_map(|&c| rows[c].as_ref().map(|v| normalise(v, depth[c]))).collect();
    Dual { coordinates, rows, gain, closures }
}

/// The geometric mean of the eigenvalue moduli of `m` (1 if undefined).
fn eigen_gain(m: &Array2<f64>) -> Result<f64> {
    let eig = linalg::eigenvalues(m.view())?;
    let logs: Vec<f64> = eig.iter().map(|z| z.norm().ln()).collect();
    let mean = logs.iter().sum::<f64>() / logs.len().max(1) as f64;
    Ok(if mean.is_finite() { mean.exp() } else { 1.0 })
}

fn norm(v: &Array1<f64>) -> f64 {
    v.dot(v).sqrt()
}

/// `Psi = pinv(Psi*)`, checked to be a right inverse (the dual rows must be independent).
fn right_inverse(dual: &Array2<f64>, rcond: f64) -> Result<Array2<f64>> {
    let psi = linalg::pinv(dual.view(), rcond)?;
    check_left_inverse(dual, &psi)?;
    Ok(psi)
}

fn check_left_inverse(dual: &Array2<f64>, psi: &Array2<f64>) -> Result<()> {
    let m = dual.nrows();
    let prod = dual.dot(psi);
    let err = (&prod - &Array2::<f64>::eye(m)).iter().fold(0.0, |a: f64, x| a.max(x.abs()));
    if err.is_finite() && err < 1e-6 {
        Ok(())
    } else {
        Err(Error::singular(
            "memory basis",
            format!(
                "the {m} basis vectors are not linearly independent in the hidden space of size {} (|Psi* Psi - I| = {err:.2e})",
                dual.ncols()
            ),
        ))
    }
}

/// The paper's procedure: Krylov blocks, unit columns, rank reduction.
fn paper_basis(
    weights: &ElmanWeights<f64>,
    phi: &Phi,
    grounding: Grounding,
    opts: &ExtractOptions,
) -> Result<(Vec<usize>, Array2<f64>)> {
    let (s, d, n) = (phi.s(), phi.d(), phi.n());
    let b = match grounding {
        Grounding::Readout => linalg::pinv(weights.w_r(), opts.rcond)?,
        Grounding::Input => {
            if weights.input_dim() != d {
                return Err(Error::shape(
                    "w_ih",
                    format!("(N, d) with d = {d}"),
                    check::fmt_shape(weights.w_ih().shape()),
                ));
            }
            weights.w_ih().to_owned()
        }
    };
    let hidden = weights.hidden_dim();
    let mut basis = Array2::zeros((hidden, n));
    let mut block = b;
    for k in (0..s).rev() {
        basis.slice_mut(ndarray::s![.., k * d..(k + 1) * d]).assign(&block);
        if k > 0 {
            block = weights.w_hh().dot(&block);
        }
    }
    for (c, mut col) in basis.columns_mut().into_iter().enumerate() {
        let len = col.dot(&col).sqrt();
        if !(len > 0.0 && len.is_finite()) {
            return Err(Error::singular("Krylov basis", format!("column {c} has norm {len}")));
        }
        col /= len;
    }
    let kept = rank_reduction(phi, opts.rank_threshold)?;
    Ok((kept.clone(), basis.select(Axis(1), &kept)))
}

/// Keeps coordinate `c` if deleting row and column `c` of `Phi` lowers the number of
/// eigenvalues with `|λ| > threshold` (one eigendecomposition per coordinate, as the paper).
fn rank_reduction(phi: &Phi, threshold: f64) -> Result<Vec<usize>> {
    let full = phi.matrix();
    let count = |m: &Array2<f64>| -> Result<usize> {
        if m.is_empty() {
            return Ok(0);
        }
        Ok(linalg::eigenvalues(m.view())?.iter().filter(|z| z.norm() > threshold).count())
    };
    let r = count(&full)?;
    let n = phi.n();
    let mut kept = Vec::new();
    for c in 0..n {
        let others: Vec<usize> = (0..n).filter(|&k| k != c).collect();
        let minor = full.select(Axis(0), &others).select(Axis(1), &others);
        if count(&minor)? < r {
            kept.push(c);
        }
    }
    Ok(kept)
}
