//! # emt-core: the shared language of emt
//!
//! Every emt crate speaks in these types, so a researcher can take any one crate alone:
//!
//! - [`Error`] / [`Result`]: one error type; every fallible function names the offending value.
//! - [`Episode`] and the [`Task`] trait: batches of `(T, B, d)` time-major `f32` sequences.
//! - [`ElmanWeights`]: checked `W_hh (N,N)`, `W_ih (N,d_in)`, `W_r (d_out,N)` and optional
//!   biases, generic over [`Real`] (`f32` for the engine, `f64` for analysis), with a
//!   reference simulator.
//! - [`cells`]: GRU, CT-RNN, CT-GRU and gated cells as checked types, and [`cells::ModelFile`],
//!   one safetensors format for every cell.
//! - [`DiscreteMap`] / [`Flow`]: what dynamical analysis needs of a cell (step or vector field,
//!   Jacobians with respect to state and input), implemented by every cell.
//! - [`metrics`]: `sign_accuracy` and `output_mse` over the scored steps (docs/EMT.md §2).
//! - [`rng`]: seeded, platform-stable random streams.
//!
//! ```
//! use ndarray::{Array2, Array3};
//! use emt_core::{ElmanWeights, metrics};
//!
//! let n = 8;
//! let w = ElmanWeights::new(Array2::<f64>::eye(n) * 0.5, Array2::ones((n, 2)), Array2::ones((2, n)))?;
//! let inputs = Array3::from_elem((5, 3, 2), 1.0);  // (T, B, d_in)
//! let traj = w.simulate(inputs.view())?;           // outputs (T, B, d_out), hidden (T, B, N)
//! let acc = metrics::sign_accuracy(traj.outputs.view(), inputs.view(), 2)?;
//! assert_eq!(acc, 1.0);
//! # Ok::<(), emt_core::Error>(())
//! ```

#![warn(missing_docs)]

pub mod cells;
pub mod check;
mod container;
mod episode;
mod error;
pub mod fs;
pub mod interrupt;
pub mod io;
pub mod maps;
pub mod metrics;
mod param_path;
pub mod progress;
mod real;
pub mod rng;
mod weights;

pub use episode::{Episode, Task};
pub use error::{Error, Result};
pub use maps::{DiscreteMap, EulerMap, FixedPointReduction, Flow};
pub use real::Real;
pub use weights::{Activation, ElmanWeights, Trajectory};

/// The README examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
