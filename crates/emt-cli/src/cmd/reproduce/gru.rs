//! `emt reproduce gru`: continuous-time GRUs in 2-D (Jordan, Sokol & Park).

use std::path::PathBuf;

use emt_core::cells::ModelFile;
use emt_core::{Result, rng};
use emt_dynamics::fit_period_divergence;
use ndarray::{Array1, Array2};
use serde_json::{Value, json};

#[derive(clap::Args, Debug)]
pub struct GruArgs {
    /// Random 2-D ctgru parameter sets searched for the most fixed points.
    #[arg(long, default_value_t = 3000)]
    samples: usize,
    /// Seed of the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where the most multistable network found is saved.
    #[arg(long, default_value = "runs/gru")]
    out: PathBuf,
    /// A reduced setting for CI: 200 samples.
    #[arg(long)]
    quick: bool,
}

/// The fixed points of a 2-D ctgru, certified complete in [-1, 1]^2 (every fixed point is there),
/// and how many are stable. `None` if the enumeration left boxes undecided.
fn certified_census(net: &emt_core::cells::CtGruWeights) -> Result<Option<(usize, usize)>> {
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
    let mut stable = 0;
    for z in &found.zeros {
        let jac = net.jacobian(z.point.view(), Array1::zeros(Flow::input_dim(net)).view())?;
        let eig = emt_linalg::eigenvalues(jac.view())?;
        stable += usize::from(eig.iter().all(|e| e.re < 0.0));
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
        // U_r and U_h random (U_z cannot move fixed points: DYNAMICS.md §1), biases of r and h.
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
    // The stable limit cycle of U_h = 4 R(pi/4) (DYNAMICS.md §9).
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
    eprintln!(
        "{samples} random 2-D ctgrus: fixed-point counts {histogram:?} ({undecided} undecided); most: {best_json}; limit cycle period {:.4}",
        cyc.period
    );
    let snic = snic_gallery(a.quick)?;
    Ok(json!({
        "samples": samples,
        "count_histogram": histogram.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "undecided": undecided,
        "most_fixed_points": best_json,
        "constructed_u_h_3i": constructed.map(|(n, s)| json!({"fixed_points": n, "stable": s})),
        "limit_cycle": {"period": cyc.period, "multiplier": cyc.multipliers.first().map(|z| z.norm()), "stable": cyc.stable},
        "snic": snic,
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
    eprintln!("SNIC: saddle-node at b_h[0] = {p_c:.8}; periods {ts:.2?} just below it fit p_c = {fit:.6}");
    Ok(json!({
        "found": true, "saddle_node": p_c, "state": sn.state().to_vec(), "parameters": ps, "periods": ts,
        "fitted_critical": fit, "fit_residual": residual,
    }))
}
