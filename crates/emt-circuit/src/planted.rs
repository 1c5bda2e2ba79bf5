//! Planted networks: `W_hh = B diag(Phi, T) B^-1`, a known memory basis hidden in a full
//! hidden space, for testing basis extraction (docs/EMT.md §4).

use emt_core::{Activation, ElmanWeights, Error, Result};
use emt_tasks::{LinearVb, Phi};
use ndarray::{Array2, s};
use rand::RngCore;

use crate::basis::gaussian;

/// How the hidden basis `B` `(N, N)` of a planted network is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlantedBasis {
    /// A random orthonormal matrix.
    Orthonormal,
    /// Orthonormal plus `eps` times a Gaussian matrix.
    Perturbed(f64),
    /// A Gaussian matrix, redrawn until its condition number is below `1e4`.
    Random,
}

/// A planted linear network and the basis it was built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Planted {
    /// `W_hh = B diag(Phi, T) B^-1`, `W_ih = B[:, block s-1]`, `W_r = B^-1[block s-1, :]`,
    /// identity activation.
    pub weights: ElmanWeights<f64>,
    /// `B` `(N, N)`; its first `n = s*d` columns are the memory basis.
    pub basis: Array2<f64>,
}

fn condition(m: &Array2<f64>) -> Result<f64> {
    emt_linalg::condition_number(m.view())
}

fn orthonormal(hidden: usize, rng: &mut dyn RngCore) -> Result<Array2<f64>> {
    Ok(emt_linalg::qr(gaussian(hidden, hidden, rng).view())?.q)
}

/// Plants `task`'s `Phi` in a hidden space of size `hidden >= s*d`, with a transient block `T`
/// (random, spectral radius at most `transient_radius < 1`) on the remaining directions.
///
/// ```
/// use emt_circuit::{PlantedBasis, planted};
/// use emt_tasks::{LinearVb, TaskId};
/// let task = LinearVb::new(TaskId::new(255, 0, 0), 8, 8)?;
/// let p = planted(&task, 80, PlantedBasis::Random, 0.3, &mut emt_core::rng::seeded(0))?;
/// assert_eq!(p.weights.hidden_dim(), 80);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn planted(
    task: &LinearVb,
    hidden: usize,
    kind: PlantedBasis,
    transient_radius: f64,
    rng: &mut dyn RngCore,
) -> Result<Planted> {
    let phi = Phi::new(task);
    let (n, d, s) = (phi.n(), task.d(), task.s());
    if hidden < n {
        return Err(Error::param("hidden", hidden, format!("must be at least n = s*d = {n}")));
    }
    if !(transient_radius.is_finite() && (0.0..1.0).contains(&transient_radius)) {
        return Err(Error::param("transient_radius", transient_radius, "must be in [0, 1)"));
    }
    let b = match kind {
        PlantedBasis::Orthonormal => orthonormal(hidden, rng)?,
        PlantedBasis::Perturbed(eps) => {
            if !eps.is_finite() {
                return Err(Error::param("eps", eps, "must be finite"));
            }
            orthonormal(hidden, rng)? + gaussian(hidden, hidden, rng) * eps
        }
        PlantedBasis::Random => {
            let mut draw = gaussian(hidden, hidden, rng);
            let mut tries = 1;
            while condition(&draw)? >= 1e4 {
                if tries == 50 {
                    return Err(Error::singular("planted basis", "50 Gaussian draws all had condition number >= 1e4"));
                }
                draw = gaussian(hidden, hidden, rng);
                tries += 1;
            }
            draw
        }
    };
    let cond = condition(&b)?;
    if cond >= 1e8 {
        return Err(Error::singular("planted basis", format!("condition number {cond:.2e} >= 1e8")));
    }
    let b_inv = emt_linalg::inverse(b.view())?;
    // Core: Phi on the memory block, T (Frobenius norm = radius >= spectral radius) elsewhere.
    let mut core = Array2::<f64>::zeros((hidden, hidden));
    core.slice_mut(s![..n, ..n]).assign(&phi.matrix());
    let rest = hidden - n;
    if rest > 0 && transient_radius > 0.0 {
        let t = gaussian(rest, rest, rng);
        let frobenius = t.iter().map(|x| x * x).sum::<f64>().sqrt();
        let scale = transient_radius / frobenius.max(f64::MIN_POSITIVE);
        core.slice_mut(s![n.., n..]).assign(&(t * scale));
    }
    let w = b.dot(&core).dot(&b_inv);
    let w_ih = b.slice(s![.., (s - 1) * d..n]).to_owned();
    let w_r = b_inv.slice(s![(s - 1) * d..n, ..]).to_owned();
    let weights = ElmanWeights::new(w, w_ih, w_r)?.with_activation(Activation::Identity);
    Ok(Planted { weights, basis: b })
}
