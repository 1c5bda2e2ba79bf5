//! # emt: Episodic Memory Theory for recurrent neural networks
//!
//! The facade crate: it re-exports the workspace's crates under short names, so one
//! dependency gives the whole toolkit.
//!
//! | module | crate | job |
//! |---|---|---|
//! | [`core`] | `emt-core` | errors, episodes, the `Task` trait, the cells and model files, metrics |
//! | [`tasks`] | `emt-tasks` | variable-binding tasks (`LinearVb`, `RepeatCopy`, ...), `FlipFlop` |
//! | [`rnn`] | `emt-rnn` | training engine and the curriculum |
//! | [`circuit`] | `emt-circuit` | closed-form circuits |
//! | [`basis`] | `emt-basis` | variable-memory basis extraction |
//! | [`dynamics`] | `emt-dynamics` | fixed points, Lyapunov spectra, attractors, limit cycles, phase response, sweeps, certified zeros |
//! | [`linalg`] | `emt-linalg` | dense linear algebra on ndarray types |
//!
//! Two crates sit beside the facade rather than in it, so that a library user does not compile
//! plotters unless asked: `emt-plot` (every figure emt draws, PNG / SVG with an embedded font) and
//! `emt-repro` (each dynamics paper as typed settings returning a serialisable report). Add them
//! as dependencies of their own.
//!
//! ```
//! use emt::prelude::*;
//! let task = LinearVb::new("255,0,0".parse()?, 8, 8)?;
//! let episode = task.sample(20, 4, &mut emt::core::rng::seeded(0))?;
//! assert_eq!(episode.inputs().dim(), (28, 4, 8));
//! # Ok::<(), emt::core::Error>(())
//! ```

#![warn(missing_docs)]

pub use emt_basis as basis;
pub use emt_circuit as circuit;
pub use emt_core as core;
pub use emt_dynamics as dynamics;
pub use emt_linalg as linalg;
pub use emt_rnn as rnn;
pub use emt_tasks as tasks;
/// The array crate of every emt API (`Array2<f64>`, `ArrayView3<f32>`, ...), re-exported so a
/// caller needs no version of its own.
pub use ndarray;
/// The random-number crate of emt's seeds and samplers, re-exported likewise.
pub use rand;

/// The names most programs need.
pub mod prelude {
    pub use emt_core::{Activation, ElmanWeights, Episode, Error, Result, Task};
    pub use emt_rnn::Curriculum;
    pub use emt_tasks::{ComposeCopy, LinearVb, RepeatCopy, TaskId};
}

/// The README examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
