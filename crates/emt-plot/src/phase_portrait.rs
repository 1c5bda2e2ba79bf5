//! Phase portraits built from emt-dynamics results: the fixed points a search found, runs of the
//! system, its zero-input cycle and trial end states, drawn in the state plane (2-D states, with
//! nullclines and the vector field) or in the plane of the two principal axes of the runs
//! (higher-D).

use emt_core::{Error, Result};
use emt_dynamics::{FixedPoints, Stability, System};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::{Portrait, Segment, zero_contour};

/// What [`fixed_point_portrait`] draws.
#[derive(Debug, Clone, Copy)]
pub struct PortraitData<'a> {
    /// The map or flow.
    pub system: System<'a>,
    /// Its constant input `(d_in)`.
    pub u: ArrayView1<'a, f64>,
    /// What the fixed-point search found (each point by kind: stable filled, saddles as
    /// triangles, fully unstable as rings).
    pub found: &'a FixedPoints,
    /// Runs of the system, each `(T, n)` (the second halves are drawn in a projection: the
    /// first halves fall in from far-out starts).
    pub runs: &'a [Array2<f64>],
    /// One period of the zero-input cycle `(P, n)`, drawn bold, if the attractor is one.
    pub cycle: Option<ArrayView2<'a, f64>>,
    /// Trial end states with their label (accepted / rejected, if known).
    pub ends: &'a [(Array1<f64>, Option<bool>)],
    /// The zero-input run's state at the trials' final time.
    pub reference: Option<ArrayView1<'a, f64>>,
    /// Half-width of the drawn box for 2-D states (the search's box bound); unused in a
    /// projection, whose extent follows what it shows.
    pub bound: f64,
}

/// Runs of `system` under `u` from the first 8 of `starts` `(S, n)`, `steps` steps each (flows:
/// RK4 steps of 0.05), each `(steps + 1, n)` with its start first: the runs
/// [`fixed_point_portrait`] draws for a search seeded from `starts`.
pub fn runs(
    system: System<'_>,
    u: ArrayView1<'_, f64>,
    starts: ArrayView2<'_, f64>,
    steps: usize,
) -> Result<Vec<Array2<f64>>> {
    let mut out = Vec::new();
    for start in starts.rows().into_iter().take(8) {
        let one = start.to_owned().insert_axis(Axis(0));
        let states = emt_dynamics::trajectory_seeds(system, u, one.view(), steps, 1, 0.05, 0.0, 0)?;
        let run = ndarray::concatenate(Axis(0), &[one.view(), states.view()])
            .map_err(|e| Error::shape("trajectory", "(T, n)", e.to_string()))?;
        out.push(run);
    }
    Ok(out)
}

/// Samples per axis of the field behind the 2-D nullclines, and arrows per axis.
const FIELD_GRID: usize = 121;
const ARROWS: usize = 17;

/// The portrait of [`PortraitData`]: for a 2-D state, the box `[-1.05 bound, 1.05 bound]^2`
/// with both nullclines (zero contours of the residual `F(x) - x` of a map or the field of a
/// flow on a 121 x 121 grid), a 17 x 17 grid of direction arrows, the runs whole; above 2-D, the
/// plane of the two principal axes of the runs' second halves and the fixed points (no
/// nullclines), scaled to what it shows. Errors on a state that is not `(n)` or an evaluation
/// that fails.
pub fn fixed_point_portrait(d: &PortraitData<'_>) -> Result<Portrait<'static>> {
    let n = d.system.state_dim();
    let dots = matches!(d.system, System::Map(_));
    let stable = |s: Stability| s == Stability::Stable;
    if n == 2 {
        let b = d.bound * 1.05;
        if !(b.is_finite() && b > 0.0) {
            return Err(Error::param("bound", d.bound, "must be finite and > 0"));
        }
        let xs: Vec<f64> = (0..FIELD_GRID).map(|i| -b + 2.0 * b * i as f64 / (FIELD_GRID - 1) as f64).collect();
        let res = |x: f64, y: f64| -> Result<[f64; 2]> {
            let p = ndarray::array![x, y];
            let r = match d.system {
                System::Map(m) => m.step(p.view(), d.u)? - &p,
                System::Flow(f) => f.field(p.view(), d.u)?,
            };
            Ok([r[0], r[1]])
        };
        let mut fields = [vec![vec![0.0; FIELD_GRID]; FIELD_GRID], vec![vec![0.0; FIELD_GRID]; FIELD_GRID]];
        for (i, &x) in xs.iter().enumerate() {
            emt_core::interrupt::check("phase portrait")?;
            for (j, &y) in xs.iter().enumerate() {
                let r = res(x, y)?;
                fields[0][i][j] = r[0];
                fields[1][i][j] = r[1];
            }
        }
        let mut arrows: Vec<Segment> = Vec::new();
        let m = ARROWS as f64;
        for i in 0..ARROWS {
            for j in 0..ARROWS {
                let (x, y) = (-b + 2.0 * b * (i as f64 + 0.5) / m, -b + 2.0 * b * (j as f64 + 0.5) / m);
                let r = res(x, y)?;
                let len = (r[0] * r[0] + r[1] * r[1]).sqrt();
                if len > 0.0 {
                    let s = 0.8 * b / m / len;
                    arrows.push(((x, y), (x + s * r[0], y + s * r[1])));
                }
            }
        }
        let xy = |x: ArrayView1<'_, f64>| (x[0], x[1]);
        return Ok(Portrait {
            x_desc: "x1",
            y_desc: "x2",
            x_range: (-b, b),
            y_range: (-b, b),
            nullclines: vec![zero_contour(&xs, &xs, &fields[0]), zero_contour(&xs, &xs, &fields[1])],
            arrows,
            trajectories: d.runs.iter().map(|t| t.rows().into_iter().map(xy).collect()).collect(),
            points: d.found.fixed.iter().map(|p| (xy(p.state.view()), stable(p.stability), p.unstable_dims)).collect(),
            dims: n,
            dots,
            cycle: d.cycle.map_or(vec![], |o| o.rows().into_iter().map(xy).collect()),
            endpoints: d.ends.iter().map(|(h, l)| (xy(h.view()), *l)).collect(),
            reference: d.reference.map(xy),
        });
    }
    // Box starts lie far out (|x| up to the box bound, 120 for a 128-unit CT-RNN), so the first
    // half of each run is the fall inwards: projecting and scaling by it put every fixed point
    // in one blob. The principal axes and the drawing use the second halves, where the
    // dynamics live, with the fixed points.
    let tails: Vec<ArrayView2<'_, f64>> = d.runs.iter().map(|t| t.slice(ndarray::s![t.nrows() / 2.., ..])).collect();
    let mut rows = tails.clone();
    let fixed_states = Array2::from_shape_fn((d.found.fixed.len(), n), |(i, j)| d.found.fixed[i].state[j]);
    rows.push(fixed_states.view());
    let all =
        ndarray::concatenate(Axis(0), &rows).map_err(|e| Error::shape("runs", format!("(T, {n})"), e.to_string()))?;
    let pca = emt_linalg::pca(all.view(), 2)?;
    let project = |x: ArrayView1<'_, f64>| {
        let c = &x - &pca.mean;
        (pca.components.row(0).dot(&c), pca.components.row(1).dot(&c))
    };
    let lines: Vec<Vec<(f64, f64)>> = tails.iter().map(|t| t.rows().into_iter().map(project).collect()).collect();
    let points: Vec<((f64, f64), bool, usize)> =
        d.found.fixed.iter().map(|p| (project(p.state.view()), stable(p.stability), p.unstable_dims)).collect();
    let endpoints: Vec<((f64, f64), Option<bool>)> = d.ends.iter().map(|(h, l)| (project(h.view()), *l)).collect();
    let (mut lo, mut hi) = ((f64::INFINITY, f64::INFINITY), (f64::NEG_INFINITY, f64::NEG_INFINITY));
    for &(x, y) in lines.iter().flatten().chain(points.iter().map(|q| &q.0)).chain(endpoints.iter().map(|q| &q.0)) {
        lo = (lo.0.min(x), lo.1.min(y));
        hi = (hi.0.max(x), hi.1.max(y));
    }
    let pad = |a: f64, b: f64| if b > a { 0.08 * (b - a) } else { 1.0 };
    Ok(Portrait {
        x_desc: "PC1",
        y_desc: "PC2",
        x_range: (lo.0 - pad(lo.0, hi.0), hi.0 + pad(lo.0, hi.0)),
        y_range: (lo.1 - pad(lo.1, hi.1), hi.1 + pad(lo.1, hi.1)),
        nullclines: vec![],
        arrows: vec![],
        trajectories: lines,
        points,
        dims: n,
        dots,
        cycle: d.cycle.map_or(vec![], |o| o.rows().into_iter().map(project).collect()),
        endpoints,
        reference: d.reference.map(project),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use emt_core::cells::CtGruWeights;
    use emt_dynamics::{FixedPointParams, find_fixed_points};

    /// Runs start at their start, take `steps` steps, and stop after 8 starts.
    #[test]
    fn runs_are_the_first_eight_starts_run_forward() {
        let mut u_w = Array2::zeros((6, 2));
        u_w[[4, 0]] = 3.0;
        let net = CtGruWeights::new(u_w, None, None, 0.1, None).unwrap();
        let starts = Array2::from_shape_fn((10, 2), |(k, i)| 0.05 * (k + i) as f64);
        let runs = runs(System::Flow(&net), Array1::zeros(0).view(), starts.view(), 30).unwrap();
        assert_eq!(runs.len(), 8);
        for (run, start) in runs.iter().zip(starts.rows()) {
            assert_eq!(run.dim(), (31, 2));
            assert_eq!(run.row(0), start);
        }
    }

    /// The decoupled 2-D ctgru U_h = 3 I has 9 fixed points, 4 stable: the portrait shows all 9
    /// by kind, and its nullclines pass through them.
    #[test]
    fn a_2d_portrait_shows_every_fixed_point_on_its_nullclines() {
        let mut u_w = Array2::zeros((6, 2));
        u_w[[4, 0]] = 3.0;
        u_w[[5, 1]] = 3.0;
        let net = CtGruWeights::new(u_w, None, None, 0.1, None).unwrap();
        let u = Array1::zeros(0);
        let seeds = Array2::from_shape_fn((49, 2), |(k, i)| -0.99 + 1.98 * [k / 7, k % 7][i] as f64 / 6.0);
        let found =
            find_fixed_points(System::Flow(&net), u.view(), seeds.view(), &FixedPointParams::default()).unwrap();
        assert_eq!((found.fixed.len(), found.stable_count()), (9, 4));
        let data = PortraitData {
            system: System::Flow(&net),
            u: u.view(),
            found: &found,
            runs: &[],
            cycle: None,
            ends: &[],
            reference: None,
            bound: 1.0,
        };
        let p = fixed_point_portrait(&data).unwrap();
        assert_eq!(p.points.len(), 9);
        assert_eq!(p.points.iter().filter(|q| q.1).count(), 4);
        assert_eq!(p.nullclines.len(), 2);
        // Every fixed point lies within a grid cell of a segment of each nullcline.
        let cell = 2.1 / (FIELD_GRID - 1) as f64;
        for &((x, y), _, _) in &p.points {
            for segments in &p.nullclines {
                let near = segments.iter().any(|&((a, b), (c, e))| {
                    (a - x).abs().min((c - x).abs()) < 2.0 * cell && (b - y).abs().min((e - y).abs()) < 2.0 * cell
                });
                assert!(near, "({x}, {y})");
            }
        }
        let bad = PortraitData { bound: f64::NAN, ..data };
        assert!(fixed_point_portrait(&bad).unwrap_err().to_string().contains("bound"));
    }
}
