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
    Bifurcation, Divergence, ParameterSweepParams, PeriodDivergence, Stability, SweepParams, parameter_sweep,
};
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

/// The JSON of a [`PeriodDivergence`]: `kind`, `critical`, `residual`, `fits` (per law:
/// `critical`, `residual`, and `lambda_u` for the homoclinic one), `periods`, `parameters`.
fn divergence_json(d: &PeriodDivergence) -> Value {
    let mut fits = serde_json::Map::new();
    for f in &d.fits {
        let mut j = json!({"critical": f.critical, "residual": f.residual});
        if let Divergence::Homoclinic { lambda_u } = f.kind {
            j["lambda_u"] = json!(lambda_u);
        }
        fits.insert(f.kind.name().into(), j);
    }
    json!({
        "kind": d.best.kind.name(), "critical": d.best.critical, "residual": d.best.residual, "fits": fits,
        "periods": d.periods, "parameters": d.parameters,
    })
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
    let n = model0.state_dim();
    if args.coord >= n {
        return Err(Error::param("--coord", args.coord, format!("the state has {n} coordinates")));
    }
    let params = ParameterSweepParams {
        sweep: SweepParams { from: args.from, to: args.to, values: args.steps, tol: args.tol },
        starts: args.starts,
        seed: args.seed,
        coord: args.coord,
        length: args.length,
        continuation: args.continuation,
    };
    // The sweep asks for the model at each value, at the bisections and again for each
    // attractor: a spinner counting the models built says it is alive.
    let bar = crate::common::progress_bar(args.steps as u64);
    bar.set_message("models built (fixed points, bifurcations, attractors)");
    let family = |p| {
        bar.inc(1);
        model_at(&tensors, &target, p)
    };
    let x0 = file.start_state(args.seed);
    let swept = parameter_sweep(family, x0.view(), file.h0.as_ref().map(|h| h.view()), &params)?;
    bar.finish_and_clear();
    for v in &swept.values {
        let stable = v.fixed.iter().filter(|f| f.stability == Stability::Stable).count();
        let line = json!({
            "parameter": v.parameter,
            "count": v.fixed.len(),
            "stable_count": stable,
            "fixed_points": v.fixed.iter().map(|f| {
                let z = f.leading_eigenvalue();
                json!({"state": f.state.to_vec(), "stable": f.stability == Stability::Stable,
                       "unstable_dims": f.unstable_dims, "leading_eigenvalue": [z.re, z.im]})
            }).collect::<Vec<_>>(),
            "attractor": v.attractor.name(),
            "period": v.period,
            "range": v.range,
        });
        outln!("{line}");
        errln!(
            "{} = {:+.6}: {} fixed points ({} stable), {}{}",
            args.param,
            v.parameter,
            v.fixed.len(),
            stable,
            v.attractor.name(),
            v.period.map_or(String::new(), |p| format!(", period {p:.4}"))
        );
    }
    for b in &swept.bifurcations {
        errln!("{} at {} = {:.8}", b.name(), args.param, b.parameter());
    }
    let divergence = swept.divergence.as_ref().map(divergence_json);
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
        let branches: Vec<Value> = swept
            .branches
            .iter()
            .map(|b| {
                json!({
                    "points": b.points.iter().map(|q| json!([q.parameter, q.state[args.coord], q.stable])).collect::<Vec<_>>(),
                    "folds": b.folds.iter().map(|f| f.parameter()).collect::<Vec<_>>(),
                    "end": format!("{:?}", b.end),
                })
            })
            .collect();
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
        let period_divergence =
            |rows: &[(f64, Option<f64>, f64)]| emt_dynamics::locate_cycle_loss(rows).map(|d| divergence_json(&d));
        let j = period_divergence(&rows).expect("a fit");
        assert_eq!(j["kind"], "saddle_node_on_cycle");
        // 1/T^2 = (p^2 - 1)/(4 pi^2) is only linear near p_c: 2e-3 off from 0.02-0.12 away.
        assert!((j["critical"].as_f64().unwrap() - 1.0).abs() < 3e-3, "{j}");
        // Cycles everywhere: nothing diverges inside the range.
        rows.iter_mut().for_each(|r| r.1 = Some(5.0 + r.0));
        assert!(period_divergence(&rows).is_none());
    }
}
