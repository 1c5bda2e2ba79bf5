//! Planar flows (`n = 2`): nullclines as graphs over `x1` and the slow manifold of an
//! approximate line attractor (docs/DYNAMICS.md §9; the continuous-time GRU paper's point that
//! a trained "line" is two nullclines running close, with slow but nonzero flow between them).
//!
//! ```
//! use emt_dynamics::{SlowManifoldParams, nullcline, slow_manifold};
//! use emt_testkit::systems::LinearFlow;
//! // dx1/dt = -x1 + x2, dx2/dt = 1.1 x1 - x2: nullclines x2 = x1 and x2 = 1.1 x1, a gap of
//! // 0.1 |x1| between them, below 0.045 for |x1| < 0.45 (grid points -0.44 .. 0.44).
//! let flow = LinearFlow(ndarray::array![[-1.0, 1.0], [1.1, -1.0]]);
//! let u = ndarray::Array1::zeros(0);
//! let x2 = nullcline(&flow, u.view(), 1, 0.4, [-1.0, 1.0], 200)?;
//! assert!(x2.len() == 1 && (x2[0] - 0.44).abs() < 1e-12);
//! let m = slow_manifold(&flow, u.view(), &SlowManifoldParams { gap_tol: 0.045, ..Default::default() })?;
//! let [lo, hi] = m.slow_span.expect("a slow stretch");
//! assert!((lo + 0.44).abs() < 1e-9 && (hi - 0.44).abs() < 1e-9);
//! # Ok::<(), emt_core::Error>(())
//! ```

use emt_core::{Error, Flow, Result, check};
use ndarray::{ArrayView1, array};

/// The `x2` values in `range` where component `k` of the field vanishes at `x1`: sign changes
/// of `f_k(x1, .)` on a grid of `grid` intervals, each refined by bisection to 1e-12 (a root
/// that touches zero without changing sign between grid points is missed). `(K)`, increasing.
pub fn nullcline(
    flow: &dyn Flow,
    u: ArrayView1<'_, f64>,
    k: usize,
    x1: f64,
    range: [f64; 2],
    grid: usize,
) -> Result<Vec<f64>> {
    check_planar(flow, &u, k)?;
    check::positive("grid", grid)?;
    if !(x1.is_finite() && range.iter().all(|v| v.is_finite()) && range[0] < range[1]) {
        return Err(Error::param("range", format!("{range:?} at x1 = {x1}"), "must be finite with lo < hi"));
    }
    let g = |x2: f64| -> Result<f64> { Ok(flow.field(array![x1, x2].view(), u)?[k]) };
    let points: Vec<f64> = (0..=grid).map(|i| range[0] + (range[1] - range[0]) * i as f64 / grid as f64).collect();
    let mut roots = Vec::new();
    let mut prev = g(points[0])?;
    for w in points.windows(2) {
        let next = g(w[1])?;
        if prev == 0.0 || prev.signum() != next.signum() {
            let (mut lo, mut hi, mut glo) = (w[0], w[1], prev);
            while hi - lo > 1e-12 {
                let mid = 0.5 * (lo + hi);
                let gm = g(mid)?;
                if gm.signum() == glo.signum() {
                    (lo, glo) = (mid, gm);
                } else {
                    hi = mid;
                }
            }
            roots.push(0.5 * (lo + hi));
        }
        prev = next;
    }
    Ok(roots)
}

fn check_planar(flow: &dyn Flow, u: &ArrayView1<'_, f64>, k: usize) -> Result<()> {
    if flow.state_dim() != 2 {
        return Err(Error::shape("state (a planar flow)", "(2)", format!("({})", flow.state_dim())));
    }
    check::shape("input", u, &[flow.input_dim()])?;
    check::finite("input", u)?;
    if k > 1 {
        return Err(Error::param("k", k, "a planar field has components 0 and 1"));
    }
    Ok(())
}

/// Where [`slow_manifold`] looks: `x1` from `start` in `points` steps of `step`, nullclines
/// searched for `x2` in `range` on `grid` intervals, and the gap below which the two
/// nullclines count as one slow curve. Default: `x1` in `[-0.9, 0.9]` by 0.02, `x2` in
/// `[-1, 1]` (a tanh cell's box) on 200 intervals, `gap_tol` 0.05.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowManifoldParams {
    /// First `x1`.
    pub start: f64,
    /// Spacing of the `x1` grid (> 0).
    pub step: f64,
    /// Number of `x1` values.
    pub points: usize,
    /// Interval searched for `x2`.
    pub range: [f64; 2],
    /// Grid intervals of the nullcline search.
    pub grid: usize,
    /// Largest gap between the nullclines on the slow curve.
    pub gap_tol: f64,
}

impl Default for SlowManifoldParams {
    fn default() -> Self {
        SlowManifoldParams { start: -0.9, step: 0.02, points: 91, range: [-1.0, 1.0], grid: 200, gap_tol: 0.05 }
    }
}

/// One `x1` of the slow curve: the first point of the `f_2 = 0` nullcline there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowPoint {
    /// `x1`.
    pub x1: f64,
    /// `x2` on the `f_2 = 0` nullcline (its smallest root in the range).
    pub x2: f64,
    /// Distance in `x2` to the nearest point of the `f_1 = 0` nullcline at this `x1`
    /// (infinite when it has none).
    pub gap: f64,
    /// `|f(x1, x2)|`.
    pub speed: f64,
}

/// What makes a planar flow an approximate line attractor.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowManifold {
    /// The `f_2 = 0` nullcline over the `x1` grid (grid points where it has no root are left out).
    pub curve: Vec<SlowPoint>,
    /// The longest run of consecutive grid points whose gap is below `gap_tol`, as
    /// `[first x1, last x1]`; `None` if no point is.
    pub slow_span: Option<[f64; 2]>,
    /// The fastest `|f|` within that run (0 without one).
    pub max_speed_in_span: f64,
}

/// The slow curve of a planar flow under `u`: along the `f_2 = 0` nullcline, the gap to the
/// `f_1 = 0` nullcline and the speed, and the longest stretch where the gap stays below
/// `gap_tol` (two nullclines that close give slow flow along a curve, not a line of fixed
/// points: `max_speed_in_span` says how slow).
pub fn slow_manifold(flow: &dyn Flow, u: ArrayView1<'_, f64>, params: &SlowManifoldParams) -> Result<SlowManifold> {
    check_planar(flow, &u, 0)?;
    let p = params;
    if !(p.step.is_finite() && p.step > 0.0 && p.start.is_finite()) {
        return Err(Error::param("step", p.step, "must be finite and > 0 (with a finite start)"));
    }
    if !(p.gap_tol.is_finite() && p.gap_tol > 0.0) {
        return Err(Error::param("gap_tol", p.gap_tol, "must be finite and > 0"));
    }
    let (mut curve, mut inside) = (Vec::new(), Vec::new());
    for i in 0..p.points {
        emt_core::interrupt::check("slow manifold")?;
        let x1 = p.start + p.step * i as f64;
        let (a, b) = (nullcline(flow, u, 1, x1, p.range, p.grid)?, nullcline(flow, u, 0, x1, p.range, p.grid)?);
        if let Some(&x2) = a.first() {
            let gap = b.iter().map(|v| (v - x2).abs()).fold(f64::INFINITY, f64::min);
            let speed = flow.field(array![x1, x2].view(), u)?.mapv(|v| v * v).sum().sqrt();
            curve.push(SlowPoint { x1, x2, gap, speed });
            if gap < p.gap_tol {
                inside.push((i, speed));
            }
        }
    }
    // The longest run of consecutive grid points inside the tolerance.
    let (mut best, mut run): (&[(usize, f64)], usize) = (&[], 0);
    for k in 0..inside.len() {
        run = if k > 0 && inside[k].0 == inside[k - 1].0 + 1 { run + 1 } else { 1 };
        if run > best.len() {
            best = &inside[k + 1 - run..=k];
        }
    }
    let x1 = |i: usize| p.start + p.step * i as f64;
    let slow_span = best.first().zip(best.last()).map(|(a, b)| [x1(a.0), x1(b.0)]);
    let max_speed_in_span = best.iter().map(|s| s.1).fold(0.0, f64::max);
    Ok(SlowManifold { curve, slow_span, max_speed_in_span })
}

#[cfg(test)]
mod tests {
    use super::*;
    use emt_testkit::systems::LinearFlow;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(emt_testkit::proptest_config(32))]

        /// A linear flow with nullclines x2 = x1 and x2 = c x1: the gap is |c - 1| |x1|, the
        /// speed along the second |c - 1| |x1|, and the slow span is the grid stretch with
        /// |x1| < gap_tol / |c - 1|.
        #[test]
        fn linear_nullclines_give_the_known_gap_speed_and_span(c in 1.05..3.0f64, tol in 0.01..0.5f64) {
            let flow = LinearFlow(ndarray::array![[-1.0, 1.0], [c, -1.0]]);
            let u = ndarray::Array1::zeros(0);
            let p = SlowManifoldParams { range: [-5.0, 5.0], gap_tol: tol, ..Default::default() };
            let m = slow_manifold(&flow, u.view(), &p).unwrap();
            prop_assert_eq!(m.curve.len(), 91);
            for s in &m.curve {
                let want = (c - 1.0) * s.x1.abs();
                prop_assert!((s.x2 - c * s.x1).abs() < 1e-9 && (s.gap - want).abs() < 1e-9 && (s.speed - want).abs() < 1e-9);
            }
            let inside: Vec<f64> = m.curve.iter().filter(|s| s.gap < tol).map(|s| s.x1).collect();
            match m.slow_span {
                None => prop_assert!(inside.is_empty()),
                Some([lo, hi]) => {
                    prop_assert!((lo - inside[0]).abs() < 1e-12 && (hi - inside[inside.len() - 1]).abs() < 1e-12);
                    prop_assert!(lo.abs() < tol / (c - 1.0) && hi.abs() < tol / (c - 1.0));
                    prop_assert!(m.max_speed_in_span < tol);
                }
            }
        }
    }

    #[test]
    fn non_planar_flows_and_bad_settings_are_errors() {
        let u = ndarray::Array1::zeros(0);
        let three = LinearFlow(ndarray::Array2::eye(3));
        assert!(matches!(nullcline(&three, u.view(), 0, 0.0, [-1.0, 1.0], 10), Err(Error::Shape { .. })));
        let two = LinearFlow(ndarray::Array2::eye(2));
        assert!(nullcline(&two, u.view(), 2, 0.0, [-1.0, 1.0], 10).is_err());
        assert!(nullcline(&two, u.view(), 0, 0.0, [1.0, -1.0], 10).is_err());
        assert!(nullcline(&two, u.view(), 0, f64::NAN, [-1.0, 1.0], 10).is_err());
        assert!(nullcline(&two, u.view(), 0, 0.0, [-1.0, 1.0], 0).is_err());
        for p in [
            SlowManifoldParams { step: 0.0, ..Default::default() },
            SlowManifoldParams { gap_tol: f64::NAN, ..Default::default() },
        ] {
            assert!(slow_manifold(&two, u.view(), &p).is_err(), "{p:?}");
        }
    }
}
