//! # emt-tasks: variable-binding tasks
//!
//! The task family of Episodic Memory Theory (docs/EMT.md §2): `s` variables of `d` bits are shown,
//! then each output bit is a signed copy of one bit of the last `s` outputs, as chosen by an
//! operator F `(s*d, d)` named by a [`TaskId`].
//!
//! - [`LinearVb`]: any member, decoded from `(id1, id2, id3)`; [`TaskId::from_operator`] is the
//!   inverse.
//! - [`RepeatCopy`] (classic form) and [`ComposeCopy`]: named members.
//! - [`Phi`]: the task's memory operator (shift + composition), its cycles and exact spectrum.
//! - [`FlipFlop`]: the classic fixed-point benchmark (Sussillo & Barak), for every cell.
//! - [`SetTask`]: the SET / mod-3 task of the phase-code paper (27 card sequences, 9 accepted),
//!   and [`SetEpochs`], its fixed balanced training set in reshuffled batches.
//!
//! All tasks implement [`emt_core::Task`]: episodes are time-major `(T, B, d)` `f32`.
//!
//! ```
//! use emt_core::{Task, rng};
//! use emt_tasks::{LinearVb, TaskId};
//!
//! let task = LinearVb::new("255,0,0".parse()?, 8, 8)?; // repeat copy, s = d = 8
//! let ep = task.sample(16, 32, &mut rng::seeded(42))?;
//! assert_eq!(ep.inputs().dim(), (24, 32, 8));           // (s + H, B, d)
//! assert_eq!(ep.first_scored(), 8);
//! assert_eq!(ep.targets()[[20, 5, 3]], ep.inputs()[[4, 5, 3]]); // y(t) = y(t - 8)
//! # Ok::<(), emt_core::Error>(())
//! ```

#![warn(missing_docs)]

mod analog;
mod flipflop;
mod linear_vb;
mod named;
mod phi;
mod set;
mod task_id;

pub use analog::AnalogMemory;
pub use flipflop::FlipFlop;
pub use linear_vb::{LinearVb, Source};
pub use named::{ComposeCopy, RepeatCopy};
pub use phi::{Cycle, Phi};
pub use set::{COLOURS, Cards, SetEncoding, SetEpochs, SetTask, SetTiming, set_label, set_labels};
pub use task_id::TaskId;

/// The README examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
