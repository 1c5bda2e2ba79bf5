//! `emt reproduce gru`: continuous-time GRUs in 2-D (Jordan, Sokol & Park).
//!
//! The summary's keys: `samples`, `count_histogram` (certified fixed-point counts of random 2-D
//! ctgrus), `undecided`, `most_fixed_points`, `constructed_u_h_3i`, `limit_cycle`, `snic`
//! (saddle-node located by the sweep vs the period-divergence fit), `pseudo_line` (the
//! hand-built slow manifold: `fixed_points`, `stable` with their `rates`, `slow_span`,
//! `max_speed_in_span`, `curve`, `weights`), `trained_lines` (`dt`, `horizon`, `steps`,
//! `networks`: per seed `mse`, `explained`, `max_error_by_delay` / `rms_error_by_delay` at 1, 10
//! and 100 horizons, `end_states`, `runs_ending_at_stable_points`, `manifold`, `weights`),
//! `seconds`.

use std::path::{Path, PathBuf};

use emt_core::cells::{CtGruWeights, ModelFile};
use emt_core::{Result, rng};
use emt_dynamics::fit_period_divergence;
use emt_rnn::{CellSpec, Curriculum, TanhMode, Trainer, TrainerParams};
use emt_tasks::AnalogMemory;
use ndarray::{Array1, Array2, ArrayView1};
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct GruArgs {
    /// Random 2-D ctgru parameter sets searched for the most fixed points.
    #[arg(long, default_value_t = 3000)]
    samples: usize,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the networks are saved (the most multistable one, the pseudo-line attractor, the
    /// analog-memory networks).
    #[arg(long, default_value = "runs/gru")]
    out: PathBuf,
    /// 2-D ctgrus trained on analog memory (seeds 0..n).
    #[arg(long, default_value_t = 8)]
    line_seeds: u64,
    /// Training steps per analog-memory network.
    #[arg(long, default_value_t = 10_000)]
    line_steps: u64,
    /// Euler step of the analog-memory networks (the task is defined in time units).
    #[arg(long, default_value_t = 0.1)]
    line_dt: f64,
    /// A reduced setting for CI: 200 samples, one analog-memory network of 300 steps.
    #[arg(long)]
    quick: bool,
}

/// The fixed points of a 2-D ctgru, certified complete in [-1, 1]^2 (every fixed point is there):
/// how many, and the stable ones. `None` if the enumeration left boxes undecided.
fn certified_census(net: &CtGruWeights) -> Result<Option<(usize, Vec<Array1<f64>>)>> {
    use emt_core::Flow;
    let field = emt_dynamics::CtGruField::new(net, Array1::zeros(Flow::input_dim(net)).view())?;
    let params = emt_dynamics::CertifiedParams { max_boxes: 200_000, ..Default::default() };
    let found = match emt_dynamics::certified_zeros(&field, &[emt_dynamics::Interval::new(-1.0, 1.0); 2], &params) {
        Ok(f) => f,
        Err(_) => return Ok(None),
    };
    if !found.complete() {
        return Ok(None);
    }
    let mut stable = Vec::new();
    for z in &found.zeros {
        if rates(net, z.point.view())?.iter().all(|&re| re < 0.0) {
            stable.push(z.point.clone());
        }
    }
    Ok(Some((found.zeros.len(), stable)))
}

/// Continuous-time GRUs in 2-D: how many fixed points they can have (a random search with a
/// certified count for each network), a constructed 9-point network, and the limit cycle.
pub(super) fn gru(a: &GruArgs) -> Result<Value> {
    use rand_distr::Distribution;
    let start = std::time::Instant::now();
    let samples = if a.quick { 200 } else { a.samples };
    let mut r = rng::stream(a.seed, 40);
    let mut normal = |scale: f64| -> f64 {
        let x: f64 = rand_distr::StandardNormal.sample(&mut r);
        scale * x
    };
    let mut histogram = std::collections::BTreeMap::new();
    let (mut undecided, mut best): (usize, Option<(usize, usize, emt_core::cells::CtGruWeights)>) = (0, None);
    for _ in 0..samples {
        // U_r and U_h random (U_z cannot move fixed points: docs/DYNAMICS.md §1), biases of r and h.
        let mut u = Array2::zeros((6, 2));
        for row in [0, 1, 4, 5] {
            let scale = if row >= 4 { 3.0 } else { 1.0 };
            for c in 0..2 {
                u[[row, c]] = normal(scale);
            }
        }
        let mut b = Array1::zeros(6);
        for k in [0, 1, 4, 5] {
            b[k] = normal(0.5);
        }
        let net = emt_core::cells::CtGruWeights::new(u, None, Some(b), 0.1, None)?;
        match certified_census(&net)? {
            Some((count, stable)) => {
                let stable = stable.len();
                *histogram.entry(count).or_insert(0usize) += 1;
                if best.as_ref().is_none_or(|b| (count, stable) > (b.0, b.1)) {
                    best = Some((count, stable, net));
                }
            }
            None => undecided += 1,
        }
    }
    std::fs::create_dir_all(&a.out).map_err(|e| emt_core::Error::file(&a.out, e))?;
    let best_json = match &best {
        Some((count, stable, net)) => {
            let path = a.out.join("multistable.safetensors");
            ModelFile::new(emt_core::cells::Model::CtGru(net.clone())).save(&path)?;
            json!({"fixed_points": count, "stable": stable, "weights": path.display().to_string()})
        }
        None => Value::Null,
    };
    // The constructed decoupled network U_h = 3 I: 3 x 3 = 9 fixed points, 4 stable.
    let mut u = Array2::zeros((6, 2));
    u[[4, 0]] = 3.0;
    u[[5, 1]] = 3.0;
    let constructed = certified_census(&emt_core::cells::CtGruWeights::new(u, None, None, 0.1, None)?)?;
    // The stable limit cycle of U_h = 4 R(pi/4) (docs/DYNAMICS.md §9).
    let c = std::f64::consts::FRAC_PI_4.cos() * 4.0;
    let mut u = Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -c], [c, c]]);
    let rot = emt_core::cells::CtGruWeights::new(u, None, None, 0.1, None)?;
    let cyc = emt_dynamics::limit_cycle(
        &rot,
        ndarray::array![0.05, 0.0].view(),
        Array1::zeros(0).view(),
        &Default::default(),
    )?;
    errln!(
        "{samples} random 2-D ctgrus: fixed-point counts {histogram:?} ({undecided} undecided); most: {best_json}; limit cycle period {:.4}",
        cyc.period
    );
    let snic = snic_gallery(a.quick)?;
    let pseudo_net = pseudo_line(0.01, 2.0)?;
    let mut pseudo = slow_manifold(&pseudo_net, 0.05)?;
    let pseudo_path = a.out.join("pseudo_line.safetensors");
    ModelFile::new(emt_core::cells::Model::CtGru(pseudo_net)).save(&pseudo_path)?;
    pseudo["weights"] = json!(pseudo_path.display().to_string());
    let span: Vec<f64> = serde_json::from_value(pseudo["slow_span"].clone()).unwrap_or_default();
    errln!(
        "pseudo-line attractor (eps 0.01, c 2): {} fixed point(s); nullclines within 0.05 over h1 in {span:.2?}, max speed there {:.2e}",
        pseudo["fixed_points"],
        pseudo["max_speed_in_span"].as_f64().unwrap_or(f64::NAN)
    );
    let trained = trained_lines(
        if a.quick { 1 } else { a.line_seeds },
        if a.quick { 300 } else { a.line_steps },
        a.line_dt,
        &a.out,
    )?;
    Ok(json!({
        "samples": samples,
        "count_histogram": histogram.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "undecided": undecided,
        "most_fixed_points": best_json,
        "constructed_u_h_3i": constructed.map(|(n, s)| json!({"fixed_points": n, "stable": s.len()})),
        "limit_cycle": {"period": cyc.period, "multiplier": cyc.multipliers.first().map(|z| z.norm()), "stable": cyc.stable},
        "snic": snic,
        "pseudo_line": pseudo,
        "trained_lines": trained,
        "seconds": start.elapsed().as_secs_f64(),
    }))
}

/// A saddle-node on the cycle of a 2-D ctgru: U_h = 6 R(0.5) carries a stable cycle; raising the
/// bias b_h[0] slows it down until a saddle-node pair appears on it and the cycle vanishes. The
/// saddle-node is located by the sweep (Newton on {f = 0, det Df = 0}); periods measured by
/// shooting just below it are fitted with T ~ (p_c - p)^(-1/2) and the two critical values
/// compared.
fn snic_gallery(quick: bool) -> Result<Value> {
    let (c, s) = (0.5f64.cos() * 6.0, 0.5f64.sin() * 6.0);
    let family = |p: f64| -> Result<emt_dynamics::AsFlow<emt_core::cells::CtGruWeights>> {
        let mut u = Array2::zeros((6, 2));
        u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -s], [s, c]]);
        let mut b = Array1::zeros(6);
        b[4] = p;
        Ok(emt_dynamics::AsFlow(emt_core::cells::CtGruWeights::new(u, None, Some(b), 0.1, None)?))
    };
    // Seeds on a 9 x 9 grid of the box that holds every fixed point.
    let seeds = Array2::from_shape_fn((81, 2), |(k, i)| -0.99 + 1.98 * [k / 9, k % 9][i] as f64 / 8.0);
    let params = emt_dynamics::SweepParams { from: 0.3, to: 0.5, values: if quick { 5 } else { 11 }, tol: 1e-10 };
    let swept = emt_dynamics::sweep(family, Array1::zeros(0).view(), seeds.view(), &params)?;
    let Some(sn) = swept.bifurcations.iter().find(|b| b.name() == "saddle_node") else {
        return Ok(json!({"found": false}));
    };
    let p_c = sn.parameter();
    let deltas: &[f64] = if quick { &[0.004, 0.002, 0.001] } else { &[0.008, 0.004, 0.002, 0.001, 0.0005] };
    let cp = emt_dynamics::CycleParams { transient: 400.0, search: 1500.0, steps: 8000, ..Default::default() };
    let (mut ps, mut ts) = (Vec::new(), Vec::new());
    for &d in deltas {
        let flow = family(p_c - d)?;
        let cyc = emt_dynamics::limit_cycle(&flow.0, ndarray::array![0.0, -0.5].view(), Array1::zeros(0).view(), &cp)?;
        ps.push(p_c - d);
        ts.push(cyc.period);
    }
    let (fit, residual) = fit_period_divergence(&ps, &ts, emt_dynamics::Divergence::SaddleNodeOnCycle)?;
    errln!("SNIC: saddle-node at b_h[0] = {p_c:.8}; periods {ts:.2?} just below it fit p_c = {fit:.6}");
    Ok(json!({
        "found": true, "saddle_node": p_c, "state": sn.state().to_vec(), "parameters": ps, "periods": ts,
        "fitted_critical": fit, "fit_residual": residual,
    }))
}

/// Eigenvalues (real parts, ascending) of a flow's Jacobian at `h` with zero input.
fn rates(net: &CtGruWeights, h: ArrayView1<'_, f64>) -> Result<Vec<f64>> {
    use emt_core::Flow;
    let jac = net.jacobian(h, Array1::zeros(Flow::input_dim(net)).view())?;
    let mut re: Vec<f64> = emt_linalg::eigenvalues(jac.view())?.iter().map(|z| z.re).collect();
    re.sort_by(f64::total_cmp);
    Ok(re)
}

/// A pseudo-line attractor built by hand (no input): with r = z = 1/2, U_h = 2W and
/// W = [[1 + 1/c^2 - eps, -1/c^3], [c, 0]]. At eps = 0 the nullclines h2 = (atanh h1 - W11 h1)/W12
/// and h2 = tanh(c h1) share their linear and cubic Taylor terms and part only at h1^5; eps > 0
/// leaves one stable node at the origin whose Jacobian (1/2)(W - I) has trace
/// (1/c^2 - 1 - eps)/2 and determinant eps/4, so a slow eigenvalue of about
/// -eps / (2 (1 - 1/c^2 + eps)). The flow along the curve is slow over a finite stretch but
/// nowhere zero except at the node: an approximate line attractor, the paper's point.
fn pseudo_line(eps: f64, c: f64) -> Result<CtGruWeights> {
    let mut u = Array2::zeros((6, 2));
    u[[4, 0]] = 2.0 * (1.0 + 1.0 / (c * c) - eps);
    u[[4, 1]] = -2.0 / (c * c * c);
    u[[5, 0]] = 2.0 * c;
    CtGruWeights::new(u, None, None, 0.1, None)
}

/// What makes a 2-D flow an approximate line attractor: the certified fixed points, the rates
/// at the stable ones, and along the h2-nullcline (the slow curve when both nullclines are
/// close) over h1 in [-0.9, 0.9]: the gap to the other nullcline and the speed |f|. `slow_span`
/// is the longest h1-interval where the gap stays below `gap_tol`, `max_speed_in_span` the
/// fastest |f| there (`emt_dynamics::slow_manifold` with its default grid).
fn slow_manifold(net: &CtGruWeights, gap_tol: f64) -> Result<Value> {
    use emt_core::Flow;
    let census = certified_census(net)?;
    let zero = Array1::zeros(Flow::input_dim(net));
    let mut stable = Vec::new();
    for p in census.iter().flat_map(|c| &c.1) {
        stable.push(json!({"state": p.to_vec(), "rates": rates(net, p.view())?}));
    }
    let params = emt_dynamics::SlowManifoldParams { gap_tol, ..Default::default() };
    let m = emt_dynamics::slow_manifold(net, zero.view(), &params)?;
    let curve: Vec<Value> =
        m.curve.iter().map(|p| json!({"h1": p.x1, "h2": p.x2, "gap": p.gap, "speed": p.speed})).collect();
    Ok(json!({
        "fixed_points": census.as_ref().map(|c| c.0), "stable": stable,
        "slow_span": m.slow_span, "max_speed_in_span": m.max_speed_in_span, "curve": curve,
    }))
}

/// Trains 2-D ctgrus (Euler step `dt`, biases, Adam lr 1e-2, clip 1, batch 64, `steps` steps,
/// exact tanh) on [`AnalogMemory`] (amplitudes in [-1, 1], pulses 1 time unit long, one per 10
/// time units on average, H = 30 time units). A small dt (0.1) keeps the trained Euler map close
/// to the analysed flow: at dt = 0.5 three of eight networks had a period-2 orbit of the map
/// that the flow does not have. Then it measures how well and how long each remembers: the evaluation MSE
/// against the 1/3 of always answering 0; then, for 41 amplitudes from h = 0, the readout's
/// error (max and RMS) 1, 10 and 100 horizons after the pulse (a line attractor would keep it constant), the
/// number of distinct states the 41 runs end in (a line attractor: 41) and how many runs end on
/// a certified stable fixed point, the certified fixed points and the slow manifold. Models go to `out/analog_seed{s}.safetensors`.
fn trained_lines(seeds: u64, steps: u64, dt: f64, out: &Path) -> Result<Value> {
    use emt_core::Task;
    if !(dt.is_finite() && dt > 0.0 && dt <= 1.0) {
        return Err(emt_core::Error::param("--line-dt", dt, "must be in (0, 1]"));
    }
    // In time units whatever dt: pulses 1 long, one per 10 on average, H = 30.
    let (horizon, pulse) = ((30.0 / dt).round() as usize, (1.0 / dt).round().max(1.0) as usize);
    let task = AnalogMemory::new(1.0, (dt / 10.0).min(1.0), pulse)?;
    let mut nets = Vec::new();
    for seed in 0..seeds {
        let settings = TrainerParams::paper()
            .cell(CellSpec::CtGru { dt })
            .hidden(2)
            .bias(true)
            .lr(1e-2)
            .curriculum(Curriculum::new(vec![horizon], 1.0)?)
            .eval_horizon(horizon)
            .eval_batch(512)
            .eval_every(steps.max(1))
            .target_accuracy(None)
            .max_steps(steps)
            .tanh(TanhMode::Exact)
            .seed(seed);
        let mut trainer = Trainer::new(task, settings)?;
        let report = trainer.run(&mut [])?;
        let file = ModelFile::new(trainer.model()?);
        let emt_core::cells::Model::CtGru(net) = &file.model else {
            return Err(emt_core::Error::param("cell", file.model.kind().name(), "expected a ctgru"));
        };
        let path = out.join(format!("analog_seed{seed}.safetensors"));
        file.save(&path)?;
        // 41 amplitudes, a 2-step pulse from h = 0, then 100 horizons of silence.
        let amps: Vec<f64> = (0..41).map(|i| -1.0 + i as f64 / 20.0).collect();
        let total = pulse + 100 * horizon;
        let mut x = ndarray::Array3::zeros((total, amps.len(), task.input_dim()));
        for (b, &u) in amps.iter().enumerate() {
            x.slice_mut(ndarray::s![..pulse, b, 0]).fill(u);
        }
        let traj = file.simulate(x.view(), None)?;
        let err_at = |delay: usize| -> f64 {
            let t = pulse - 1 + delay;
            amps.iter().enumerate().map(|(b, u)| (traj.outputs[[t, b, 0]] - u).abs()).fold(0.0, f64::max)
        };
        let errors = [err_at(horizon), err_at(10 * horizon), err_at(100 * horizon)];
        let rms_at = |delay: usize| -> f64 {
            let t = pulse - 1 + delay;
            let sq: f64 = amps.iter().enumerate().map(|(b, u)| (traj.outputs[[t, b, 0]] - u).powi(2)).sum();
            (sq / amps.len() as f64).sqrt()
        };
        let rms = [rms_at(horizon), rms_at(10 * horizon), rms_at(100 * horizon)];
        let mut ends: Vec<Array1<f64>> = Vec::new();
        for b in 0..amps.len() {
            let h = traj.hidden.slice(ndarray::s![total - 1, b, ..]).to_owned();
            if ends.iter().all(|e| (e - &h).mapv(f64::abs).sum() > 1e-3) {
                ends.push(h);
            }
        }
        let manifold = slow_manifold(net, 0.05)?;
        // Runs that ended on a certified stable fixed point (the rest sit on a saddle's stable
        // manifold or are still moving).
        let stable_points: Vec<Vec<f64>> = manifold["stable"]
            .as_array()
            .map(|v| v.iter().filter_map(|p| serde_json::from_value(p["state"].clone()).ok()).collect())
            .unwrap_or_default();
        let ends_at_stable = (0..amps.len())
            .filter(|&b| {
                let h = traj.hidden.slice(ndarray::s![total - 1, b, ..]);
                stable_points.iter().any(|p| p.iter().zip(h.iter()).map(|(a, b)| (a - b).abs()).sum::<f64>() < 1e-3)
            })
            .count();
        let mse = report.eval.stats.loss;
        errln!(
            "analog memory, 2-D ctgru seed {seed}: MSE {mse:.4} (baseline 0.333), RMS error after 1/10/100 horizons {rms:.3?}, {} distinct end states ({ends_at_stable}/41 runs on a stable point), {} fixed points",
            ends.len(),
            manifold["fixed_points"]
        );
        nets.push(json!({
            "seed": seed, "mse": mse, "explained": 1.0 - mse * 3.0, "max_error_by_delay": {"1": errors[0], "10": errors[1], "100": errors[2]},
            "rms_error_by_delay": {"1": rms[0], "10": rms[1], "100": rms[2]},
            "end_states": ends.len(), "end_state_list": ends.iter().map(|e| e.to_vec()).collect::<Vec<_>>(), "runs_ending_at_stable_points": ends_at_stable, "manifold": manifold, "weights": path.display().to_string(),
        }));
    }
    Ok(json!({"dt": dt, "horizon": horizon, "steps": steps, "networks": nets}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-built pseudo-line attractor against its closed form: one certified fixed point,
    /// the origin, with the eigenvalues of (1/2)(W - I); the h2-nullcline is h2 = tanh(c h1);
    /// the nullclines stay close over a finite stretch only, and the flow there is slow but
    /// nonzero away from the node.
    #[test]
    fn pseudo_line_attractor_matches_its_closed_form() {
        let (eps, c) = (0.01, 2.0);
        let net = pseudo_line(eps, c).unwrap();
        let (count, stable) = certified_census(&net).unwrap().unwrap();
        assert_eq!((count, stable.len()), (1, 1));
        assert!(stable[0].iter().all(|v| v.abs() < 1e-12));
        let (tr, det) = ((1.0 / (c * c) - 1.0 - eps) / 2.0, eps / 4.0);
        let disc = (tr * tr - 4.0 * det).sqrt();
        let want = [(tr - disc) / 2.0, (tr + disc) / 2.0];
        let got = rates(&net, stable[0].view()).unwrap();
        for k in 0..2 {
            assert!((got[k] - want[k]).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        assert!(
            (want[1] / (-eps / (2.0 * (1.0 - 1.0 / (c * c) + eps))) - 1.0).abs() < 0.03,
            "the slow rate's first-order form"
        );
        for h1 in [-0.7, -0.3, 0.1, 0.5] {
            let zero = ndarray::Array1::zeros(emt_core::Flow::input_dim(&net));
            let h2 = emt_dynamics::nullcline(&net, zero.view(), 1, h1, [-1.0, 1.0], 200).unwrap();
            assert_eq!(h2.len(), 1);
            assert!((h2[0] - (c * h1).tanh()).abs() < 1e-10);
        }
        let m = slow_manifold(&net, 0.05).unwrap();
        let span: Vec<f64> = serde_json::from_value(m["slow_span"].clone()).unwrap();
        assert!(span[0] < -0.2 && span[1] > 0.2 && span[1] < 0.9, "{span:?}");
        let speed = m["max_speed_in_span"].as_f64().unwrap();
        assert!(speed > 1e-4 && speed < 1e-2, "{speed}");
        // Without eps the node is degenerate and the stretch widens: the construction, not the
        // tolerance, makes it slow.
        let wider: Vec<f64> =
            serde_json::from_value(slow_manifold(&pseudo_line(0.001, c).unwrap(), 0.05).unwrap()["slow_span"].clone())
                .unwrap();
        assert!(wider[1] - wider[0] > span[1] - span[0], "{wider:?} vs {span:?}");
    }
}
