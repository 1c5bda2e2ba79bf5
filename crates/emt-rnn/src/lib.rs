//! # emt-rnn: the training engine
//!
//! Elman RNNs `h(t) = tanh(W_hh h(t-1) + W_ih u(t) [+ b])`, `o(t) = W_r h(t) [+ b_r]`, and
//! the other trainable cells of docs/DYNAMICS.md §1 (GRU, Euler CT-RNN, continuous-time GRU:
//! [`CellSpec`]), trained by exact BPTT on the MSE over scored steps (plus an optional rate
//! penalty), with PyTorch's Adam / AdamW and gradient clipping, fast on a laptop CPU.
//!
//! - [`Params`] (alias [`ElmanParams`]): parameters in PyTorch's state-dict order and default
//!   initialisation, for any cell.
//! - [`Engine`]: forward, BPTT and batch statistics, generic over `f32` (training) and `f64`
//!   (gradient checks), split across threads with a fixed reduction order; the cell is a value
//!   of the parameters' [`Layout`], so the engine is written once.
//! - [`Adam`] (coupled L2 or AdamW's decoupled decay, [`Decay`]), [`clip_grad_norm`]: PyTorch's
//!   semantics.
//! - [`Trainer`] + [`TrainerParams`] + [`Observer`]: the loop, in the solver/observer style.
//!
//! ```
//! use emt_rnn::{Trainer, TrainerParams};
//! use emt_rnn::Curriculum;
//! use emt_tasks::RepeatCopy;
//! let params = TrainerParams::paper().hidden(32).max_steps(30).eval_horizon(8).eval_batch(32)
//!     .curriculum(Curriculum::new(vec![8], 0.96)?);
//! let mut trainer = Trainer::new(RepeatCopy::new(4, 4, 2)?, params)?;
//! let report = trainer.run(&mut [])?;
//! assert_eq!(report.steps, 30);
//! # Ok::<(), emt_core::Error>(())
//! ```

#![warn(missing_docs)]

mod curriculum;
mod engine;
mod kernels;
mod optim;
mod params;
mod profile;
pub mod recipe;
mod trainer;

pub use curriculum::Curriculum;
pub use engine::{BatchStats, Engine};
pub use kernels::{EngineFloat, TanhMode, tanh_fast};
pub use optim::{Adam, AdamConfig, Decay, clip_grad_norm};
pub use params::{CellSpec, ElmanParams, Init, Layout, Params};
pub use profile::PhaseTimes;
pub use trainer::{
    Control, EvalInfo, Event, Observer, StepInfo, StopReason, TrainReport, Trainer, TrainerParams, TrainerView,
};

/// The README example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
