//! Summaries researchers ask for beside the dynamics: dimensionality (participation ratio), the
//! autocorrelation time, and a Jacobian's spectrum against the circular law (docs/DYNAMICS.md §8-9).

use emt_core::{Error, Result, check};
use ndarray::{ArrayView1, ArrayView2, Axis};
use num_complex::Complex64;

/// Autocorrelation time of `signal` `(T, n)` (rows are time steps `dt` apart, columns units):
/// the first lag at which the mean over units of the centred signal's autocorrelation,
/// `sum_t c_t . c_{t+lag} / ((T - lag) n var)`, falls below `1/e`, times `dt`; `T/2 * dt` (the
/// longest lag looked at) if it never does, 0 for a signal that does not vary. The gating paper's
/// timescale is this of `tanh h` (docs/DYNAMICS.md §8). O(T^2 n / 2) at most.
///
/// ```
/// // cos(0.1 t) in every unit: the autocorrelation is cos(0.1 lag), below 1/e from lag 12.
/// let s = ndarray::Array2::from_shape_fn((4000, 3), |(t, i)| (0.1 * t as f64 + i as f64).cos());
/// assert_eq!(emt_dynamics::autocorrelation_time(s.view(), 1.0)?, 12.0);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn autocorrelation_time(signal: ArrayView2<'_, f64>, dt: f64) -> Result<f64> {
    check::finite("signal", &signal)?;
    if !(dt.is_finite() && dt > 0.0) {
        return Err(Error::param("dt", dt, "must be finite and > 0"));
    }
    let (t_len, n) = signal.dim();
    if t_len < 2 || n == 0 {
        return Err(Error::shape("signal", "(T >= 2, n >= 1)", check::fmt_shape(signal.shape())));
    }
    let mean = signal.mean_axis(Axis(0)).unwrap_or_else(|| ndarray::Array1::zeros(n));
    let c = &signal - &mean;
    let var: f64 = c.iter().map(|v| v * v).sum::<f64>() / (t_len * n) as f64;
    if var <= 0.0 {
        return Ok(0.0);
    }
    for lag in 1..t_len / 2 {
        let mut acc = 0.0;
        for t in 0..t_len - lag {
            acc += c.row(t).dot(&c.row(t + lag));
        }
        let rho = acc / ((t_len - lag) * n) as f64 / var;
        if rho < (-1.0f64).exp() {
            return Ok(lag as f64 * dt);
        }
    }
    Ok((t_len / 2) as f64 * dt)
}

/// Participation ratio `PR = (tr C)^2 / tr(C^2)` of the covariance `C` of `states` `(T, n)`
/// (rows are samples): 1 when the states vary along one direction, `n` when every direction
/// carries equal variance. Errors on fewer than 2 samples or states that do not vary.
///
/// ```
/// let line = ndarray::Array2::from_shape_fn((50, 4), |(t, i)| t as f64 * [1.0, -2.0, 0.5, 0.0][i]);
/// assert!((emt_dynamics::participation_ratio(line.view())? - 1.0).abs() < 1e-12);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn participation_ratio(states: ArrayView2<'_, f64>) -> Result<f64> {
    let t = states.nrows();
    if t < 2 || states.ncols() == 0 {
        return Err(Error::shape("states", "(T >= 2, n >= 1)", check::fmt_shape(states.shape())));
    }
    check::finite("states", &states)?;
    let mean = states.mean_axis(Axis(0)).ok_or_else(|| Error::param("T", t, "needs at least 2 samples"))?;
    let centred = &states - &mean;
    let cov = centred.t().dot(&centred) / (t - 1) as f64;
    let trace = cov.diag().sum();
    let frob2 = cov.iter().map(|v| v * v).sum::<f64>();
    // States are finite (checked), so the trace is a finite number >= 0.
    if trace <= 0.0 {
        return Err(Error::param("states", "constant", "have no variance; the participation ratio is undefined"));
    }
    Ok(trace * trace / frob2)
}

/// Participation ratio of one vector, `(sum v_i^2)^2 / sum v_i^4` (`1 / sum v_i^4` for a unit
/// vector): how many coordinates it spreads over.
pub fn participation_ratio_of_vector(v: ArrayView1<'_, f64>) -> Result<f64> {
    check::finite("v", &v)?;
    let s2: f64 = v.iter().map(|x| x * x).sum();
    let s4: f64 = v.iter().map(|x| x.powi(4)).sum();
    if s4 == 0.0 {
        return Err(Error::param("v", "zero", "has no entries to participate"));
    }
    Ok(s2 * s2 / s4)
}

/// How a spectrum compares with the circular law: eigenvalues of `g G / sqrt(N)` (`G` with
/// i.i.d. standard entries) fill the disk of radius `g` around `centre` uniformly as `N` grows,
/// so the modulus has CDF `(r / g)^2`, and about `sqrt(2N / pi)` of them are real.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircularLaw {
    /// The expected radius `g`.
    pub radius: f64,
    /// Largest `|lambda - centre|`.
    pub max_modulus: f64,
    /// Fraction with `|lambda - centre| <= radius`.
    pub fraction_inside: f64,
    /// Kolmogorov-Smirnov distance between the moduli and the law's CDF `min(1, (r/g)^2)`.
    pub ks_distance: f64,
    /// Eigenvalues with `|Im| <= 1e-10 (1 + |lambda|)`.
    pub real_count: usize,
    /// `sqrt(2N / pi)`: the law's expected real count.
    pub expected_real_count: f64,
}

/// Compares `eigenvalues` with the circular law of radius `radius` around `centre`.
///
/// ```
/// let n = 300;
/// let j = emt_testkit::gaussian(n, n, 4) * (1.5 / (n as f64).sqrt());
/// let law = emt_dynamics::circular_law(&emt_linalg::eigenvalues(j.view())?, 1.5, num_complex::Complex64::new(0.0, 0.0))?;
/// assert!(law.ks_distance < 0.05 && (law.max_modulus - 1.5).abs() < 0.15);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn circular_law(eigenvalues: &[Complex64], radius: f64, centre: Complex64) -> Result<CircularLaw> {
    if eigenvalues.is_empty() {
        return Err(Error::param("eigenvalues", 0, "need at least one"));
    }
    if !(radius.is_finite() && radius > 0.0) {
        return Err(Error::param("radius", radius, "must be finite and > 0"));
    }
    if let Some(z) = eigenvalues.iter().find(|z| !(z.re.is_finite() && z.im.is_finite())) {
        return Err(Error::param("eigenvalue", z, "must be finite"));
    }
    let mut r: Vec<f64> = eigenvalues.iter().map(|z| (z - centre).norm()).collect();
    r.sort_by(f64::total_cmp);
    let n = r.len() as f64;
    let cdf = |x: f64| (x / radius).powi(2).min(1.0);
    let ks = r
        .iter()
        .enumerate()
        .map(|(i, &x)| (cdf(x) - i as f64 / n).abs().max((cdf(x) - (i + 1) as f64 / n).abs()))
        .fold(0.0, f64::max);
    Ok(CircularLaw {
        radius,
        max_modulus: r.last().copied().unwrap_or(0.0),
        fraction_inside: r.iter().filter(|&&x| x <= radius).count() as f64 / n,
        ks_distance: ks,
        real_count: eigenvalues.iter().filter(|z| z.im.abs() <= 1e-10 * (1.0 + z.norm())).count(),
        expected_real_count: (2.0 * n / std::f64::consts::PI).sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AR(1) with coefficient 0.9 over 300 units: the autocorrelation is 0.9^lag, below 1/e
    /// first at lag 10; a constant signal has time 0; bad input is a typed error.
    #[test]
    fn autocorrelation_time_of_an_ar1_process() {
        use rand::Rng;
        let mut r = emt_core::rng::seeded(4);
        let (t_len, n) = (3000, 300);
        let mut x = ndarray::Array2::<f64>::zeros((t_len, n));
        for t in 1..t_len {
            for i in 0..n {
                x[[t, i]] = 0.9 * x[[t - 1, i]] + r.sample::<f64, _>(rand_distr::StandardNormal);
            }
        }
        let tau = autocorrelation_time(x.slice(ndarray::s![100.., ..]), 0.5).unwrap();
        assert_eq!(tau, 5.0, "lag 10 x dt 0.5");
        assert_eq!(autocorrelation_time(ndarray::Array2::ones((10, 2)).view(), 1.0).unwrap(), 0.0);
        assert!(autocorrelation_time(ndarray::Array2::ones((1, 2)).view(), 1.0).is_err());
        assert!(autocorrelation_time(x.view(), 0.0).is_err());
        x[[5, 5]] = f64::NAN;
        assert!(autocorrelation_time(x.view(), 1.0).is_err());
    }

    proptest::proptest! {
        #![proptest_config(emt_testkit::proptest_config(24))]
        /// Sinusoids of random phase in every unit: the time is the first lag past
        /// acos(1/e) / omega, in steps of dt.
        #[test]
        fn autocorrelation_time_of_sinusoids(omega in 0.05..0.5f64, dt in 0.01..2.0f64, seed in 0u64..1000) {
            use rand::Rng;
            let mut r = emt_core::rng::seeded(seed);
            let phases: Vec<f64> = (0..64).map(|_| r.random_range(0.0..std::f64::consts::TAU)).collect();
            let s = ndarray::Array2::from_shape_fn((4000, 64), |(t, i)| (omega * t as f64 + phases[i]).cos());
            let lag = (1.0f64 / std::f64::consts::E).acos() / omega;
            let tau = autocorrelation_time(s.view(), dt).unwrap() / dt;
            proptest::prop_assert!((tau - lag).abs() <= 1.0 + 1e-9, "{tau} vs {lag}");
        }
    }

    #[test]
    fn participation_ratio_bounds_and_isotropy() {
        let iso = emt_testkit::gaussian(20_000, 10, 1);
        let pr = participation_ratio(iso.view()).unwrap();
        assert!((pr - 10.0).abs() < 0.1, "{pr}");
        // Variances 1, 1, 0, ...: PR = 2.
        let two = ndarray::Array2::from_shape_fn((20_000, 5), |(t, i)| if i < 2 { iso[[t, i]] } else { 0.0 });
        assert!((participation_ratio(two.view()).unwrap() - 2.0).abs() < 0.05);
        assert!(participation_ratio(ndarray::Array2::ones((5, 3)).view()).is_err());
        assert!(participation_ratio(ndarray::Array2::zeros((1, 3)).view()).is_err());
        let v = ndarray::array![0.5, 0.5, 0.5, 0.5];
        assert!((participation_ratio_of_vector(v.view()).unwrap() - 4.0).abs() < 1e-12);
        assert!((participation_ratio_of_vector(ndarray::array![0.0, 1.0, 0.0].view()).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ginibre_matrices_follow_the_circular_law() {
        let n = 400;
        let g = 2.0;
        let j = emt_testkit::gaussian(n, n, 7) * (g / (n as f64).sqrt());
        let law = circular_law(&emt_linalg::eigenvalues(j.view()).unwrap(), g, Complex64::new(0.0, 0.0)).unwrap();
        assert!(law.ks_distance < 0.05, "{law:?}");
        assert!(law.fraction_inside > 0.97 && (law.max_modulus - g).abs() < 0.2, "{law:?}");
        // sqrt(2 * 400 / pi) = 16.0 real eigenvalues on average; one matrix fluctuates by ~3
        // (this seed has 24), so average over 8 matrices (measured: 16.5).
        let mean = (0..8u64)
            .map(|seed| {
                let m = emt_testkit::gaussian(n, n, seed) * (g / (n as f64).sqrt());
                let ev = emt_linalg::eigenvalues(m.view()).unwrap();
                circular_law(&ev, g, Complex64::new(0.0, 0.0)).unwrap().real_count as f64
            })
            .sum::<f64>()
            / 8.0;
        assert!((mean - law.expected_real_count).abs() < 2.0, "mean real count {mean}");
        // A spectrum of the wrong radius is told apart.
        let wrong = circular_law(&emt_linalg::eigenvalues(j.view()).unwrap(), 1.0, Complex64::new(0.0, 0.0)).unwrap();
        assert!(wrong.ks_distance > 0.5 && wrong.fraction_inside < 0.4, "{wrong:?}");
    }
}
