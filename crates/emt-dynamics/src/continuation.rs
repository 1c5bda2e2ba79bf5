//! Pseudo-arclength continuation of a fixed-point branch in one parameter (docs/DYNAMICS.md §6).
//!
//! With `y = (x, p)` and `G(y) = res(x, p)` (`f` for flows, `F(x) - x` for maps), the branch is
//! the curve `G = 0`. From a point and its unit tangent `t` (the null vector of
//! `[D_x G, D_p G]`, oriented as the previous one), the predictor is `y + ds t` and the
//! corrector Newton's method on `[G(y); t.(y - y_pred)] = 0`, which stays well posed where
//! `D_x G` is singular: the branch turns around folds instead of ending there. A fold is where
//! the tangent's `p` component changes sign; it is then located by Newton on
//! `{G = 0, det D_x G = 0}`.

use emt_core::{Error, Result};
use ndarray::{Array1, Array2, ArrayView1, s};
use num_complex::Complex64;

use crate::sweep::{AsSystem, fold_newton};
use crate::{Bifurcation, NewtonParams, System, newton};

/// Settings of [`continue_branch`]; [`Default`]: `ds = 0.05` (its sign is the initial direction
/// in `p`), `ds_min = 1e-6`, `ds_max = 0.2`, 500 steps, `p` in `[-inf, inf]`, `tol = 1e-10`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContinuationParams {
    /// Initial arclength step; negative starts towards decreasing `p`.
    pub ds: f64,
    /// Smallest step before giving up (the corrector failed at every smaller step).
    pub ds_min: f64,
    /// Largest step.
    pub ds_max: f64,
    /// Steps taken at most.
    pub steps: usize,
    /// The branch stops when `p` leaves `[p_min, p_max]`.
    pub p_min: f64,
    /// See `p_min`.
    pub p_max: f64,
    /// Newton tolerance on the correction (max norm).
    pub tol: f64,
}

impl Default for ContinuationParams {
    fn default() -> Self {
        ContinuationParams {
            ds: 0.05,
            ds_min: 1e-6,
            ds_max: 0.2,
            steps: 500,
            p_min: f64::NEG_INFINITY,
            p_max: f64::INFINITY,
            tol: 1e-10,
        }
    }
}

/// One point of a branch.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchPoint {
    /// The parameter.
    pub parameter: f64,
    /// The fixed point `(n)`.
    pub state: Array1<f64>,
    /// Eigenvalues of `DF` (maps) or `Df` (flows).
    pub eigenvalues: Vec<Complex64>,
    /// `max |mu| < 1` (maps) or `max Re lambda < 0` (flows).
    pub stable: bool,
}

/// Why a branch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchEnd {
    /// The parameter left `[p_min, p_max]`.
    LeftRange,
    /// The step budget ran out.
    Steps,
    /// The corrector failed even at `ds_min`.
    CorrectorFailed,
}

/// A continued branch and the folds (saddle-node points) found on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// Points in arclength order.
    pub points: Vec<BranchPoint>,
    /// Folds, each a [`Bifurcation::SaddleNode`].
    pub folds: Vec<Bifurcation>,
    /// Why it ended.
    pub end: BranchEnd,
}

/// Continues the fixed point near `x0` at `p0` of `family(p)` under the constant input `u`.
///
/// ```
/// use emt_dynamics::{AsFlow, Bifurcation, ContinuationParams, continue_branch};
/// use emt_testkit::systems::Riccati;
/// // dx/dt = p - x^2: the branch x = sqrt(p) turns at the fold p = 0 into x = -sqrt(p).
/// let params = ContinuationParams { ds: -0.05, p_max: 1.0, ..Default::default() };
/// let b = continue_branch(|p| Ok(AsFlow(Riccati { a: p, b: -1.0 })), ndarray::Array1::zeros(0).view(),
///     ndarray::array![1.0].view(), 1.0, &params)?;
/// let Bifurcation::SaddleNode { parameter, .. } = &b.folds[0] else { panic!("a fold") };
/// assert!(parameter.abs() < 1e-8);
/// let last = b.points.last().expect("points");
/// assert!(last.state[0] < -0.9 && !last.stable);    // back on the unstable half
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn continue_branch<S: AsSystem>(
    family: impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    x0: ArrayView1<'_, f64>,
    p0: f64,
    params: &ContinuationParams,
) -> Result<Branch> {
    let c = *params;
    if !(c.ds.is_finite() && c.ds != 0.0 && c.ds_min > 0.0 && c.ds_max >= c.ds.abs() && c.tol > 0.0) {
        return Err(Error::param(
            "continuation",
            format!("{c:?}"),
            "needs ds != 0, 0 < ds_min, |ds| <= ds_max, tol > 0",
        ));
    }
    if !p0.is_finite() || x0.iter().any(|v| !v.is_finite()) {
        return Err(Error::param("start", format!("p0 = {p0}"), "must be finite"));
    }
    let n = x0.len();
    // Correct the start at fixed p.
    let mut x = x0.to_owned();
    for _ in 0..50 {
        let (res, a) = residual(&family, u, &x, p0)?;
        let d = emt_linalg::solve_vec(a.view(), res.view())?;
        x -= &d;
        if d.iter().fold(0.0f64, |m, v| m.max(v.abs())) < c.tol {
            break;
        }
    }
    let mut y = Array1::zeros(n + 1);
    y.slice_mut(s![..n]).assign(&x);
    y[n] = p0;
    let mut prev_t = Array1::zeros(n + 1);
    prev_t[n] = c.ds.signum();
    let mut t = tangent(&family, u, &y, &prev_t)?;
    let mut ds = c.ds.abs();
    let mut points = vec![point(&family, u, &y)?];
    let mut folds = Vec::new();
    let mut end = BranchEnd::Steps;
    'steps: for _ in 0..c.steps {
        emt_core::interrupt::check("continuation")?;
        let (next, iters) = loop {
            let pred = &y + &(&t * ds);
            match correct(&family, u, pred.clone(), &t, &pred, c.tol)? {
                Some(found) => break found,
                None if ds * 0.5 >= c.ds_min => ds *= 0.5,
                None => {
                    end = BranchEnd::CorrectorFailed;
                    break 'steps;
                }
            }
        };
        if !(c.p_min..=c.p_max).contains(&next[n]) {
            end = BranchEnd::LeftRange;
            break;
        }
        let t_next = tangent(&family, u, &next, &t)?;
        if (t_next[n] < 0.0) != (t[n] < 0.0) {
            let guess = (&y + &next) * 0.5;
            if let Some((state, parameter)) = fold_newton(&family, u, guess.slice(s![..n]).to_owned(), guess[n], c.tol)?
            {
                folds.push(Bifurcation::SaddleNode { parameter, state });
            }
        }
        y = next;
        t = t_next;
        points.push(point(&family, u, &y)?);
        if iters <= 3 {
            ds = (ds * 1.5).min(c.ds_max);
        }
    }
    Ok(Branch { points, folds, end })
}

/// `res` and `A` at `(x, p)`.
fn residual<S: AsSystem>(
    family: &impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    x: &Array1<f64>,
    p: f64,
) -> Result<(Array1<f64>, Array2<f64>)> {
    let s = family(p)?;
    let n = x.len();
    let (mut res, mut a) = (Array1::zeros(n), Array2::zeros((n, n)));
    s.system()?.residual(x, u, &mut res, &mut a)?;
    Ok((res, a))
}

/// `G(y)` and `[D_x G, D_p G]` `(n, n + 1)`, `D_p G` by central differences.
fn extended<S: AsSystem>(
    family: &impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    y: &Array1<f64>,
) -> Result<(Array1<f64>, Array2<f64>)> {
    let n = y.len() - 1;
    let x = y.slice(s![..n]).to_owned();
    let p = y[n];
    let (res, a) = residual(family, u, &x, p)?;
    let h = 1e-6 * p.abs().max(1.0);
    let (rp, _) = residual(family, u, &x, p + h)?;
    let (rm, _) = residual(family, u, &x, p - h)?;
    let mut j = Array2::zeros((n, n + 1));
    j.slice_mut(s![.., ..n]).assign(&a);
    j.column_mut(n).assign(&((rp - rm) / (2.0 * h)));
    Ok((res, j))
}

/// The unit null vector of `[D_x G, D_p G]` at `y`, oriented along `prev`.
fn tangent<S: AsSystem>(
    family: &impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    y: &Array1<f64>,
    prev: &Array1<f64>,
) -> Result<Array1<f64>> {
    let n = y.len() - 1;
    let (_, j) = extended(family, u, y)?;
    let mut m = Array2::zeros((n + 1, n + 1));
    m.slice_mut(s![..n, ..]).assign(&j);
    m.row_mut(n).assign(prev);
    let mut rhs = Array1::zeros(n + 1);
    rhs[n] = 1.0;
    let t = emt_linalg::solve_vec(m.view(), rhs.view())?;
    let norm = t.dot(&t).sqrt();
    Ok(t / norm)
}

/// Newton on `[G(y); t.(y - pred)] = 0` from `y` (full steps until the correction is below
/// `tol`, 15 at most); `None` if it does not converge (the caller shortens the step) or `G`
/// cannot be evaluated on the way. An interrupt is passed on.
fn correct<S: AsSystem>(
    family: &impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    y: Array1<f64>,
    t: &Array1<f64>,
    pred: &Array1<f64>,
    tol: f64,
) -> Result<Option<(Array1<f64>, usize)>> {
    let n = y.len() - 1;
    let eval = |y: ArrayView1<'_, f64>| -> Result<(Array1<f64>, Array2<f64>)> {
        let y = y.to_owned();
        let (g, j) = extended(family, u, &y)?;
        let mut m = Array2::zeros((n + 1, n + 1));
        m.slice_mut(s![..n, ..]).assign(&j);
        m.row_mut(n).assign(t);
        let mut f = Array1::zeros(n + 1);
        f.slice_mut(s![..n]).assign(&g);
        f[n] = t.dot(&(&y - pred));
        Ok((f, m))
    };
    let p = NewtonParams { tol_residual: 0.0, tol_step: tol, max_iters: 15, line_search: false, ..Default::default() };
    match newton(eval, y, &p) {
        Ok(out) if out.converged() => Ok(Some((out.x, out.iterations))),
        Ok(_) => Ok(None),
        Err(e @ Error::Interrupted { .. }) => Err(e),
        Err(_) => Ok(None),
    }
}

fn point<S: AsSystem>(
    family: &impl Fn(f64) -> Result<S>,
    u: ArrayView1<'_, f64>,
    y: &Array1<f64>,
) -> Result<BranchPoint> {
    let n = y.len() - 1;
    let sys = family(y[n])?;
    let system = sys.system()?;
    let x = y.slice(s![..n]);
    let eigenvalues = emt_linalg::eigenvalues(system.jacobian(x, u)?.view())?.to_vec();
    let stable = match system {
        System::Map(_) => eigenvalues.iter().all(|z| z.norm() < 1.0),
        System::Flow(_) => eigenvalues.iter().all(|z| z.re < 0.0),
    };
    Ok(BranchPoint { parameter: y[n], state: x.to_owned(), eigenvalues, stable })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AsMap;
    use emt_core::{DiscreteMap, Result};
    use ndarray::{ArrayView1, ArrayViewMut1, ArrayViewMut2};

    /// The cubic fold x' = x + dt (p + x - x^3) as a map: folds at p = -+2/(3 sqrt 3) where
    /// x = +-1/sqrt 3 (the S-shaped branch of the cusp normal form).
    struct Cubic {
        p: f64,
    }

    impl DiscreteMap for Cubic {
        fn state_dim(&self) -> usize {
            1
        }
        fn input_dim(&self) -> usize {
            0
        }
        fn step_into(
            &self,
            x: ArrayView1<'_, f64>,
            _: ArrayView1<'_, f64>,
            mut out: ArrayViewMut1<'_, f64>,
        ) -> Result<()> {
            out[0] = x[0] + 0.1 * (self.p + x[0] - x[0].powi(3));
            Ok(())
        }
        fn jacobian_into(
            &self,
            x: ArrayView1<'_, f64>,
            _: ArrayView1<'_, f64>,
            mut out: ArrayViewMut2<'_, f64>,
        ) -> Result<()> {
            out[[0, 0]] = 1.0 + 0.1 * (1.0 - 3.0 * x[0] * x[0]);
            Ok(())
        }
        fn input_jacobian_into(
            &self,
            _: ArrayView1<'_, f64>,
            _: ArrayView1<'_, f64>,
            _: ArrayViewMut2<'_, f64>,
        ) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_s_shaped_branch_turns_at_both_folds() {
        let params = ContinuationParams { ds: 0.05, p_min: -1.0, p_max: 1.0, ..Default::default() };
        let b = continue_branch(
            |p| Ok(AsMap(Cubic { p })),
            Array1::zeros(0).view(),
            ndarray::array![-1.5].view(),
            -1.0,
            &params,
        )
        .unwrap();
        assert_eq!(b.end, BranchEnd::LeftRange);
        let pc = 2.0 / (3.0 * 3f64.sqrt());
        let got: Vec<(f64, f64)> = b.folds.iter().map(|f| (f.parameter(), f.state()[0])).collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!((got[0].0 - pc).abs() < 1e-8 && (got[0].1 + 1.0 / 3f64.sqrt()).abs() < 1e-6, "{got:?}");
        assert!((got[1].0 + pc).abs() < 1e-8 && (got[1].1 - 1.0 / 3f64.sqrt()).abs() < 1e-6, "{got:?}");
        // Every point solves the fixed-point equation; stability flips at each fold.
        for pt in &b.points {
            let x = pt.state[0];
            assert!((pt.parameter + x - x.powi(3)).abs() < 1e-9);
            assert_eq!(pt.stable, 1.0 - 3.0 * x * x < 0.0, "{x}");
        }
        assert!(b.points.last().unwrap().state[0] > 1.0);
        assert!(
            continue_branch(
                |p| Ok(AsMap(Cubic { p })),
                Array1::zeros(0).view(),
                ndarray::array![0.0].view(),
                0.0,
                &ContinuationParams { ds: 0.0, ..Default::default() }
            )
            .is_err()
        );
    }
}
