//! The three basis extractions side by side (what `emt analyze` reports as `methods` and
//! `emt table --decoding` averages): the exact dual recursion, the paper's Krylov construction,
//! and a least-squares fit to hidden states with known memory windows.

use emt_core::{ElmanWeights, Result, Task, rng};
use emt_tasks::{LinearVb, Phi};
use ndarray::Array2;

use crate::{
    Decoding, ExtractOptions, Grounding, Method, VariableBasis, decoding_accuracy, memory_windows, stack_states,
};

/// One method's basis and its decoding, or why it failed (the other methods still run).
pub type Extraction = Result<(VariableBasis, Decoding)>;

/// The methods [`compare_methods`] runs, in its order.
pub const METHODS: [&str; 3] = ["dual", "paper", "least_squares"];

/// The three extractions of one network `weights` trained on `task`, each with its decoding
/// accuracy on 64 fresh sequences at H = 200 (seed stream 7 of `seed`), in [`METHODS`] order. The
/// least-squares basis is fitted by ridge regression (1e-6) to 32 other sequences (stream 6),
/// whose hidden states also feed the PCA complement (`pca` components) of the other two;
/// `grounding` is the paper method's. A method that fails gives its error in place; an error
/// simulating the sequences (a mismatched task) fails the whole call.
///
/// ```
/// use emt_basis::{Grounding, compare_methods};
/// use emt_core::{Activation, ElmanWeights};
/// use emt_tasks::{LinearVb, Phi, TaskId};
///
/// // The exact linear solution of repeat-copy (s = 4, d = 2): W_hh = Phi, readout on the newest slot.
/// let task = LinearVb::new(TaskId::new(3, 0, 0), 4, 2)?;
/// let phi = Phi::new(&task);
/// let w_r = ndarray::Array2::from_shape_fn((2, 8), |(j, c)| f64::from(c == 6 + j));
/// let w = ElmanWeights::new(phi.matrix() * 1.0, w_r.t().to_owned(), w_r)?.with_activation(Activation::Identity);
/// let compared = compare_methods(&w, &task, 0, 0, Grounding::Readout)?;
/// let names: Vec<&str> = compared.iter().map(|(n, _)| *n).collect();
/// assert_eq!(names, ["dual", "paper", "least_squares"]);
/// let Ok((basis, decoding)) = &compared[0].1 else { panic!("the dual recursion is exact here") };
/// assert!(basis.phi_error() < 1e-12);
/// assert_eq!(decoding.mean, 1.0);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn compare_methods(
    weights: &ElmanWeights<f64>,
    task: &LinearVb,
    seed: u64,
    pca: usize,
    grounding: Grounding,
) -> Result<Vec<(&'static str, Extraction)>> {
    let (s, d) = (task.s(), task.d());
    let phi = Phi::new(task);
    let data = |stream: u64, batch: usize| -> Result<(Array2<f64>, Array2<f64>)> {
        let ep = task.sample(200, batch, &mut rng::stream(seed, stream))?;
        let traj = weights.simulate(ep.inputs().mapv(f64::from).view())?;
        Ok((stack_states(traj.hidden.view(), s)?, memory_windows(ep.inputs(), ep.targets(), s, d, s)?))
    };
    let (fit_h, fit_w) = data(6, 32)?;
    let (dec_h, dec_w) = data(7, 64)?;
    let build = |name: &str| -> Result<VariableBasis> {
        match name {
            "least_squares" => VariableBasis::fit_least_squares(weights, &phi, fit_h.view(), fit_w.view(), 1e-6),
            _ => {
                let method = if name == "dual" { Method::DualRecursion } else { Method::PaperKrylov(grounding) };
                let opts = ExtractOptions { method, pca_components: pca, ..Default::default() };
                VariableBasis::extract(weights, &phi, Some(fit_h.view()), &opts)
            }
        }
    };
    Ok(METHODS
        .into_iter()
        .map(|name| {
            let entry = build(name).and_then(|b| {
                let dec = decoding_accuracy(&b, dec_h.view(), dec_w.view(), s, d)?;
                Ok((b, dec))
            });
            (name, entry)
        })
        .collect())
}

/// How well an Elman network does its variable-binding task, as `emt analyze` and the Python
/// package's `variable_basis` report it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFit {
    /// Sign accuracy at H = 200 on 512 fresh sequences (seeded by `seed`).
    pub accuracy: f64,
    /// Spectral error of `W_hh` against the task's Phi, eigenvalues with `|lambda| > 0.9`.
    pub spectral: crate::SpectralComparison,
    /// The hidden states of the first of those sequences `(T, N)`: what a basis projects.
    pub first_hidden: Array2<f64>,
}

/// [`TaskFit`] of `weights` on `task`; errors when the network does not fit the task's sizes.
pub fn task_fit(weights: &ElmanWeights<f64>, task: &LinearVb, seed: u64) -> Result<TaskFit> {
    let ep = task.sample(200, 512, &mut rng::seeded(seed))?;
    let traj = weights.simulate(ep.inputs().mapv(f64::from).view())?;
    let accuracy = emt_core::metrics::sign_accuracy(traj.outputs.view(), ep.targets(), ep.first_scored())?;
    let spectral = crate::spectral_error(weights.w_hh(), Phi::new(task).matrix().view(), 0.9)?;
    let first_hidden = traj.hidden.index_axis(ndarray::Axis(1), 0).to_owned();
    Ok(TaskFit { accuracy, spectral, first_hidden })
}

#[cfg(test)]
mod tests {
    use super::*;
    use emt_core::Activation;
    use emt_tasks::TaskId;

    fn repeat_copy(s: usize, d: usize) -> (LinearVb, ElmanWeights<f64>) {
        let task = LinearVb::new(TaskId::new((1 << d) - 1, 0, 0), s, d).unwrap();
        let phi = Phi::new(&task);
        let n = s * d;
        let w_r = Array2::from_shape_fn((d, n), |(j, c)| f64::from(c == n - d + j));
        let w = ElmanWeights::new(phi.matrix() * 1.0, w_r.t().to_owned(), w_r).unwrap();
        (task, w.with_activation(Activation::Identity))
    }

    /// On the exact linear solution every method recovers the memory: each decodes perfectly.
    #[test]
    fn every_method_decodes_the_exact_solution() {
        let (task, w) = repeat_copy(3, 2);
        for (name, e) in compare_methods(&w, &task, 1, 0, Grounding::Readout).unwrap() {
            let (_, dec) = e.unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(dec.mean, 1.0, "{name}");
        }
    }

    /// A network for another task size is refused by shape, naming it, before any method runs.
    #[test]
    fn a_mismatched_task_is_an_error() {
        let (_, w) = repeat_copy(3, 2);
        let other = LinearVb::new(TaskId::new(7, 0, 0), 3, 3).unwrap();
        assert!(compare_methods(&w, &other, 0, 0, Grounding::Readout).is_err());
    }
}

#[cfg(test)]
mod task_fit_tests {
    use super::*;
    use emt_core::Activation;
    use emt_tasks::TaskId;

    /// The exact linear solution of repeat copy (W_hh = Phi) solves the task and has Phi's
    /// spectrum; the first sequence's hidden states are (T, N) with T = H + s.
    #[test]
    fn the_exact_repeat_copy_network_fits_its_task() {
        let task = LinearVb::new(TaskId::new(3, 0, 0), 4, 2).unwrap();
        let phi = Phi::new(&task);
        let w_r = Array2::from_shape_fn((2, 8), |(j, c)| f64::from(c == 6 + j));
        let w = ElmanWeights::new(phi.matrix() * 1.0, w_r.t().to_owned(), w_r)
            .unwrap()
            .with_activation(Activation::Identity);
        let fit = task_fit(&w, &task, 0).unwrap();
        assert_eq!(fit.accuracy, 1.0);
        assert!(fit.spectral.radians < 1e-12, "{}", fit.spectral.radians);
        assert_eq!(fit.first_hidden.ncols(), 8);
        assert_eq!(fit.first_hidden.nrows(), task.sample(200, 1, &mut rng::seeded(0)).unwrap().inputs().dim().0);
    }
}
