//! `emt sweep-param`: vary one scalar of a model file and follow its fixed points, attractor and
//! period; locate the bifurcations.
//!
//! ```text
//! emt sweep-param --weights F --param NAME[INDEX] --from a --to b --steps n [--continuation]
//! ```
//!
//! `NAME[INDEX]` is a tensor of the file and an index into it (flat, `weight_hh_l0[5]`, or one
//! per axis, `weight_hh_l0[1,2]`), or a metadata constant without an index (`alpha`, `dt`,
//! `omega`, `tau_z`, ...). At each of the `n` values from `a` to `b`: fixed points (seeded at the
//! first value by `--starts` states in the box that holds every fixed point and their zero-input
//! trajectories, then continued), their types, and the zero-input attractor (kind, period,
//! range of coordinate `--coord` over it). Between values: saddle-node, Hopf (flows),
//! Neimark-Sacker and flip (maps) points, each refined to `--tol`. Where the attractor is a
//! cycle whose period grows towards the end of the cycles' range, the period is fitted by
//! `T ~ (p - p_c)^(-1/2)` (saddle-node on the cycle) and `T ~ -(1/lambda_u) ln|p - p_c|`
//! (homoclinic to the saddle with unstable eigenvalue `lambda_u`), and the better fit reported.
//!
//! Output: one JSON line per value on stdout (`parameter`, `count`, `stable_count`,
//! `fixed_points` [{`state`, `stable`, `unstable_dims`, `leading_eigenvalue`}], `attractor`,
//! `period`, `range`), then the summary as the last line: `param`, `cell`, `from`, `to`,
//! `steps`, `coord`, `bifurcations` [{`kind`: "saddle_node" | "hopf" | "neimark_sacker" |
//! "flip", `parameter`, `state`, `omega` | `angle`}], `period_divergence` (null or {`kind`:
//! "saddle_node_on_cycle" | "homoclinic", `critical`, `residual`, `fits`}) and, with
//! `--continuation`, `branches` [{`points`: [[p, x_coord, stable], ...], `folds`: [p, ...]}]
//! from pseudo-arclength continuation of every fixed point of the first value. The human
//! summary goes to stderr, so `> sweep.jsonl` keeps only JSON; `emt plot bifurcation` draws it.

use std::path::PathBuf;

use emt_core::cells::{Model, ModelFile};
use emt_core::io::{ParamPath, Tensors};
use emt_core::{Error, Result};
use emt_dynamics::{
    AsSystem, AttractorKind, AttractorParams, Bifurcation, ContinuationParams, Divergence, FixedPointParams,
    SeedParams, Stability, SweepParams, System, classify_attractor, continue_branch, find_fixed_points, seed_states,
    sweep,
};
use ndarray::Array1;
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Model file (any cell).
    #[arg(long)]
    weights: PathBuf,
    /// The scalar to vary: TENSOR[INDEX] (flat or per-axis index) or a metadata constant.
    #[arg(long)]
    param: String,
    /// First value.
    #[arg(long)]
    from: f64,
    /// Last value.
    #[arg(long)]
    to: f64,
    /// Number of values (>= 2), ends included.
    #[arg(long, default_value_t = 21)]
    steps: usize,
    /// Parameter tolerance of the located bifurcations.
    #[arg(long, default_value_t = 1e-8)]
    tol: f64,
    /// Random starting states for the fixed-point search at the first value.
    #[arg(long, default_value_t = 32)]
    starts: usize,
    /// Seed of the starting states (and of the attractor run's start when the file has no h0).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// State coordinate reported as `range` and drawn by `emt plot bifurcation`.
    #[arg(long, default_value_t = 0)]
    coord: usize,
    /// Also continue every fixed point of the first value by pseudo-arclength.
    #[arg(long)]
    continuation: bool,
    /// Steps (maps) or time (flows) the attractor run examines after its transient (default
    /// 2000 steps / 200 time units; near a SNIC or homoclinic point the period grows past that,
    /// and the run must outlast several periods to see the cycle).
    #[arg(long)]
    length: Option<f64>,
}

/// The model with the swept scalar set to `value`.
fn model_at(t: &Tensors, target: &ParamPath, value: f64) -> Result<Model> {
    Ok(ModelFile::from_tensors(&target.set(t, value)?)?.model)
}

fn bifurcation_json(b: &Bifurcation) -> Value {
    let mut j = json!({"kind": b.name(), "parameter": b.parameter(), "state": b.state().to_vec()});
    match b {
        Bifurcation::Hopf { omega, .. } => j["omega"] = json!(omega),
        Bifurcation::NeimarkSacker { angle, .. } => j["angle"] = json!(angle),
        _ => {}
    }
    j
}

/// The attractor of the zero-input run at one value: kind, period, range of `coord` over it.
fn attractor(
    model: &Model,
    x0: &Array1<f64>,
    coord: usize,
    length: Option<f64>,
) -> Result<(AttractorKind, Option<f64>, [f64; 2])> {
    let system = model.system()?;
    let mut params = AttractorParams::for_system(system);
    if let Some(l) = length {
        params.length = l;
        params.transient = params.transient.max(l / 2.0);
    }
    let u = Array1::zeros(model.input_dim());
    let a = classify_attractor(system, x0.view(), u.view(), &params)?;
    // The range over one period (or 200 steps) of the cell's step map from the final state.
    let steps = a.period.map_or(200, |p| ((p / model.step_time()).ceil() as usize).clamp(1, 100_000));
    let range = emt_dynamics::orbit_range(model.cell().map().as_ref(), a.state.view(), u.view(), steps, coord)?;
    Ok((a.kind, a.period, range))
}

/// The JSON of [`emt_dynamics::locate_cycle_loss`]: `kind`, `critical`, `residual`, `fits` (per
/// law: `critical`, `residual`, and `lambda_u` for the homoclinic one), `periods`, `parameters`.
fn period_divergence(rows: &[(f64, Option<f64>, f64)]) -> Option<Value> {
    let d = emt_dynamics::locate_cycle_loss(rows)?;
    let mut fits = serde_json::Map::new();
    for f in &d.fits {
        let mut j = json!({"critical": f.critical, "residual": f.residual});
        if let Divergence::Homoclinic { lambda_u } = f.kind {
            j["lambda_u"] = json!(lambda_u);
        }
        fits.insert(f.kind.name().into(), j);
    }
    Some(json!({
        "kind": d.best.kind.name(), "critical": d.best.critical, "residual": d.best.residual, "fits": fits,
        "periods": d.periods, "parameters": d.parameters,
    }))
}

pub fn run(args: &Args) -> Result<Value> {
    if args.steps < 2 {
        return Err(Error::param("--steps", args.steps, "must be at least 2"));
    }
    if !(args.from.is_finite() && args.to.is_finite()) || args.from == args.to {
        return Err(Error::param("--from/--to", format!("{} .. {}", args.from, args.to), "must be finite and differ"));
    }
    let tensors = Tensors::read(&args.weights)?;
    let target = ParamPath::parse(&args.param, &tensors)?;
    let file = ModelFile::from_tensors(&tensors)?;
    let model0 = model_at(&tensors, &target, args.from)?;
    let (n, d) = (model0.state_dim(), model0.input_dim());
    if args.coord >= n {
        return Err(Error::param("--coord", args.coord, format!("the state has {n} coordinates")));
    }
    let u = Array1::zeros(d);
    // Seeds at the first value: box starts, the file's h0, and their zero-input trajectories.
    let p = SeedParams { starts: args.starts, noise: 0.02, seed: args.seed, ..Default::default() };
    let seeds = seed_states(model0.system()?, u.view(), file.h0.as_ref().map(|h| h.view()), &p)?.seeds;
    let bar = crate::common::progress_bar(args.steps as u64);
    bar.set_message("fixed points");
    let params = SweepParams { from: args.from, to: args.to, values: args.steps, tol: args.tol };
    let swept = sweep(
        |p| {
            bar.inc(1);
            model_at(&tensors, &target, p)
        },
        u.view(),
        seeds.view(),
        &params,
    )?;
    bar.finish_and_clear();
    let x0 = file.start_state(args.seed);
    let flow = matches!(model0.system()?, System::Flow(_));
    let mut rows = Vec::new();
    for pt in &swept.points {
        let model = model_at(&tensors, &target, pt.parameter)?;
        let (kind, period, range) = attractor(&model, &x0, args.coord, args.length)?;
        let cycle = matches!(kind, AttractorKind::LimitCycle | AttractorKind::InvariantCircle);
        // The unstable eigenvalue of a saddle there (per unit time, or ln|mu| per step).
        let lambda_u = pt
            .fixed
            .iter()
            .filter(|f| f.unstable_dims == 1)
            .map(|f| {
                let z = f.leading_eigenvalue();
                if flow { z.re } else { z.norm().ln() }
            })
            .fold(f64::NAN, f64::max);
        rows.push((pt.parameter, if cycle { period } else { None }, lambda_u));
        let line = json!({
            "parameter": pt.parameter,
            "count": pt.fixed.len(),
            "stable_count": pt.fixed.iter().filter(|f| f.stability == Stability::Stable).count(),
            "fixed_points": pt.fixed.iter().map(|f| {
                let z = f.leading_eigenvalue();
                json!({"state": f.state.to_vec(), "stable": f.stability == Stability::Stable,
                       "unstable_dims": f.unstable_dims, "leading_eigenvalue": [z.re, z.im]})
            }).collect::<Vec<_>>(),
            "attractor": kind.name(),
            "period": period,
            "range": range,
        });
        outln!("{line}");
        errln!(
            "{} = {:+.6}: {} fixed points ({} stable), {}{}",
            args.param,
            pt.parameter,
            pt.fixed.len(),
            pt.fixed.iter().filter(|f| f.stability == Stability::Stable).count(),
            kind.name(),
            period.map_or(String::new(), |p| format!(", period {p:.4}"))
        );
    }
    for b in &swept.bifurcations {
        errln!("{} at {} = {:.8}", b.name(), args.param, b.parameter());
    }
    let divergence = period_divergence(&rows);
    if let Some(dv) = &divergence {
        errln!("period divergence: {} at {}", dv["kind"], dv["critical"]);
    }
    let mut summary = json!({
        "param": args.param,
        "original": target.get(&tensors),
        "cell": model0.kind().name(),
        "from": args.from,
        "to": args.to,
        "steps": args.steps,
        "coord": args.coord,
        "bifurcations": swept.bifurcations.iter().map(bifurcation_json).collect::<Vec<_>>(),
        "period_divergence": divergence,
    });
    if args.continuation {
        let (lo, hi) = (args.from.min(args.to), args.from.max(args.to));
        let ds = (hi - lo) / (4.0 * args.steps as f64);
        let mut branches = Vec::new();
        let fps = find_fixed_points(model0.system()?, u.view(), seeds.view(), &FixedPointParams::default())?.fixed;
        for fp in &fps {
            let cp = ContinuationParams {
                ds: if args.to > args.from { ds } else { -ds },
                ds_max: 2.0 * ds,
                ds_min: ds * 1e-4,
                steps: 40 * args.steps,
                p_min: lo,
                p_max: hi,
                tol: 1e-10,
            };
            let b = continue_branch(|p| model_at(&tensors, &target, p), u.view(), fp.state.view(), args.from, &cp)?;
            branches.push(json!({
                "points": b.points.iter().map(|q| json!([q.parameter, q.state[args.coord], q.stable])).collect::<Vec<_>>(),
                "folds": b.folds.iter().map(|f| f.parameter()).collect::<Vec<_>>(),
                "end": format!("{:?}", b.end),
            }));
        }
        summary["branches"] = json!(branches);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SNIC at p_c = 1 (T = 2 pi / sqrt(p^2 - 1)) where the cycle exists for p > 1, swept
    /// downwards: the fit at the lost end recovers p_c.
    #[test]
    fn the_period_divergence_fit_finds_a_snic_at_the_end_of_the_cycles() {
        let mut rows: Vec<(f64, Option<f64>, f64)> = (0..14)
            .map(|k| {
                let p = 1.2 - 0.02 * k as f64;
                (p, (p > 1.0).then(|| 2.0 * std::f64::consts::PI / (p * p - 1.0).sqrt()), f64::NAN)
            })
            .collect();
        let j = period_divergence(&rows).expect("a fit");
        assert_eq!(j["kind"], "saddle_node_on_cycle");
        // 1/T^2 = (p^2 - 1)/(4 pi^2) is only linear near p_c: 2e-3 off from 0.02-0.12 away.
        assert!((j["critical"].as_f64().unwrap() - 1.0).abs() < 3e-3, "{j}");
        // Cycles everywhere: nothing diverges inside the range.
        rows.iter_mut().for_each(|r| r.1 = Some(5.0 + r.0));
        assert!(period_divergence(&rows).is_none());
    }
}
