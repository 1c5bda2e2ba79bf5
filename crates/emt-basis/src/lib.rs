//! # emt-basis: the variable-memory basis of a trained RNN
//!
//! Episodic Memory Theory says a network that solves a binding task writes `W_hh` as
//! `Psi Phi Psi*`: in the basis `Psi`, the hidden state holds the variables and `W_hh` just
//! shifts and composes them. Given weights (ours or PyTorch's) and the task's [`Phi`], this
//! crate finds `Psi`, shows `W_hh` in it (`phi_emp`), projects hidden states onto the
//! variables, and measures how well the network matches the theory.
//!
//! - [`VariableBasis::extract`] with [`Method::DualRecursion`] (ours, default: exact for any
//!   invertible basis, with closure residuals for trained networks) or
//!   [`Method::PaperKrylov`] (the paper's procedure, for comparison).
//! - [`compare_methods`]: all three extractions (dual recursion, the paper's, least squares) of
//!   one network with their decoding accuracy, as `emt analyze` and `emt table --decoding`
//!   report them.
//! - [`spectral_error`]: the paper's spectral comparison, with an optimal assignment and
//!   explicit count mismatches (never NaN).
//! - [`linalg`]: emt-linalg re-exported (eigendecomposition, SVD, pseudo-inverse, PCA).
//!
//! [`Phi`]: emt_tasks::Phi
//!
//! ```
//! use emt_basis::{ExtractOptions, VariableBasis, spectral_error};
//! use emt_core::{Activation, ElmanWeights};
//! use emt_tasks::{LinearVb, Phi, TaskId};
//!
//! let task = LinearVb::new(TaskId::new(255, 0, 0), 8, 8)?;   // repeat copy
//! let phi = Phi::new(&task);
//! // W_hh = Phi in the standard basis, readout on the newest slot.
//! let w_r = ndarray::Array2::from_shape_fn((8, 64), |(j, c)| f64::from(c == 56 + j));
//! let w = ElmanWeights::new(phi.matrix() * 1.0, w_r.t().to_owned(), w_r)?.with_activation(Activation::Identity);
//! let basis = VariableBasis::extract(&w, &phi, None, &ExtractOptions::default())?;
//! assert_eq!(basis.coordinates().len(), 64);
//! assert!(basis.phi_error() < 1e-12);
//! assert_eq!(spectral_error(w.w_hh(), phi.matrix().view(), 0.9)?.radians, 0.0);
//! # Ok::<(), emt_core::Error>(())
//! ```

#![warn(missing_docs)]

/// Linear algebra, re-exported from emt-linalg (kept here so `emt_basis::linalg` paths work).
pub use emt_linalg as linalg;
mod compare;
mod decoding;
mod spectral;
mod variable;

pub use compare::{Extraction, METHODS, TaskFit, compare_methods, task_fit};
pub use decoding::{Decoding, decoding_accuracy, memory_windows, stack_states};
pub use spectral::{SpectralComparison, compare_spectra, spectral_error};
pub use variable::{ClosureResidual, ExtractOptions, Grounding, Method, VariableBasis};

/// The README example, compiled (not run: it needs a weights file) as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
