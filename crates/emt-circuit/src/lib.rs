//! # emt-circuit: closed-form variable-binding circuits
//!
//! Episodic Memory Theory says an RNN that solves a variable-binding task stores the last
//! `s` variables in a memory basis `Psi` and updates them with the operator [`Phi`]: shift
//! every variable one slot older and write the composition `F^T` of all slots into the newest.
//! This crate builds those circuits in closed form and says exactly what they guarantee.
//!
//! - [`Phi`]: the operator, its cycle decomposition and its exact spectrum.
//! - [`MemoryBasis`]: random orthonormal, neuron-aligned signed permutation, or your own.
//! - [`LinearCircuit`]: `W_hh = Psi Phi Psi+`, identity activation. Exact at every horizon iff
//!   [`Realizability::of`] says so (ours: the exact criterion). Few random ids pass: 16 of 48
//!   at s = d = 2, 14-20% at the next sizes, 2.2% of random ids with s, d in 2..8 (docs/EMT.md's
//!   "about 29%" holds only at the smallest sizes; our tests count them exhaustively). Repeat
//!   copy and its signed permutations always pass.
//! - [`TanhCircuit`]: a neuron-aligned tanh circuit that solves every task of the family.
//! - [`planted`]: `W_hh = B diag(Phi, T) B^-1` with a known basis, for testing extraction.
//!
//! ```
//! use emt_circuit::{LinearCircuit, MemoryBasis, Phi, TanhCircuit};
//! use emt_core::{Task, metrics, rng};
//! use emt_tasks::{LinearVb, TaskId};
//!
//! let task = LinearVb::new(TaskId::new(0x8040201008040201, 262676, 189), 8, 8)?;
//! assert_eq!(Phi::new(&task).cycle_structure(), vec![(24, -1), (6, -1), (3, -1), (3, -1)]);
//!
//! let linear = LinearCircuit::new(&task, &MemoryBasis::orthonormal(64, 64, &mut rng::seeded(0))?)?;
//! assert!(!linear.realizable());   // the composition row writes junk during the input phase
//! println!("{}", linear.realizability());
//!
//! let tanh = TanhCircuit::new(1.5, 3.0)?.build(&task, &MemoryBasis::signed_permutation(96, 64, &mut rng::seeded(0))?)?;
//! let ep = task.sample(200, 16, &mut rng::seeded(1))?;
//! let out = tanh.simulate(ep.inputs().mapv(f64::from).view())?.outputs;
//! assert_eq!(metrics::sign_accuracy(out.view(), ep.targets(), ep.first_scored())?, 1.0);
//! # Ok::<(), emt_core::Error>(())
//! ```

#![warn(missing_docs)]

mod basis;
mod circuits;
mod planted;

pub use basis::{MemoryBasis, RANK_TOLERANCE};
pub use circuits::{LinearCircuit, Realizability, TanhCircuit};
/// Phi lives in emt-tasks (emt-basis needs it too); re-exported here for convenience.
pub use emt_tasks::{Cycle, Phi};
pub use planted::{Planted, PlantedBasis, planted};

/// The README example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
