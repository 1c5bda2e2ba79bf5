//! # emt-basis: interpretation linear algebra (not yet implemented)
//!
//! This crate will extract the variable-memory basis from trained weights (issue 5).
//! It exposes no API yet.

#![warn(missing_docs)]
