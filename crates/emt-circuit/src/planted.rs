//! Planted networks: `W_hh = B diag(Phi, T) B^-1`, a known memory basis hidden in a full
//! hidden space, for testing basis extraction (EMT.md §4).

use emt_core::{Activation, ElmanWeights, Error, Result};
use emt_tasks::{LinearVb, Phi};
use nalgebra::DMatrix;
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
    /// `W_hh = B diag(Phi, T) B^-1`, `W_uh = B[:, block s-1]`, `W_r = B^-1[block s-1, :]`,
    /// identity activation.
    pub weights: ElmanWeights<f64>,
    /// `B` `(N, N)`; its first `n = s*d` columns are the memory basis.
    pub basis: Array2<f64>,
}

fn condition(m: &DMatrix<f64>) -> f64 {
    let sv = m.clone().svd(false, false).singular_values;
    sv.max() / sv.min()
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
        PlantedBasis::Orthonormal => gaussian(hidden, hidden, rng).qr().q(),
        PlantedBasis::Perturbed(eps) => {
            if !eps.is_finite() {
                return Err(Error::param("eps", eps, "must be finite"));
            }
            gaussian(hidden, hidden, rng).qr().q() + gaussian(hidden, hidden, rng) * eps
        }
        PlantedBasis::Random => {
            let mut draw = gaussian(hidden, hidden, rng);
            let mut tries = 1;
            while condition(&draw) >= 1e4 {
                if tries == 50 {
                    return Err(Error::singular("planted basis", "50 Gaussian draws all had condition number >= 1e4"));
                }
                draw = gaussian(hidden, hidden, rng);
                tries += 1;
            }
            draw
        }
    };
    let b_inv = b.clone().try_inverse().ok_or_else(|| Error::singular("planted basis", "B is not invertible"))?;
    if condition(&b) >= 1e8 {
        return Err(Error::singular("planted basis", format!("condition number {:.2e} >= 1e8", condition(&b))));
    }
    // Core: Phi on the memory block, T (Frobenius norm = radius >= spectral radius) elsewhere.
    let mut core = DMatrix::<f64>::zeros(hidden, hidden);
    let phi_m = phi.matrix();
    for i in 0..n {
        for j in 0..n {
            core[(i, j)] = phi_m[[i, j]];
        }
    }
    let rest = hidden - n;
    if rest > 0 && transient_radius > 0.0 {
        let t = gaussian(rest, rest, rng);
        let scale = transient_radius / t.norm().max(f64::MIN_POSITIVE);
        for i in 0..rest {
            for j in 0..rest {
                core[(n + i, n + j)] = t[(i, j)] * scale;
            }
        }
    }
    let w = &b * core * &b_inv;
    let to_nd = |m: &DMatrix<f64>| Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)]);
    let basis = to_nd(&b);
    let w_uh = basis.slice(s![.., (s - 1) * d..n]).to_owned();
    let w_r = to_nd(&b_inv).slice(s![(s - 1) * d..n, ..]).to_owned();
    let weights = ElmanWeights::new(to_nd(&w), w_uh, w_r)?.with_activation(Activation::Identity);
    Ok(Planted { weights, basis })
}
