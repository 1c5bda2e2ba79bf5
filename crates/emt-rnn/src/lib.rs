//! # emt-rnn: the training engine
//!
//! Elman RNNs `h(t) = tanh(W_hh h(t-1) + W_uh u(t) [+ b])`, `o(t) = W_r h(t) [+ b_r]`
//! trained by exact BPTT on the MSE over scored steps, with PyTorch's Adam and gradient
//! clipping, fast on a laptop CPU.
//!
//! - [`ElmanParams`]: parameters in PyTorch's state-dict order and default initialisation.
//! - [`Engine`]: forward, BPTT and batch statistics, generic over `f32` (training) and `f64`
//!   (gradient checks), split across threads with a fixed reduction order.

#![warn(missing_docs)]

mod engine;
mod kernels;
mod optim;
mod params;

pub use engine::{BatchStats, Engine};
pub use kernels::{EngineFloat, TanhMode, tanh_fast};
pub use optim::{Adam, AdamConfig, clip_grad_norm};
pub use params::{ElmanParams, Layout};
