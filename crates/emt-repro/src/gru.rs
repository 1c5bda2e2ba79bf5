//! Continuous-time GRUs in 2-D (Jordan, Sokol & Park): the repertoire of a 2-D ctgru (certified
//! multistability, a limit cycle, a saddle-node on the cycle, a pseudo-line attractor) and 2-D
//! ctgrus trained to remember a continuous value.
//!
//! One function per panel ([`multistability`], [`limit_cycle`], [`snic`], [`pseudo_line`] with
//! [`slow_manifold`], [`trained_lines`]); [`run`] runs them all and saves the networks.
//!
//! ```
//! use emt_repro::gru::{certified_census, pseudo_line_network, slow_manifold};
//!
//! // The hand-built pseudo-line attractor: one certified fixed point, a long slow stretch.
//! let net = pseudo_line_network(0.01, 2.0)?;
//! let census = certified_census(&net)?.expect("decided");
//! assert_eq!((census.count, census.stable.len()), (1, 1));
//! let m = slow_manifold(&net, 0.05)?;
//! let [lo, hi] = m.slow_span.expect("a slow stretch");
//! assert!(lo < -0.2 && hi > 0.2);
//! # Ok::<(), emt_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use emt_core::cells::{CtGruWeights, Model, ModelFile};
use emt_core::{Error, Flow, Result, rng};
use emt_dynamics::fit_period_divergence;
use emt_rnn::{CellSpec, Curriculum, TanhMode, Trainer, TrainerParams};
use emt_tasks::AnalogMemory;
use ndarray::{Array1, Array2, ArrayView1};
use serde::Serialize;

use crate::Say;

/// What to compute. `Default` is the paper-scale run; [`GruSettings::quick`] the CI one.
#[derive(Debug, Clone, PartialEq)]
pub struct GruSettings {
    /// Random 2-D ctgru parameter sets searched for the most fixed points.
    pub samples: usize,
    /// Seed of the search.
    pub seed: u64,
    /// Where the networks are saved (the most multistable one, the pseudo-line attractor, the
    /// analog-memory networks); created if missing.
    pub out: PathBuf,
    /// Values of `b_h[0]` in the saddle-node sweep over `[0.3, 0.5]`.
    pub snic_values: usize,
    /// Distances below the saddle-node where the cycle's period is measured for the fit.
    pub snic_deltas: Vec<f64>,
    /// 2-D ctgrus trained on analog memory (seeds 0..n).
    pub line_seeds: u64,
    /// Training steps per analog-memory network.
    pub line_steps: u64,
    /// Euler step of the analog-memory networks, in (0, 1] (the task is in time units).
    pub line_dt: f64,
}

impl Default for GruSettings {
    fn default() -> Self {
        Self {
            samples: 3000,
            seed: 0,
            out: PathBuf::from("runs/gru"),
            snic_values: 11,
            snic_deltas: vec![0.008, 0.004, 0.002, 0.001, 0.0005],
            line_seeds: 8,
            line_steps: 10_000,
            line_dt: 0.1,
        }
    }
}

impl GruSettings {
    /// The CI setting: 200 samples, a 5-value sweep with 3 periods, one analog-memory network
    /// of 300 steps.
    pub fn quick() -> Self {
        Self {
            samples: 200,
            snic_values: 5,
            snic_deltas: vec![0.004, 0.002, 0.001],
            line_seeds: 1,
            line_steps: 300,
            ..Self::default()
        }
    }

    /// Errors naming the first setting out of range.
    pub fn check(&self) -> Result<()> {
        if !(self.line_dt.is_finite() && self.line_dt > 0.0 && self.line_dt <= 1.0) {
            return Err(Error::param("--line-dt", self.line_dt, "must be in (0, 1]"));
        }
        if self.snic_values < 2 {
            return Err(Error::param("snic_values", self.snic_values, "must be >= 2"));
        }
        if let Some(d) = self.snic_deltas.iter().find(|d| !(d.is_finite() && **d > 0.0 && **d < 0.2)) {
            return Err(Error::param("snic_deltas", d, "must be in (0, 0.2)"));
        }
        Ok(())
    }
}

/// Everything [`run`] measured (serialises to `emt reproduce gru`'s JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GruReport {
    /// Random networks searched.
    pub samples: usize,
    /// How many networks had each certified fixed-point count (keys are the counts).
    pub count_histogram: BTreeMap<String, usize>,
    /// Networks whose enumeration left boxes undecided.
    pub undecided: usize,
    /// The network with the most (then most stable) fixed points, if any was decided.
    pub most_fixed_points: Option<Multistable>,
    /// The decoupled U_h = 3 I: 9 fixed points, 4 stable (None if undecided).
    pub constructed_u_h_3i: Option<Count>,
    /// The stable cycle of U_h = 4 R(pi/4).
    pub limit_cycle: CycleSummary,
    /// The saddle-node on the cycle.
    pub snic: Snic,
    /// The hand-built pseudo-line attractor.
    pub pseudo_line: Manifold,
    /// The analog-memory networks.
    pub trained_lines: TrainedLines,
    /// Wall time of the run.
    pub seconds: f64,
}

/// A certified fixed-point count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    /// Fixed points in [-1, 1]^2 (all of them).
    pub fixed_points: usize,
    /// Stable ones.
    pub stable: usize,
}

/// The most multistable random network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Multistable {
    /// Fixed points.
    pub fixed_points: usize,
    /// Stable ones.
    pub stable: usize,
    /// Where it was saved.
    pub weights: String,
}

/// A limit cycle in brief.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleSummary {
    /// Period.
    pub period: f64,
    /// |mu| of the nontrivial Floquet multiplier.
    pub multiplier: Option<f64>,
    /// Whether the cycle attracts.
    pub stable: bool,
}

/// The saddle-node on the cycle: located by the sweep, and by the period-divergence fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snic {
    /// Whether the sweep located a saddle-node.
    pub found: bool,
    /// The measurements, when found.
    #[serde(flatten)]
    pub located: Option<SnicFound>,
}

/// A located saddle-node on the cycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnicFound {
    /// `b_h[0]` at the saddle-node (Newton on {f = 0, det Df = 0}).
    pub saddle_node: f64,
    /// The state there.
    pub state: Vec<f64>,
    /// Parameters just below it where the period was measured.
    pub parameters: Vec<f64>,
    /// The periods there.
    pub periods: Vec<f64>,
    /// The critical value of the fit T ~ (p_c - p)^(-1/2).
    pub fitted_critical: f64,
    /// The fit's residual.
    pub fit_residual: f64,
}

/// A stable fixed point with its rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StablePoint {
    /// The state.
    pub state: Vec<f64>,
    /// Real parts of the Jacobian's eigenvalues, ascending.
    pub rates: Vec<f64>,
}

/// One point of the slow curve (the h2-nullcline).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// h1.
    pub h1: f64,
    /// h2 on the nullcline.
    pub h2: f64,
    /// Gap to the other nullcline.
    pub gap: f64,
    /// |f| there.
    pub speed: f64,
}

/// What makes a 2-D flow an approximate line attractor ([`slow_manifold`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifold {
    /// Certified fixed points (None if the enumeration left boxes undecided).
    pub fixed_points: Option<usize>,
    /// The stable ones with their rates.
    pub stable: Vec<StablePoint>,
    /// The longest h1-interval where the nullclines stay within the tolerance.
    pub slow_span: Option<[f64; 2]>,
    /// The fastest |f| there.
    pub max_speed_in_span: f64,
    /// The curve.
    pub curve: Vec<CurvePoint>,
    /// Where the network was saved (the pseudo-line attractor only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<String>,
}

/// A readout error 1, 10 and 100 horizons after the pulse.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByDelay {
    /// After 1 horizon.
    #[serde(rename = "1")]
    pub one: f64,
    /// After 10.
    #[serde(rename = "10")]
    pub ten: f64,
    /// After 100.
    #[serde(rename = "100")]
    pub hundred: f64,
}

/// One trained analog-memory network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalogNetwork {
    /// Training seed.
    pub seed: u64,
    /// Evaluation MSE (always answering 0 scores 1/3).
    pub mse: f64,
    /// 1 - 3 MSE.
    pub explained: f64,
    /// Largest readout error over 41 amplitudes.
    pub max_error_by_delay: ByDelay,
    /// RMS readout error over them.
    pub rms_error_by_delay: ByDelay,
    /// Distinct end states of the 41 runs (a line attractor: 41).
    pub end_states: usize,
    /// The end states.
    pub end_state_list: Vec<Vec<f64>>,
    /// Runs ending on a certified stable fixed point.
    pub runs_ending_at_stable_points: usize,
    /// The slow manifold.
    pub manifold: Manifold,
    /// Where it was saved.
    pub weights: String,
}

/// The analog-memory panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainedLines {
    /// Euler step.
    pub dt: f64,
    /// Horizon in steps (30 time units).
    pub horizon: usize,
    /// Training steps per network.
    pub steps: u64,
    /// The networks.
    pub networks: Vec<AnalogNetwork>,
}

/// The fixed points of a 2-D ctgru certified complete in [-1, 1]^2 (where every fixed point
/// lies): how many, and the stable ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Census {
    /// Fixed points.
    pub count: usize,
    /// The stable ones.
    pub stable: Vec<Array1<f64>>,
}

/// [`Census`] of a 2-D ctgru by [`emt_dynamics::certified_zeros`] (interval Krawczyk tests, at
/// most 200,000 boxes), or `None` if the enumeration left boxes undecided or ran out of boxes.
pub fn certified_census(net: &CtGruWeights) -> Result<Option<Census>> {
    let field = emt_dynamics::CtGruField::new(net, Array1::zeros(Flow::input_dim(net)).view())?;
    let params = emt_dynamics::CertifiedParams { max_boxes: 200_000, ..Default::default() };
    let found = match emt_dynamics::certified_zeros(&field, &[emt_dynamics::Interval::new(-1.0, 1.0); 2], &params) {
        Ok(f) => f,
        Err(Error::Interrupted { what }) => return Err(Error::Interrupted { what }),
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
    Ok(Some(Census { count: found.zeros.len(), stable }))
}

/// Eigenvalues (real parts, ascending) of a flow's Jacobian at `h` with zero input.
pub fn rates(net: &CtGruWeights, h: ArrayView1<'_, f64>) -> Result<Vec<f64>> {
    let jac = net.jacobian(h, Array1::zeros(Flow::input_dim(net)).view())?;
    let mut re: Vec<f64> = emt_linalg::eigenvalues(jac.view())?.iter().map(|z| z.re).collect();
    re.sort_by(f64::total_cmp);
    Ok(re)
}

/// Runs every panel, saving the networks under `out`; `say` gets one line per panel.
pub fn run(s: &GruSettings, say: Say<'_>) -> Result<GruReport> {
    let start = std::time::Instant::now();
    s.check()?;
    let search = multistability(s)?;
    std::fs::create_dir_all(&s.out).map_err(|e| Error::file(&s.out, e))?;
    let most_fixed_points = match &search.best {
        Some((count, stable, net)) => {
            let path = s.out.join("multistable.safetensors");
            ModelFile::new(Model::CtGru(net.clone())).save(&path)?;
            Some(Multistable { fixed_points: *count, stable: *stable, weights: path.display().to_string() })
        }
        None => None,
    };
    // The constructed decoupled network U_h = 3 I: 3 x 3 = 9 fixed points, 4 stable.
    let mut u = Array2::zeros((6, 2));
    u[[4, 0]] = 3.0;
    u[[5, 1]] = 3.0;
    let constructed = certified_census(&CtGruWeights::new(u, None, None, 0.1, None)?)?
        .map(|c| Count { fixed_points: c.count, stable: c.stable.len() });
    let cycle = limit_cycle()?;
    let best = match &most_fixed_points {
        Some(m) => format!("{} fixed points, {} stable (saved to {})", m.fixed_points, m.stable, m.weights),
        None => "none decided".into(),
    };
    let histogram: BTreeMap<usize, usize> = search.histogram;
    say(&format!(
        "{} random 2-D ctgrus: fixed-point counts {histogram:?} ({} undecided); most: {best}; limit cycle period {:.4}",
        s.samples, search.undecided, cycle.period
    ));
    let snic = snic(s, say)?;
    let pseudo_net = pseudo_line_network(0.01, 2.0)?;
    let mut pseudo = slow_manifold(&pseudo_net, 0.05)?;
    let pseudo_path = s.out.join("pseudo_line.safetensors");
    ModelFile::new(Model::CtGru(pseudo_net)).save(&pseudo_path)?;
    pseudo.weights = Some(pseudo_path.display().to_string());
    let span = pseudo.slow_span.map(|s| s.to_vec()).unwrap_or_default();
    say(&format!(
        "pseudo-line attractor (eps 0.01, c 2): {} fixed point(s); nullclines within 0.05 over h1 in {span:.2?}, max speed there {:.2e}",
        pseudo.fixed_points.map_or("null".to_string(), |k| k.to_string()),
        pseudo.max_speed_in_span
    ));
    let trained = trained_lines(s, say)?;
    Ok(GruReport {
        samples: s.samples,
        count_histogram: histogram.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        undecided: search.undecided,
        most_fixed_points,
        constructed_u_h_3i: constructed,
        limit_cycle: cycle,
        snic,
        pseudo_line: pseudo,
        trained_lines: trained,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// What [`multistability`] found.
#[derive(Debug, Clone)]
pub struct Search {
    /// Networks per certified fixed-point count.
    pub histogram: BTreeMap<usize, usize>,
    /// Networks left undecided.
    pub undecided: usize,
    /// (count, stable, network) with the most fixed points, then the most stable ones.
    pub best: Option<(usize, usize, CtGruWeights)>,
}

/// How many fixed points can a 2-D ctgru have? `samples` random networks (U_r, U_h and the r
/// and h biases Gaussian; U_z cannot move fixed points, docs/DYNAMICS.md §1), each counted by
/// [`certified_census`].
pub fn multistability(s: &GruSettings) -> Result<Search> {
    use rand_distr::Distribution;
    let mut r = rng::stream(s.seed, 40);
    let mut normal = |scale: f64| -> f64 {
        let x: f64 = rand_distr::StandardNormal.sample(&mut r);
        scale * x
    };
    let mut out = Search { histogram: BTreeMap::new(), undecided: 0, best: None };
    for _ in 0..s.samples {
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
        let net = CtGruWeights::new(u, None, Some(b), 0.1, None)?;
        match certified_census(&net)? {
            Some(c) => {
                let (count, stable) = (c.count, c.stable.len());
                *out.histogram.entry(count).or_insert(0usize) += 1;
                if out.best.as_ref().is_none_or(|b| (count, stable) > (b.0, b.1)) {
                    out.best = Some((count, stable, net));
                }
            }
            None => out.undecided += 1,
        }
    }
    Ok(out)
}

/// The stable limit cycle of U_h = 4 R(pi/4) (docs/DYNAMICS.md §9).
pub fn limit_cycle() -> Result<CycleSummary> {
    let c = std::f64::consts::FRAC_PI_4.cos() * 4.0;
    let mut u = Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -c], [c, c]]);
    let rot = CtGruWeights::new(u, None, None, 0.1, None)?;
    let cyc = emt_dynamics::limit_cycle(
        &rot,
        ndarray::array![0.05, 0.0].view(),
        Array1::zeros(0).view(),
        &Default::default(),
    )?;
    Ok(CycleSummary { period: cyc.period, multiplier: cyc.multipliers.first().map(|z| z.norm()), stable: cyc.stable })
}

/// A saddle-node on the cycle of a 2-D ctgru: U_h = 6 R(0.5) carries a stable cycle; raising the
/// bias `b_h[0]` slows it down until a saddle-node pair appears on it and the cycle vanishes. The
/// saddle-node is located by the sweep (Newton on {f = 0, det Df = 0}); periods measured by
/// shooting just below it are fitted with T ~ (p_c - p)^(-1/2) and the two critical values
/// compared.
pub fn snic(s: &GruSettings, say: Say<'_>) -> Result<Snic> {
    let (c, sn) = (0.5f64.cos() * 6.0, 0.5f64.sin() * 6.0);
    let family = |p: f64| -> Result<emt_dynamics::AsFlow<CtGruWeights>> {
        let mut u = Array2::zeros((6, 2));
        u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -sn], [sn, c]]);
        let mut b = Array1::zeros(6);
        b[4] = p;
        Ok(emt_dynamics::AsFlow(CtGruWeights::new(u, None, Some(b), 0.1, None)?))
    };
    // Seeds on a 9 x 9 grid of the box that holds every fixed point.
    let seeds = Array2::from_shape_fn((81, 2), |(k, i)| -0.99 + 1.98 * [k / 9, k % 9][i] as f64 / 8.0);
    let params = emt_dynamics::SweepParams { from: 0.3, to: 0.5, values: s.snic_values, tol: 1e-10 };
    let swept = emt_dynamics::sweep(family, Array1::zeros(0).view(), seeds.view(), &params)?;
    let Some(point) = swept.bifurcations.iter().find(|b| b.name() == "saddle_node") else {
        return Ok(Snic { found: false, located: None });
    };
    let p_c = point.parameter();
    let cp = emt_dynamics::CycleParams { transient: 400.0, search: 1500.0, steps: 8000, ..Default::default() };
    let (mut ps, mut ts) = (Vec::new(), Vec::new());
    for &d in &s.snic_deltas {
        let flow = family(p_c - d)?;
        let cyc = emt_dynamics::limit_cycle(&flow.0, ndarray::array![0.0, -0.5].view(), Array1::zeros(0).view(), &cp)?;
        ps.push(p_c - d);
        ts.push(cyc.period);
    }
    let (fit, residual) = fit_period_divergence(&ps, &ts, emt_dynamics::Divergence::SaddleNodeOnCycle)?;
    say(&format!("SNIC: saddle-node at b_h[0] = {p_c:.8}; periods {ts:.2?} just below it fit p_c = {fit:.6}"));
    Ok(Snic {
        found: true,
        located: Some(SnicFound {
            saddle_node: p_c,
            state: point.state().to_vec(),
            parameters: ps,
            periods: ts,
            fitted_critical: fit,
            fit_residual: residual,
        }),
    })
}

/// A pseudo-line attractor built by hand (no input): with r = z = 1/2, U_h = 2W and
/// W = [[1 + 1/c^2 - eps, -1/c^3], [c, 0]]. At eps = 0 the nullclines h2 = (atanh h1 - W11 h1)/W12
/// and h2 = tanh(c h1) share their linear and cubic Taylor terms and part only at h1^5; eps > 0
/// leaves one stable node at the origin whose Jacobian (1/2)(W - I) has trace
/// (1/c^2 - 1 - eps)/2 and determinant eps/4, so a slow eigenvalue of about
/// -eps / (2 (1 - 1/c^2 + eps)). The flow along the curve is slow over a finite stretch but
/// nowhere zero except at the node: an approximate line attractor, the paper's point.
pub fn pseudo_line_network(eps: f64, c: f64) -> Result<CtGruWeights> {
    let mut u = Array2::zeros((6, 2));
    u[[4, 0]] = 2.0 * (1.0 + 1.0 / (c * c) - eps);
    u[[4, 1]] = -2.0 / (c * c * c);
    u[[5, 0]] = 2.0 * c;
    CtGruWeights::new(u, None, None, 0.1, None)
}

/// The pseudo-line attractor's panel: [`slow_manifold`] of [`pseudo_line_network`] (eps 0.01, c 2).
pub fn pseudo_line() -> Result<Manifold> {
    slow_manifold(&pseudo_line_network(0.01, 2.0)?, 0.05)
}

/// What makes a 2-D flow an approximate line attractor: the certified fixed points, the rates
/// at the stable ones, and along the h2-nullcline (the slow curve when both nullclines are
/// close) over h1 in [-0.9, 0.9]: the gap to the other nullcline and the speed |f|. `slow_span`
/// is the longest h1-interval where the gap stays below `gap_tol`, `max_speed_in_span` the
/// fastest |f| there ([`emt_dynamics::slow_manifold`] with its default grid).
pub fn slow_manifold(net: &CtGruWeights, gap_tol: f64) -> Result<Manifold> {
    let census = certified_census(net)?;
    let zero = Array1::zeros(Flow::input_dim(net));
    let mut stable = Vec::new();
    for p in census.iter().flat_map(|c| &c.stable) {
        stable.push(StablePoint { state: p.to_vec(), rates: rates(net, p.view())? });
    }
    let params = emt_dynamics::SlowManifoldParams { gap_tol, ..Default::default() };
    let m = emt_dynamics::slow_manifold(net, zero.view(), &params)?;
    Ok(Manifold {
        fixed_points: census.as_ref().map(|c| c.count),
        stable,
        slow_span: m.slow_span,
        max_speed_in_span: m.max_speed_in_span,
        curve: m.curve.iter().map(|p| CurvePoint { h1: p.x1, h2: p.x2, gap: p.gap, speed: p.speed }).collect(),
        weights: None,
    })
}

/// Trains 2-D ctgrus (Euler step `line_dt`, biases, Adam lr 1e-2, clip 1, batch 64,
/// `line_steps` steps, exact tanh) on [`AnalogMemory`] (amplitudes in [-1, 1], pulses 1 time
/// unit long, one per 10 time units on average, H = 30 time units). A small dt (0.1) keeps the
/// trained Euler map close to the analysed flow: at dt = 0.5 three of eight networks had a
/// period-2 orbit of the map that the flow does not have. Then it measures how well and how long
/// each remembers: the evaluation MSE against the 1/3 of always answering 0; then, for 41
/// amplitudes from h = 0, the readout's error (max and RMS) 1, 10 and 100 horizons after the
/// pulse (a line attractor would keep it constant), the number of distinct states the 41 runs
/// end in (a line attractor: 41) and how many runs end on a certified stable fixed point, the
/// certified fixed points and the slow manifold. Models go to `out/analog_seed{s}.safetensors`.
pub fn trained_lines(s: &GruSettings, say: Say<'_>) -> Result<TrainedLines> {
    use emt_core::Task;
    s.check()?;
    let dt = s.line_dt;
    std::fs::create_dir_all(&s.out).map_err(|e| Error::file(&s.out, e))?;
    // In time units whatever dt: pulses 1 long, one per 10 on average, H = 30.
    let (horizon, pulse) = ((30.0 / dt).round() as usize, (1.0 / dt).round().max(1.0) as usize);
    let task = AnalogMemory::new(1.0, (dt / 10.0).min(1.0), pulse)?;
    let mut networks = Vec::new();
    for seed in 0..s.line_seeds {
        let settings = TrainerParams::paper()
            .cell(CellSpec::CtGru { dt })
            .hidden(2)
            .bias(true)
            .lr(1e-2)
            .curriculum(Curriculum::new(vec![horizon], 1.0)?)
            .eval_horizon(horizon)
            .eval_batch(512)
            .eval_every(s.line_steps.max(1))
            .target_accuracy(None)
            .max_steps(s.line_steps)
            .tanh(TanhMode::Exact)
            .seed(seed);
        let mut trainer = Trainer::new(task, settings)?;
        let report = trainer.run(&mut [])?.completed("analog-memory training")?;
        let file = ModelFile::new(trainer.model()?);
        let Model::CtGru(net) = &file.model else {
            return Err(Error::param("cell", file.model.kind().name(), "expected a ctgru"));
        };
        let path = s.out.join(format!("analog_seed{seed}.safetensors"));
        file.save(&path)?;
        // 41 amplitudes, a pulse from h = 0, then 100 horizons of silence.
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
        let rms_at = |delay: usize| -> f64 {
            let t = pulse - 1 + delay;
            let sq: f64 = amps.iter().enumerate().map(|(b, u)| (traj.outputs[[t, b, 0]] - u).powi(2)).sum();
            (sq / amps.len() as f64).sqrt()
        };
        let errors = ByDelay { one: err_at(horizon), ten: err_at(10 * horizon), hundred: err_at(100 * horizon) };
        let rms = ByDelay { one: rms_at(horizon), ten: rms_at(10 * horizon), hundred: rms_at(100 * horizon) };
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
        let ends_at_stable = (0..amps.len())
            .filter(|&b| {
                let h = traj.hidden.slice(ndarray::s![total - 1, b, ..]);
                manifold
                    .stable
                    .iter()
                    .any(|p| p.state.iter().zip(h.iter()).map(|(a, b)| (a - b).abs()).sum::<f64>() < 1e-3)
            })
            .count();
        let mse = report.eval.stats.loss;
        say(&format!(
            "analog memory, 2-D ctgru seed {seed}: MSE {mse:.4} (baseline 0.333), RMS error after 1/10/100 horizons {:.3?}, {} distinct end states ({ends_at_stable}/41 runs on a stable point), {} fixed points",
            [rms.one, rms.ten, rms.hundred],
            ends.len(),
            manifold.fixed_points.map_or("null".to_string(), |k| k.to_string())
        ));
        networks.push(AnalogNetwork {
            seed,
            mse,
            explained: 1.0 - mse * 3.0,
            max_error_by_delay: errors,
            rms_error_by_delay: rms,
            end_states: ends.len(),
            end_state_list: ends.iter().map(|e| e.to_vec()).collect(),
            runs_ending_at_stable_points: ends_at_stable,
            manifold,
            weights: path.display().to_string(),
        });
    }
    Ok(TrainedLines { dt, horizon, steps: s.line_steps, networks })
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
        let net = pseudo_line_network(eps, c).unwrap();
        let census = certified_census(&net).unwrap().unwrap();
        assert_eq!((census.count, census.stable.len()), (1, 1));
        assert!(census.stable[0].iter().all(|v| v.abs() < 1e-12));
        let (tr, det) = ((1.0 / (c * c) - 1.0 - eps) / 2.0, eps / 4.0);
        let disc = (tr * tr - 4.0 * det).sqrt();
        let want = [(tr - disc) / 2.0, (tr + disc) / 2.0];
        let got = rates(&net, census.stable[0].view()).unwrap();
        for k in 0..2 {
            assert!((got[k] - want[k]).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        assert!(
            (want[1] / (-eps / (2.0 * (1.0 - 1.0 / (c * c) + eps))) - 1.0).abs() < 0.03,
            "the slow rate's first-order form"
        );
        for h1 in [-0.7, -0.3, 0.1, 0.5] {
            let zero = ndarray::Array1::zeros(Flow::input_dim(&net));
            let h2 = emt_dynamics::nullcline(&net, zero.view(), 1, h1, [-1.0, 1.0], 200).unwrap();
            assert_eq!(h2.len(), 1);
            assert!((h2[0] - (c * h1).tanh()).abs() < 1e-10);
        }
        let m = slow_manifold(&net, 0.05).unwrap();
        let span = m.slow_span.unwrap();
        assert!(span[0] < -0.2 && span[1] > 0.2 && span[1] < 0.9, "{span:?}");
        assert!(m.max_speed_in_span > 1e-4 && m.max_speed_in_span < 1e-2, "{}", m.max_speed_in_span);
        // Without eps the node is degenerate and the stretch widens: the construction, not the
        // tolerance, makes it slow.
        let wider = slow_manifold(&pseudo_line_network(0.001, c).unwrap(), 0.05).unwrap().slow_span.unwrap();
        assert!(wider[1] - wider[0] > span[1] - span[0], "{wider:?} vs {span:?}");
    }

    /// U_h = 3 I decouples the units: 3 x 3 = 9 fixed points, 4 stable, all certified.
    #[test]
    fn the_decoupled_network_has_nine_fixed_points() {
        let mut u = Array2::zeros((6, 2));
        u[[4, 0]] = 3.0;
        u[[5, 1]] = 3.0;
        let c = certified_census(&CtGruWeights::new(u, None, None, 0.1, None).unwrap()).unwrap().unwrap();
        assert_eq!((c.count, c.stable.len()), (9, 4));
    }

    #[test]
    fn bad_settings_name_the_value() {
        let e = |s: GruSettings| s.check().unwrap_err().to_string();
        assert!(e(GruSettings { line_dt: 0.0, ..GruSettings::quick() }).contains("--line-dt"));
        assert!(e(GruSettings { snic_deltas: vec![0.5], ..GruSettings::quick() }).contains("snic_deltas"));
        assert!(e(GruSettings { snic_values: 1, ..GruSettings::quick() }).contains("snic_values"));
    }

    /// The limit cycle of U_h = 4 R(pi/4) attracts (docs/DYNAMICS.md §9).
    #[test]
    fn the_rotation_network_has_a_stable_cycle() {
        let c = limit_cycle().unwrap();
        assert!(c.stable && c.period > 0.0 && c.multiplier.is_some_and(|m| m < 1.0), "{c:?}");
    }
}
