//! The transition to chaos along a parameter, from lambda_max measured on several coupling draws
//! (the theory of gating's question, docs/DYNAMICS.md §8: does the largest Lyapunov exponent
//! rise continuously or jump?). The thresholds are parameters ([`TransitionThresholds`]);
//! the defaults are those of `emt reproduce gating`.
//!
//! ```
//! use emt_dynamics::{Transition, TransitionThresholds, summarise_scan};
//! let values = [1.0, 2.0, 3.0];
//! // Two draws that rise through the chaotic threshold in one step.
//! let curves = vec![vec![0.0, 0.001, 0.05], vec![0.0, 0.0, 0.052]];
//! let s = summarise_scan(&values, &curves, &TransitionThresholds::default())?;
//! assert_eq!((s.onset, s.largest_step_at, s.verdict), (Some(3.0), Some(2.0), Transition::Abrupt));
//! # Ok::<(), emt_core::Error>(())
//! ```

use emt_core::{Error, Flow, Result};
use ndarray::{Array1, Array2};

use crate::{LyapunovParams, Rk4, in_order_on_threads, lambda_max_flow};

/// What counts as non-chaotic, chaotic and resolved. Default: non-chaotic `lambda_max <=
/// 0.005`, chaotic `>= 0.02`, onset at the first mean above 0.01, resolved at 3 standard errors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransitionThresholds {
    /// Mean lambda_max at or below this is non-chaotic.
    pub non_chaotic: f64,
    /// Mean lambda_max at or above this is chaotic.
    pub chaotic: f64,
    /// The onset is the first value whose mean lambda_max exceeds this.
    pub onset: f64,
    /// Standard errors that make a difference resolved.
    pub sigmas: f64,
}

impl Default for TransitionThresholds {
    fn default() -> Self {
        TransitionThresholds { non_chaotic: 0.005, chaotic: 0.02, onset: 0.01, sigmas: 3.0 }
    }
}

/// How lambda_max crosses from non-chaotic to chaotic along the scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Some grid point sits resolved between the thresholds: the exponent takes intermediate values.
    Continuous,
    /// One step between neighbours goes from non-chaotic to chaotic, resolved, with no point in
    /// between (abrupt at this grid's resolution).
    Abrupt,
    /// Neither can be told (or a single draw, or fewer than two values).
    Undecided,
}

impl Transition {
    /// `"continuous"`, `"abrupt"` or `"undecided"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Continuous => "continuous",
            Transition::Abrupt => "abrupt",
            Transition::Undecided => "undecided",
        }
    }
}

impl std::fmt::Display for Transition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict from the mean curve `(V)` and its per-point standard deviation `(V)` over `k`
/// draws (standard error `sd / sqrt(k)`); see [`Transition`].
pub fn transition_verdict(mean: &[f64], sd: &[f64], k: usize, t: &TransitionThresholds) -> Transition {
    let (lo, hi, z) = (t.non_chaotic, t.chaotic, t.sigmas);
    if k < 2 || mean.len() < 2 || sd.len() != mean.len() {
        return Transition::Undecided;
    }
    let se = |i: usize| sd[i] / (k as f64).sqrt();
    let intermediate = (0..mean.len()).any(|i| mean[i] - z * se(i) > lo && mean[i] + z * se(i) < hi);
    let jump = (0..mean.len() - 1).any(|i| {
        mean[i] <= lo && mean[i + 1] >= hi && mean[i + 1] - mean[i] > z * (se(i).powi(2) + se(i + 1).powi(2)).sqrt()
    });
    let between = mean.iter().any(|&v| v > lo && v < hi);
    if intermediate {
        Transition::Continuous
    } else if jump && !between {
        Transition::Abrupt
    } else {
        Transition::Undecided
    }
}

/// A lambda_max scan summarised over its draws.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanSummary {
    /// Mean over draws per value `(V)`.
    pub mean: Vec<f64>,
    /// Sample standard deviation over draws per value `(V)` (NaN with one draw).
    pub sd: Vec<f64>,
    /// The first value whose mean exceeds the onset threshold.
    pub onset: Option<f64>,
    /// The largest rise of the mean between neighbouring values (`-inf` with one value).
    pub largest_step: f64,
    /// The value where that rise starts.
    pub largest_step_at: Option<f64>,
    /// The verdict.
    pub verdict: Transition,
}

/// Summarises `curves` `(K draws, V values)` of lambda_max measured at `values` `(V)`.
/// Errors on no draws or a curve whose length is not `V`.
pub fn summarise_scan(values: &[f64], curves: &[Vec<f64>], t: &TransitionThresholds) -> Result<ScanSummary> {
    if curves.is_empty() {
        return Err(Error::shape("curves", format!("(K >= 1, {})", values.len()), "(0, _)"));
    }
    if let Some((i, c)) = curves.iter().enumerate().find(|(_, c)| c.len() != values.len()) {
        return Err(Error::shape(format!("curves[{i}]"), format!("({})", values.len()), format!("({})", c.len())));
    }
    let k = curves.len() as f64;
    let mean: Vec<f64> = (0..values.len()).map(|i| curves.iter().map(|c| c[i]).sum::<f64>() / k).collect();
    let sd: Vec<f64> = (0..values.len())
        .map(|i| {
            if curves.len() < 2 {
                return f64::NAN;
            }
            (curves.iter().map(|c| (c[i] - mean[i]).powi(2)).sum::<f64>() / (k - 1.0)).sqrt()
        })
        .collect();
    let onset = values.iter().zip(&mean).find(|(_, l)| **l > t.onset).map(|(a, _)| *a);
    let (jump_at, largest_step) = mean
        .windows(2)
        .map(|w| w[1] - w[0])
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, d)| if d > best.1 { (i, d) } else { best });
    let verdict = transition_verdict(&mean, &sd, curves.len(), t);
    Ok(ScanSummary { mean, sd, onset, largest_step, largest_step_at: values.get(jump_at).copied(), verdict })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_verdict_tells_a_jump_from_a_rise_and_says_when_it_cannot() {
        let t = TransitionThresholds::default();
        let tight = [0.001; 5];
        assert_eq!(transition_verdict(&[-0.01, -0.01, 0.0, 0.05, 0.06], &tight, 4, &t), Transition::Abrupt);
        assert_eq!(transition_verdict(&[-0.01, 0.0, 0.012, 0.03, 0.05], &tight, 4, &t), Transition::Continuous);
        // The same rise but with scatter as large as the steps: no resolved intermediate point.
        assert_eq!(transition_verdict(&[-0.01, 0.0, 0.012, 0.03, 0.05], &[0.03; 5], 4, &t), Transition::Undecided);
        // One draw never decides.
        assert_eq!(transition_verdict(&[-0.01, -0.01, 0.0, 0.05, 0.06], &[f64::NAN; 5], 1, &t), Transition::Undecided);
        assert!(summarise_scan(&[1.0], &[], &t).is_err());
        assert!(summarise_scan(&[1.0, 2.0], &[vec![0.0, 1.0], vec![0.0]], &t).is_err());
    }

    proptest! {
        #![proptest_config(emt_testkit::proptest_config(64))]

        /// k identical draws: the mean is the curve, the spread 0 (NaN for one draw), the onset
        /// the first value above the threshold and the largest step the largest difference.
        #[test]
        fn identical_draws_summarise_to_themselves(curve in proptest::collection::vec(-0.05..0.1f64, 2..12), k in 1usize..5) {
            let values: Vec<f64> = (0..curve.len()).map(|i| i as f64 * 0.5).collect();
            let t = TransitionThresholds::default();
            let s = summarise_scan(&values, &vec![curve.clone(); k], &t).unwrap();
            for (m, c) in s.mean.iter().zip(&curve) {
                prop_assert!((m - c).abs() <= 1e-15 * c.abs().max(1.0));
            }
            let spread_ok = s.sd.iter().all(|v| if k == 1 { v.is_nan() } else { v.abs() < 1e-15 });
            prop_assert!(spread_ok, "sd {:?}", s.sd);
            let onset = curve.iter().position(|&l| l > t.onset).map(|i| values[i]);
            prop_assert_eq!(s.onset, onset);
            let best = curve.windows(2).map(|w| w[1] - w[0]).fold(f64::NEG_INFINITY, f64::max);
            prop_assert!((s.largest_step - best).abs() < 1e-12);
        }
    }
}

/// How [`lambda_max_scan`] measures each network: a settling run, then lambda_max.
#[derive(Debug, Clone, PartialEq)]
pub struct LambdaScanParams {
    /// Time run with RK4 (step `lyapunov.dt`, zero input) from the start before measuring.
    pub settle_time: f64,
    /// The lambda_max run ([`lambda_max_flow`], zero input); its `seed` is replaced by the
    /// draw's seed, so every draw is reproducible alone.
    pub lyapunov: LyapunovParams,
    /// Threads over the draws (the answer does not depend on it).
    pub threads: usize,
}

impl Default for LambdaScanParams {
    /// 50 time units of settling; 3,000 RK4 steps of 0.05 renormalised every 10 (the theory of
    /// gating's setting); 1 thread.
    fn default() -> Self {
        LambdaScanParams {
            settle_time: 50.0,
            lyapunov: LyapunovParams {
                exponents: Some(1),
                steps: 3000,
                transient: 0,
                renormalize_every: 10,
                dt: 0.05,
                ..Default::default()
            },
            threads: 1,
        }
    }
}

/// lambda_max over a family of flows and coupling draws: for each draw seed in `draws` and each
/// value in `values`, the flow `build(draw, value)` is run from `start(draw, &flow)` for
/// `settle_time` (RK4, zero input), then lambda_max is measured from there ([`lambda_max_flow`],
/// zero input, seed = the draw). Returns the curves `(draws, values)` in the order given; feed
/// them to [`summarise_scan`] for the mean, spread, onset and verdict. Draws run on `threads`;
/// the caller's interrupt hook goes with them.
///
/// ```
/// use emt_core::cells::{CtGruWeights};
/// use emt_dynamics::{LambdaScanParams, lambda_max_scan};
/// // A 2-D ctgru whose recurrent gain grows: a stable node, then a limit cycle (lambda_max 0).
/// let build = |_draw: u64, g: f64| {
///     let c = std::f64::consts::FRAC_PI_4.cos() * g;
///     let mut u = ndarray::Array2::zeros((6, 2));
///     u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -c], [c, c]]);
///     CtGruWeights::new(u, None, None, 0.1, None)
/// };
/// let start = |_draw: u64, _net: &CtGruWeights| ndarray::array![0.05, 0.0];
/// let mut p = LambdaScanParams::default();
/// p.lyapunov.steps = 2000;
/// let curves = lambda_max_scan(&[0.5, 4.0], &[0, 1], build, start, &p)?;
/// assert_eq!((curves.len(), curves[0].len()), (2, 2));
/// assert!(curves[0][0] < -0.1);          // a stable node: contracting
/// assert!(curves[0][1].abs() < 0.02);    // on a cycle: the flow direction, lambda_max ~ 0
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn lambda_max_scan<F, B, S>(
    values: &[f64],
    draws: &[u64],
    build: B,
    start: S,
    p: &LambdaScanParams,
) -> Result<Vec<Vec<f64>>>
where
    F: Flow + Sync,
    B: Fn(u64, f64) -> Result<F> + Sync,
    S: Fn(u64, &F) -> Array1<f64> + Sync,
{
    if !(p.settle_time.is_finite() && p.settle_time >= 0.0) {
        return Err(Error::param("settle_time", p.settle_time, "must be finite and >= 0"));
    }
    let dt = p.lyapunov.dt;
    if !(dt.is_finite() && dt > 0.0) {
        return Err(Error::param("lyapunov.dt", dt, "must be finite and > 0"));
    }
    let per_draw = |draw: u64| -> Result<Vec<f64>> {
        let lp = LyapunovParams { seed: draw, ..p.lyapunov };
        values
            .iter()
            .map(|&v| {
                let flow = build(draw, v)?;
                let n = flow.state_dim();
                let mut x = start(draw, &flow);
                emt_core::check::shape("start", &x, &[n])?;
                let u = Array1::zeros(flow.input_dim());
                let mut rk = Rk4::new(n, 0);
                for _ in 0..(p.settle_time / dt).round() as usize {
                    emt_core::interrupt::check("lambda_max scan")?;
                    rk.step(&flow, &mut x, u.view(), dt)?;
                }
                lambda_max_flow(&flow, x.view(), Array2::zeros((1, flow.input_dim())).view(), &lp)
            })
            .collect()
    };
    in_order_on_threads(draws.len(), p.threads, |k| per_draw(draws[k])).into_iter().collect()
}

#[cfg(test)]
mod scan_runner_tests {
    use super::*;
    use emt_core::cells::CtGruWeights;

    fn rotation(draw: u64, g: f64) -> Result<CtGruWeights> {
        let c = std::f64::consts::FRAC_PI_4.cos() * g * (1.0 + 0.1 * draw as f64);
        let mut u = Array2::zeros((6, 2));
        u.slice_mut(ndarray::s![4.., ..]).assign(&ndarray::array![[c, -c], [c, c]]);
        CtGruWeights::new(u, None, None, 0.1, None)
    }

    /// Draws on 1 or 3 threads give the same curves, in the draws' order; bad settings and a
    /// start of the wrong size are refused by name.
    #[test]
    fn threads_do_not_change_the_curves_and_bad_input_is_named() {
        let start = |_: u64, _: &CtGruWeights| ndarray::array![0.05, 0.0];
        let mut p = LambdaScanParams::default();
        p.lyapunov.steps = 300;
        let one = lambda_max_scan(&[0.5, 2.0, 4.0], &[3, 0, 1], rotation, start, &p).unwrap();
        let three =
            lambda_max_scan(&[0.5, 2.0, 4.0], &[3, 0, 1], rotation, start, &LambdaScanParams { threads: 3, ..p })
                .unwrap();
        assert_eq!(one, three);
        assert_eq!((one.len(), one[0].len()), (3, 3));
        let bad = LambdaScanParams { settle_time: f64::NAN, ..p };
        assert!(lambda_max_scan(&[1.0], &[0], rotation, start, &bad).unwrap_err().to_string().contains("settle_time"));
        let wrong = |_: u64, _: &CtGruWeights| ndarray::array![0.05];
        assert!(lambda_max_scan(&[1.0], &[0], rotation, wrong, &p).unwrap_err().to_string().contains("start"));
    }
}
