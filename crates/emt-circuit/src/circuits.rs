//! The closed-form binding circuits of docs/EMT.md §3.

use std::fmt;

use emt_core::{Activation, ElmanWeights, Error, Result};
use emt_tasks::{LinearVb, Phi};
use ndarray::{Array1, Array2, s};

use crate::MemoryBasis;

/// Whether the linear circuit reproduces its task end to end at every horizon.
#[derive(Debug, Clone, PartialEq)]
pub enum Realizability {
    /// Exact (to rounding) at every horizon.
    Exact,
    /// Not exact: after the input phase a memory coordinate that the readout will read holds
    /// a mixture of inputs instead of its own window bit.
    Inexact {
        /// The offending memory coordinate `r = k*d + i` (slot `k`, bit `i`).
        coordinate: usize,
        /// What it holds after the input phase: `(window position, coefficient)` pairs; a
        /// faithful memory would hold exactly `[(coordinate, 1.0)]`.
        holds: Vec<(usize, f64)>,
        /// After how many output-phase steps the readout first reads it.
        read_after: usize,
        /// Variable size `d` (to name slots and bits).
        d: usize,
    },
}

impl Realizability {
    /// True when exact.
    pub fn is_exact(&self) -> bool {
        matches!(self, Realizability::Exact)
    }

    /// The exact criterion of docs/EMT.md §3 for the task's `Phi`.
    ///
    /// `M` is the memory after the input phase for unit inputs (column `k*d + i` is
    /// `Phi^(s-1-k) e_((s-1)d + i)`); `R` is the set of coordinates reachable from the readout
    /// block in one or more steps. Exact iff rows `R` of `M` equal rows `R` of the identity.
    pub fn of(phi: &Phi) -> Self {
        let (s, d, n) = (phi.s(), phi.d(), phi.n());
        let (targets, signs) = (phi.targets(), phi.signs());
        let mut m = Array2::<f64>::zeros((n, n));
        for k in 0..s {
            for i in 0..d {
                let mut v = Array1::<f64>::zeros(n);
                v[(s - 1) * d + i] = 1.0;
                for _ in 0..(s - 1 - k) {
                    // Phi v, row by row: (Phi v)_r = sign_r v_target(r).
                    v = targets.iter().zip(signs).map(|(&t, &sg)| f64::from(sg) * v[t]).collect();
                }
                m.column_mut(k * d + i).assign(&v);
            }
        }
        let distance = readout_distances(phi);
        let mut reachable: Vec<usize> = (0..n).filter(|&r| distance[r].is_some()).collect();
        reachable.sort_by_key(|&r| (distance[r], r));
        for r in reachable {
            let row = m.row(r);
            let faithful = row.iter().enumerate().all(|(q, &x)| x == if q == r { 1.0 } else { 0.0 });
            if !faithful {
                let holds = row.iter().copied().enumerate().filter(|&(_, x)| x != 0.0).collect();
                return Realizability::Inexact { coordinate: r, holds, read_after: distance[r].unwrap_or(0), d };
            }
        }
        Realizability::Exact
    }
}

/// Fewest steps from the readout block to each coordinate (None: never read).
fn readout_distances(phi: &Phi) -> Vec<Option<usize>> {
    let (s, d, n) = (phi.s(), phi.d(), phi.n());
    let mut dist = vec![None; n];
    let mut frontier: Vec<usize> = ((s - 1) * d..n).collect();
    for step in 1..=n {
        let mut next = Vec::new();
        for &q in &frontier {
            let c = phi.targets()[q];
            if dist[c].is_none() {
                dist[c] = Some(step);
                next.push(c);
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    dist
}

impl fmt::Display for Realizability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Realizability::Exact => write!(f, "exact at every horizon"),
            Realizability::Inexact { coordinate, holds, read_after, d } => {
                let name = |c: usize| format!("u({})_{}", c / d, c % d);
                let terms: Vec<String> = holds.iter().map(|&(q, x)| format!("{x:+}*{}", name(q))).collect();
                write!(
                    f,
                    "not exact: after the input phase memory coordinate {coordinate} (slot {}, bit {}) holds {} \
                     instead of {}, and the readout reads it {read_after} step(s) into the output phase \
                     (the composition row fires on the half-filled window)",
                    coordinate / d,
                    coordinate % d,
                    if terms.is_empty() { "0".to_string() } else { terms.join(" ") },
                    name(*coordinate),
                )
            }
        }
    }
}

fn check_basis(task: &LinearVb, basis: &MemoryBasis) -> Result<()> {
    let n = task.s() * task.d();
    if basis.memory_dim() != n {
        return Err(Error::shape(
            "basis",
            format!("(N, n) with n = s*d = {n}"),
            format!("(N, {})", basis.memory_dim()),
        ));
    }
    Ok(())
}

/// The linear circuit: `W_hh = Psi Phi Psi+`, `W_ih = Psi[:, block s-1]`,
/// `W_r = Psi+[block s-1, :]`, identity activation.
///
/// ```
/// use emt_circuit::{LinearCircuit, MemoryBasis};
/// use emt_tasks::{LinearVb, TaskId};
/// let task = LinearVb::new(TaskId::new(255, 0, 0), 8, 8)?;
/// let circuit = LinearCircuit::new(&task, &MemoryBasis::orthonormal(80, 64, &mut emt_core::rng::seeded(0))?)?;
/// assert!(circuit.realizable());
/// assert_eq!(circuit.weights().hidden_dim(), 80);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LinearCircuit {
    weights: ElmanWeights<f64>,
    realizability: Realizability,
}

impl LinearCircuit {
    /// Builds the circuit for `task` in `basis` (`n = s*d` columns).
    pub fn new(task: &LinearVb, basis: &MemoryBasis) -> Result<Self> {
        check_basis(task, basis)?;
        let phi = Phi::new(task);
        let (s, d) = (task.s(), task.d());
        let psi = basis.psi();
        let w_hh = psi.dot(&phi.matrix()).dot(&basis.dual());
        let w_ih = basis.block(s - 1, d)?.to_owned();
        let w_r = basis.dual().slice(s![(s - 1) * d.., ..]).to_owned();
        let weights = ElmanWeights::new(w_hh, w_ih, w_r)?.with_activation(Activation::Identity);
        Ok(LinearCircuit { weights, realizability: Realizability::of(&phi) })
    }

    /// The weights (identity activation, no biases).
    pub fn weights(&self) -> &ElmanWeights<f64> {
        &self.weights
    }

    /// Takes the weights.
    pub fn into_weights(self) -> ElmanWeights<f64> {
        self.weights
    }

    /// True when the circuit is exact at every horizon (see [`Realizability::of`]).
    pub fn realizable(&self) -> bool {
        self.realizability.is_exact()
    }

    /// Exactness with the reason when not exact.
    pub fn realizability(&self) -> &Realizability {
        &self.realizability
    }
}

/// The neuron-aligned tanh circuit (ours; docs/EMT.md §3): `W_hh = g Psi Phi Psi^T`,
/// `W_ih = a Psi[:, block s-1]`, `W_r = Psi[:, block s-1]^T / m*` with `m* = tanh(g m*)`.
/// It solves every task of the family: each neuron copies one signed neuron, so signs
/// propagate exactly and magnitudes settle at `m*`, and during the input phase the write
/// (`a > g`) outweighs the composition term.
///
/// ```
/// use emt_circuit::{MemoryBasis, TanhCircuit};
/// use emt_tasks::{LinearVb, TaskId};
/// let task = LinearVb::new(TaskId::new(0x8040201008040201, 0, 0), 8, 8)?;
/// let basis = MemoryBasis::signed_permutation(96, 64, &mut emt_core::rng::seeded(1))?;
/// let weights = TanhCircuit::new(1.5, 3.0)?.build(&task, &basis)?;
/// assert_eq!(weights.activation(), emt_core::Activation::Tanh);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TanhCircuit {
    gain: f64,
    write: f64,
}

impl TanhCircuit {
    /// `gain > 1` (so a nonzero fixed point exists) and `write > gain` (so inputs win),
    /// both finite.
    pub fn new(gain: f64, write: f64) -> Result<Self> {
        if !(gain.is_finite() && gain > 1.0) {
            return Err(Error::param("gain", gain, "must be finite and > 1"));
        }
        if !(write.is_finite() && write > gain) {
            return Err(Error::param("write", write, format!("must be finite and > gain = {gain}")));
        }
        Ok(TanhCircuit { gain, write })
    }

    /// The gain `g`.
    pub fn gain(&self) -> f64 {
        self.gain
    }

    /// The write strength `a`.
    pub fn write(&self) -> f64 {
        self.write
    }

    /// `m* > 0` with `m* = tanh(g m*)`, by bisection to machine precision.
    pub fn fixed_point(&self) -> f64 {
        // f(m) = tanh(g m) - m is > 0 just above 0 (g > 1) and < 0 at 1.
        let (mut lo, mut hi) = (f64::MIN_POSITIVE, 1.0);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if (self.gain * mid).tanh() > mid { lo = mid } else { hi = mid }
        }
        0.5 * (lo + hi)
    }

    /// Builds the weights for `task` in a neuron-aligned `basis` (e.g.
    /// [`MemoryBasis::signed_permutation`]); other bases are an error, since tanh acts
    /// neuron by neuron and would mix coordinates.
    pub fn build(&self, task: &LinearVb, basis: &MemoryBasis) -> Result<ElmanWeights<f64>> {
        check_basis(task, basis)?;
        if basis.neurons().is_none() {
            return Err(Error::param(
                "basis",
                "not neuron-aligned",
                "the tanh circuit needs a signed permutation basis",
            ));
        }
        let (s, d) = (task.s(), task.d());
        let psi = basis.psi();
        let w_hh = psi.dot(&Phi::new(task).matrix()).dot(&psi.t()) * self.gain;
        let newest = basis.block(s - 1, d)?;
        let w_ih = newest.to_owned() * self.write;
        let w_r = newest.t().to_owned() / self.fixed_point();
        ElmanWeights::new(w_hh, w_ih, w_r)
    }
}
