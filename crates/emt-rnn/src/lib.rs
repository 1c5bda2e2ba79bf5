//! # emt-rnn: training engine (not yet implemented)
//!
//! This crate will hold the Elman forward pass, BPTT, Adam and the `Trainer` (issue 3).
//! It exposes no API yet.

#![warn(missing_docs)]
