//! What dynamical analysis needs of any recurrent cell: a discrete-time map
//! `x' = F(x, u)` ([`DiscreteMap`]) or a flow `dx/dt = f(x, u)` ([`Flow`]), with analytic
//! Jacobians with respect to the state and the input.
//!
//! The `_into` methods write into caller-owned buffers and only check dimensions (O(1)), so
//! loops over many steps (Lyapunov spectra, shooting) reuse their outputs. Elman's step and the
//! GRU's step and Jacobians allocate nothing; the other cells still allocate O(N) temporaries
//! (tanh of the state, gate vectors) per call, and the ctgru Jacobian an `(N, N)` product. The
//! provided methods without `_into` allocate their result and also reject NaN/inf.
//!
//! ```
//! use emt_core::{DiscreteMap, ElmanWeights};
//! let w = ElmanWeights::new(ndarray::array![[0.5, 0.0], [0.0, 0.5]], ndarray::array![[1.0], [0.0]],
//!                           ndarray::array![[1.0, 0.0]])?;
//! let next = w.step(ndarray::array![0.0, 0.0].view(), ndarray::array![1.0].view())?;
//! assert!((next[0] - 1f64.tanh()).abs() < 1e-15);
//! let j = w.jacobian(next.view(), ndarray::array![0.0].view())?;   // D(1 - h'^2) W_hh
//! assert_eq!(j.dim(), (2, 2));
//! # Ok::<(), emt_core::Error>(())
//! ```

use ndarray::{Array1, Array2, ArrayView1, ArrayViewMut1, ArrayViewMut2};

use crate::{Error, Result, check};

/// Checks a state and an input against a system's dimensions.
pub fn check_point(state_dim: usize, input_dim: usize, x: &ArrayView1<'_, f64>, u: &ArrayView1<'_, f64>) -> Result<()> {
    if x.len() != state_dim {
        return Err(Error::shape("state", check::fmt_shape(&[state_dim]), check::fmt_shape(x.shape())));
    }
    if u.len() != input_dim {
        return Err(Error::shape("input", check::fmt_shape(&[input_dim]), check::fmt_shape(u.shape())));
    }
    Ok(())
}

fn check_out(what: &str, got: &[usize], expected: &[usize]) -> Result<()> {
    if got != expected {
        return Err(Error::shape(what, check::fmt_shape(expected), check::fmt_shape(got)));
    }
    Ok(())
}

/// A smaller equation with the same roots as a system's fixed points: `G(y, u) = 0` with
/// `y` in `R^m`, `m < n`, such that `y` is a root iff [`lift_root`](Self::lift_root)`(y, u)` is a
/// fixed point, and every fixed point is the lift of a root. Searches solve `G` (an `m x m`
/// Jacobian per Newton step instead of `n x n`) and classify the lifted point by the full
/// Jacobian. The gated cell has one (`y = h`, `m = N` of `n = 3N`: its gates sit at rest at a
/// fixed point, `z = J^z tanh h + b_z`, so they are eliminated).
pub trait FixedPointReduction: Sync {
    /// `m`, the dimension of `y`.
    fn reduced_dim(&self) -> usize;
    /// Writes `G(y, u)` `(m)` into `res` and, when `jac` is given, `dG/dy` `(m, m)` into it
    /// (searches ask for the value alone at trial points). Errors only on dimensions.
    fn reduced_residual_into(
        &self,
        y: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        res: ArrayViewMut1<'_, f64>,
        jac: Option<ArrayViewMut2<'_, f64>>,
    ) -> Result<()>;
    /// The full state `(n)` belonging to `y` `(m)` under `u`: the fixed point when `y` is a root.
    fn lift_root(&self, y: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Result<Array1<f64>>;
    /// The reduced coordinates `(m)` of a full state `x` `(n)`: where a search seeded at `x`
    /// starts.
    fn restrict(&self, x: ArrayView1<'_, f64>) -> Result<Array1<f64>>;
}

/// A discrete-time system `x' = F(x, u)`: state `(n)`, input `(d_in)`. `Sync`, so analyses
/// may evaluate one map from several threads (a map is read-only data).
pub trait DiscreteMap: Sync {
    /// State dimension `n`.
    fn state_dim(&self) -> usize;
    /// Input dimension `d_in` (0 for an autonomous map).
    fn input_dim(&self) -> usize;
    /// Writes `F(x, u)` `(n)` into `out`. Errors only on dimensions.
    fn step_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) -> Result<()>;
    /// Writes `dF/dx` `(n, n)` at `(x, u)` into `out`.
    fn jacobian_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut2<'_, f64>) -> Result<()>;
    /// Writes `dF/du` `(n, d_in)` at `(x, u)` into `out`.
    fn input_jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()>;

    /// Half-widths `b` `(n)` of a box that holds every fixed point under the input `u`
    /// (`|x_i| < b_i`), when the system knows one (docs/DYNAMICS.md §1: tanh-bounded cells 1, the
    /// ctrnn and gated cells from their weights); `None` otherwise. Fixed-point searches drop
    /// candidates outside it: there, a vanishing residual is rounding, not a root.
    fn fixed_point_bounds(&self, u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        let _ = u;
        None
    }

    /// The system's [`FixedPointReduction`], if it has one (default: none).
    fn fixed_point_reduction(&self) -> Option<&dyn FixedPointReduction> {
        None
    }

    /// `F(x, u)` `(n)`; errors on dimensions or NaN/inf in `x` or `u`.
    fn step(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
        let (n, d) = (self.state_dim(), self.input_dim());
        vector(n, d, x, u, |out| self.step_into(x, u, out))
    }

    /// `dF/dx` `(n, n)`; errors as [`step`](Self::step).
    fn jacobian(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Result<Array2<f64>> {
        let (n, d) = (self.state_dim(), self.input_dim());
        matrix(n, d, n, x, u, |out| self.jacobian_into(x, u, out))
    }

    /// `dF/du` `(n, d_in)`; errors as [`step`](Self::step).
    fn input_jacobian(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Result<Array2<f64>> {
        let (n, d) = (self.state_dim(), self.input_dim());
        matrix(n, d, d, x, u, |out| self.input_jacobian_into(x, u, out))
    }
}

/// Maps behind references (e.g. a borrowed cell boxed as `dyn DiscreteMap`).
impl<T: DiscreteMap + ?Sized> DiscreteMap for &T {
    fn state_dim(&self) -> usize {
        (**self).state_dim()
    }

    fn input_dim(&self) -> usize {
        (**self).input_dim()
    }

    fn step_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) -> Result<()> {
        (**self).step_into(x, u, out)
    }

    fn jacobian_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut2<'_, f64>) -> Result<()> {
        (**self).jacobian_into(x, u, out)
    }

    fn input_jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        (**self).input_jacobian_into(x, u, out)
    }

    fn fixed_point_bounds(&self, u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        (**self).fixed_point_bounds(u)
    }

    fn fixed_point_reduction(&self) -> Option<&dyn FixedPointReduction> {
        (**self).fixed_point_reduction()
    }
}

/// A continuous-time system `dx/dt = f(x, u)`: state `(n)`, input `(d_in)`. `Sync`, as
/// [`DiscreteMap`].
pub trait Flow: Sync {
    /// State dimension `n`.
    fn state_dim(&self) -> usize;
    /// Input dimension `d_in` (0 for an autonomous flow).
    fn input_dim(&self) -> usize;
    /// Writes `f(x, u)` `(n)` into `out`. Errors only on dimensions.
    fn field_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) -> Result<()>;
    /// Writes `Df = df/dx` `(n, n)` at `(x, u)` into `out`.
    fn jacobian_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut2<'_, f64>) -> Result<()>;
    /// Writes `df/du` `(n, d_in)` at `(x, u)` into `out`.
    fn input_jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()>;

    /// Half-widths `b` `(n)` of a box that holds every fixed point under the input `u`
    /// (`|x_i| < b_i`), when the system knows one (docs/DYNAMICS.md §1: tanh-bounded cells 1, the
    /// ctrnn and gated cells from their weights); `None` otherwise. Fixed-point searches drop
    /// candidates outside it: there, a vanishing residual is rounding, not a root.
    fn fixed_point_bounds(&self, u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        let _ = u;
        None
    }

    /// The system's [`FixedPointReduction`], if it has one (default: none).
    fn fixed_point_reduction(&self) -> Option<&dyn FixedPointReduction> {
        None
    }

    /// `f(x, u)` `(n)`; errors on dimensions or NaN/inf in `x` or `u`.
    fn field(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
        let (n, d) = (self.state_dim(), self.input_dim());
        vector(n, d, x, u, |out| self.field_into(x, u, out))
    }

    /// `Df` `(n, n)`; errors as [`field`](Self::field).
    fn jacobian(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Result<Array2<f64>> {
        let (n, d) = (self.state_dim(), self.input_dim());
        matrix(n, d, n, x, u, |out| self.jacobian_into(x, u, out))
    }

    /// `df/du` `(n, d_in)`; errors as [`field`](Self::field).
    fn input_jacobian(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Result<Array2<f64>> {
        let (n, d) = (self.state_dim(), self.input_dim());
        matrix(n, d, d, x, u, |out| self.input_jacobian_into(x, u, out))
    }
}

fn checked_point(n: usize, d: usize, x: &ArrayView1<'_, f64>, u: &ArrayView1<'_, f64>) -> Result<()> {
    check_point(n, d, x, u)?;
    check::finite("state", x)?;
    check::finite("input", u)
}

/// Checks the point, then lets `fill` write an `(n)` vector.
fn vector(
    n: usize,
    d: usize,
    x: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    fill: impl FnOnce(ArrayViewMut1<'_, f64>) -> Result<()>,
) -> Result<Array1<f64>> {
    checked_point(n, d, &x, &u)?;
    let mut out = Array1::zeros(n);
    fill(out.view_mut())?;
    Ok(out)
}

/// Checks the point, then lets `fill` write an `(n, cols)` matrix.
fn matrix(
    n: usize,
    d: usize,
    cols: usize,
    x: ArrayView1<'_, f64>,
    u: ArrayView1<'_, f64>,
    fill: impl FnOnce(ArrayViewMut2<'_, f64>) -> Result<()>,
) -> Result<Array2<f64>> {
    checked_point(n, d, &x, &u)?;
    let mut out = Array2::zeros((n, cols));
    fill(out.view_mut())?;
    Ok(out)
}

/// Dimension checks every `_into` implementation starts with.
pub(crate) fn check_into(
    n: usize,
    d: usize,
    x: &ArrayView1<'_, f64>,
    u: &ArrayView1<'_, f64>,
    out: &[usize],
    expected: &[usize],
) -> Result<()> {
    check_point(n, d, x, u)?;
    check_out("output buffer", out, expected)
}

/// The explicit Euler map `x' = x + dt f(x, u)` of a flow (`dF/dx = I + dt Df`): how
/// continuous-time cells are simulated step by step (and how ctgru is trained).
#[derive(Debug, Clone, Copy)]
pub struct EulerMap<'a, S: Flow + ?Sized> {
    flow: &'a S,
    dt: f64,
}

impl<'a, S: Flow + ?Sized> EulerMap<'a, S> {
    /// Wraps `flow` with step `dt` (finite, > 0).
    pub fn new(flow: &'a S, dt: f64) -> Result<Self> {
        if !(dt.is_finite() && dt > 0.0) {
            return Err(Error::param("dt", dt, "must be finite and > 0"));
        }
        Ok(EulerMap { flow, dt })
    }

    /// Without the check, for callers that validated `dt` already.
    pub(crate) fn unchecked(flow: &'a S, dt: f64) -> Self {
        EulerMap { flow, dt }
    }

    /// The step `dt`.
    pub fn dt(&self) -> f64 {
        self.dt
    }
}

impl<S: Flow + ?Sized> DiscreteMap for EulerMap<'_, S> {
    fn state_dim(&self) -> usize {
        self.flow.state_dim()
    }

    fn fixed_point_bounds(&self, u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        // Same fixed points as the flow.
        self.flow.fixed_point_bounds(u)
    }

    fn fixed_point_reduction(&self) -> Option<&dyn FixedPointReduction> {
        // F(x) - x = dt f(x): the flow's reduced equation has the same roots.
        self.flow.fixed_point_reduction()
    }

    fn input_dim(&self) -> usize {
        self.flow.input_dim()
    }

    fn step_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        self.flow.field_into(x, u, out.view_mut())?;
        out.zip_mut_with(&x, |o, &xi| *o = xi + self.dt * *o);
        Ok(())
    }

    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        self.flow.jacobian_into(x, u, out.view_mut())?;
        out.mapv_inplace(|v| self.dt * v);
        out.diag_mut().mapv_inplace(|v| v + 1.0);
        Ok(())
    }

    fn input_jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        self.flow.input_jacobian_into(x, u, out.view_mut())?;
        out.mapv_inplace(|v| self.dt * v);
        Ok(())
    }
}
