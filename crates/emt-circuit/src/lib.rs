//! # emt-circuit: closed-form circuits (not yet implemented)
//!
//! This crate will build `Phi`, memory bases and the linear and tanh binding circuits
//! (issue 4). It exposes no API yet.

#![warn(missing_docs)]
