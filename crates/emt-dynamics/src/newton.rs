//! Newton's method for `F(x) = 0` with a typed outcome: emt's one Newton loop (the gated
//! census, pseudo-arclength correction, fold location), each caller choosing its stopping rule
//! by [`NewtonParams`] and reading why it stopped from [`NewtonStatus`], never from a `None`.
//!
//! Each iteration solves `J d = F` by LU and steps `x <- x - t d`: `t = 1` (plain Newton), or,
//! with a line search, the first of `1, 1/2, 1/4, ...` that lowers `|F|_2` by the Armijo factor
//! `1 - armijo t` (the point must be finite). Converged when `|F|_inf < tol_residual` (checked
//! before a step) or when a Newton step's largest component is below `tol_step` (that step is
//! taken whole and its end point not evaluated again). A zero tolerance switches its test off.
//!
//! ```
//! use emt_dynamics::{NewtonParams, NewtonStatus, newton};
//! // x^2 = 2 from x = 1.
//! let p = NewtonParams { tol_residual: 1e-14, ..Default::default() };
//! let out = newton(|x| Ok((ndarray::array![x[0] * x[0] - 2.0], ndarray::array![[2.0 * x[0]]])), ndarray::array![1.0], &p)?;
//! assert_eq!(out.status, NewtonStatus::Converged);
//! assert!((out.x[0] - 2f64.sqrt()).abs() < 1e-14 && out.iterations <= 6);
//! # Ok::<(), emt_core::Error>(())
//! ```

use emt_core::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1};

/// When Newton stops and how it steps. Default: `|F|_inf < 1e-10`, no step test, 100
/// iterations, Armijo line search with factor 1e-4 down to a step fraction of 1e-6.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonParams {
    /// Converged when `|F(x)|_inf` is below this (0: never by the residual).
    pub tol_residual: f64,
    /// Converged when a step's largest component is below this (0: never by the step).
    pub tol_step: f64,
    /// Iterations (Jacobian solves) at most.
    pub max_iters: usize,
    /// Backtrack along the Newton direction (`true`) or take full steps.
    pub line_search: bool,
    /// Armijo factor of the line search: accept `t` when `|F|_2` falls below `(1 - armijo t)`
    /// times its value.
    pub armijo: f64,
    /// The line search gives up (status [`NewtonStatus::Stalled`]) below this step fraction.
    pub min_step: f64,
}

impl Default for NewtonParams {
    fn default() -> Self {
        NewtonParams {
            tol_residual: 1e-10,
            tol_step: 0.0,
            max_iters: 100,
            line_search: true,
            armijo: 1e-4,
            min_step: 1e-6,
        }
    }
}

impl NewtonParams {
    /// Errors on negative or non-finite tolerances, both tests off, zero iterations, or line
    /// search constants outside `[0, 1)` / `(0, 1]`.
    pub fn check(self) -> Result<Self> {
        for (name, v) in [("tol_residual", self.tol_residual), ("tol_step", self.tol_step)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::param(name, v, "must be finite and >= 0"));
            }
        }
        if self.tol_residual == 0.0 && self.tol_step == 0.0 {
            return Err(Error::param("tol_residual", 0.0, "and tol_step are both 0: nothing could converge"));
        }
        emt_core::check::positive("max_iters", self.max_iters)?;
        if !(self.armijo.is_finite() && (0.0..1.0).contains(&self.armijo)) {
            return Err(Error::param("armijo", self.armijo, "must be in [0, 1)"));
        }
        if !(self.min_step.is_finite() && self.min_step > 0.0 && self.min_step <= 1.0) {
            return Err(Error::param("min_step", self.min_step, "must be in (0, 1]"));
        }
        Ok(self)
    }
}

/// Why Newton stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewtonStatus {
    /// A tolerance was met.
    Converged,
    /// `max_iters` iterations without meeting a tolerance.
    MaxIterations,
    /// The line search found no acceptable step above `min_step`.
    Stalled,
    /// The Jacobian was singular at `x` (LU pivot test of [`emt_linalg::solve`]).
    Singular,
    /// A full step (no line search) left the finite numbers; `x` is the last finite point.
    NonFinite,
}

/// Where Newton stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct NewtonOutcome {
    /// The last point `(n)`: the root when converged.
    pub x: Array1<f64>,
    /// `|F|_inf` at the last evaluated point (after a step-size convergence, the point before
    /// the last step).
    pub residual: f64,
    /// Jacobian solves done.
    pub iterations: usize,
    /// Why it stopped.
    pub status: NewtonStatus,
}

impl NewtonOutcome {
    /// Whether a tolerance was met.
    pub fn converged(&self) -> bool {
        self.status == NewtonStatus::Converged
    }

    /// `Ok(self)` when converged; otherwise [`Error::Singular`] or [`Error::NotConverged`]
    /// naming `what`, the iterations and the residual.
    pub fn into_result(self, what: &str) -> Result<Self> {
        match self.status {
            NewtonStatus::Converged => Ok(self),
            NewtonStatus::Singular => Err(Error::singular(
                format!("Jacobian of {what}"),
                format!("at Newton iteration {} (|F|_inf = {:e})", self.iterations, self.residual),
            )),
            _ => Err(Error::NotConverged {
                what: format!("Newton on {what} ({:?})", self.status),
                iterations: Some(self.iterations),
                residual: Some(self.residual),
            }),
        }
    }
}

fn max_abs(v: &Array1<f64>) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// Newton on `F(x) = 0` from `x0`: `eval(x)` returns `F(x)` `(n)` and its Jacobian `(n, n)`.
/// An error from `eval` (or the caller's interrupt hook, checked every iteration) is passed
/// on; every other way of stopping is a [`NewtonStatus`].
pub fn newton(
    mut eval: impl FnMut(ArrayView1<'_, f64>) -> Result<(Array1<f64>, Array2<f64>)>,
    x0: Array1<f64>,
    params: &NewtonParams,
) -> Result<NewtonOutcome> {
    let p = params.check()?;
    let mut x = x0;
    let (mut f, mut jac) = eval(x.view())?;
    let stop =
        |x, f: &Array1<f64>, iterations, status| Ok(NewtonOutcome { x, residual: max_abs(f), iterations, status });
    for it in 0..p.max_iters {
        emt_core::interrupt::check("Newton iteration")?;
        if p.tol_residual > 0.0 && max_abs(&f) < p.tol_residual {
            return stop(x, &f, it, NewtonStatus::Converged);
        }
        let Ok(d) = emt_linalg::solve_vec(jac.view(), f.view()) else {
            return stop(x, &f, it, NewtonStatus::Singular);
        };
        if !p.line_search {
            let y = &x - &d;
            if !y.iter().all(|v| v.is_finite()) {
                return stop(x, &f, it + 1, NewtonStatus::NonFinite);
            }
            x = y;
            if p.tol_step > 0.0 && max_abs(&d) < p.tol_step {
                return stop(x, &f, it + 1, NewtonStatus::Converged);
            }
            if it + 1 < p.max_iters {
                (f, jac) = eval(x.view())?;
            }
            continue;
        }
        if p.tol_step > 0.0 && max_abs(&d) < p.tol_step {
            // A step below the tolerance is taken whole: at rounding level no fraction of it
            // lowers |F|, which is no reason to call the root stalled.
            x -= &d;
            return stop(x, &f, it + 1, NewtonStatus::Converged);
        }
        let norm = f.dot(&f).sqrt();
        if norm == 0.0 {
            // An exact root: no step can lower |F| (the line search would call it stalled).
            return stop(x, &f, it, NewtonStatus::Converged);
        }
        let mut t = 1.0;
        loop {
            let y = &x - &(&d * t);
            if y.iter().all(|v| v.is_finite()) {
                let (fy, jy) = eval(y.view())?;
                if fy.dot(&fy).sqrt() < (1.0 - p.armijo * t) * norm {
                    (x, f, jac) = (y, fy, jy);
                    break;
                }
            }
            t *= 0.5;
            if t < p.min_step {
                return stop(x, &f, it + 1, NewtonStatus::Stalled);
            }
        }
    }
    stop(x, &f, p.max_iters, NewtonStatus::MaxIterations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn circle_line(x: ArrayView1<'_, f64>) -> Result<(Array1<f64>, Array2<f64>)> {
        // x^2 + y^2 = 1, y = x: roots +-(1, 1) / sqrt 2.
        Ok((array![x[0] * x[0] + x[1] * x[1] - 1.0, x[1] - x[0]], array![[2.0 * x[0], 2.0 * x[1]], [-1.0, 1.0]]))
    }

    #[test]
    fn every_way_of_stopping_is_named() {
        let r = std::f64::consts::FRAC_1_SQRT_2;
        let out = newton(circle_line, array![2.0, 0.5], &NewtonParams::default()).unwrap();
        assert_eq!(out.status, NewtonStatus::Converged);
        assert!((out.x[0] - r).abs() < 1e-10 && (out.x[1] - r).abs() < 1e-10 && out.residual < 1e-10);
        // By the step, without a line search.
        let p = NewtonParams { tol_residual: 0.0, tol_step: 1e-12, line_search: false, ..Default::default() };
        let out = newton(circle_line, array![-2.0, -0.5], &p).unwrap();
        assert!(out.converged() && (out.x[0] + r).abs() < 1e-12);
        // The Jacobian is singular on the line x = -y... at the origin both rows degenerate.
        let out = newton(circle_line, array![0.0, 0.0], &NewtonParams::default()).unwrap();
        assert_eq!(out.status, NewtonStatus::Singular);
        assert!(matches!(out.into_result("circle"), Err(Error::Singular { .. })));
        // One iteration is not enough from far away.
        let p = NewtonParams { max_iters: 1, ..Default::default() };
        let out = newton(circle_line, array![5.0, 3.0], &p).unwrap();
        assert_eq!((out.status, out.iterations), (NewtonStatus::MaxIterations, 1));
        let err = out.into_result("circle").unwrap_err().to_string();
        assert!(err.contains("circle") && err.contains("MaxIterations") && err.contains("1 iteration"), "{err}");
        // x^2 + 1 = 0 has no root: the line search stalls at the minimum of |F| (x = 0 is
        // singular, nearby steps cannot lower |F| enough).
        let out =
            newton(|x| Ok((array![x[0] * x[0] + 1.0], array![[2.0 * x[0]]])), array![0.3], &NewtonParams::default())
                .unwrap();
        assert!(matches!(out.status, NewtonStatus::Stalled | NewtonStatus::Singular | NewtonStatus::MaxIterations));
        assert!(!out.converged());
    }

    #[test]
    fn bad_settings_and_evaluation_errors_are_errors() {
        for p in [
            NewtonParams { tol_residual: 0.0, tol_step: 0.0, ..Default::default() },
            NewtonParams { tol_residual: f64::NAN, ..Default::default() },
            NewtonParams { max_iters: 0, ..Default::default() },
            NewtonParams { armijo: 1.0, ..Default::default() },
            NewtonParams { min_step: 0.0, ..Default::default() },
        ] {
            assert!(matches!(newton(circle_line, array![1.0, 0.0], &p), Err(Error::InvalidParameter { .. })), "{p:?}");
        }
        let failing =
            |_: ArrayView1<'_, f64>| -> Result<(Array1<f64>, Array2<f64>)> { Err(Error::param("x", 1, "bad")) };
        assert!(newton(failing, array![1.0], &NewtonParams::default()).is_err());
    }

    proptest::proptest! {
        #![proptest_config(emt_testkit::proptest_config(32))]

        /// A random well-conditioned affine map A x = b: one Newton step lands on the root, so
        /// both stopping rules converge within 2 iterations to A^-1 b.
        #[test]
        fn affine_maps_are_solved_in_one_step(seed in 0u64..1000, n in 1usize..8, line_search: bool) {
            let a = emt_testkit::gaussian(n, n, seed) + Array2::<f64>::eye(n) * (2.0 * n as f64);
            let b = emt_testkit::gaussian(n, 1, seed + 1).column(0).to_owned();
            let eval = |x: ArrayView1<'_, f64>| Ok((a.dot(&x) - &b, a.clone()));
            for p in [
                NewtonParams { tol_residual: 1e-12, line_search, ..Default::default() },
                NewtonParams { tol_residual: 0.0, tol_step: 1e-9, line_search, ..Default::default() },
            ] {
                let out = newton(eval, Array1::zeros(n), &p).unwrap();
                proptest::prop_assert!(out.converged() && out.iterations <= 2, "{:?}", out);
                proptest::prop_assert!((a.dot(&out.x) - &b).iter().all(|v| v.abs() < 1e-10));
            }
        }
    }
}
