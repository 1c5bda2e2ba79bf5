//! # emt-repro: the papers' results as library calls
//!
//! Each dynamics paper emt reproduces is a module with typed settings (`Default` = the paper's
//! scale, `quick()` = the CI scale, seconds) and a serialisable report; `emt reproduce <paper>`
//! only parses flags into the settings and prints the report as JSON, and a notebook or the
//! Python package gets the same numbers from one call.
//!
//! - [`gating`]: the theory of gating (Krishnamurthy, Can & Schwab; docs/DYNAMICS.md §8).
//! - [`gru`]: continuous-time GRUs in 2-D (Jordan, Sokol & Park).
//! - [`phase_codes`]: the SET / mod-3 task (Murray): phase codes on limit cycles vs lattices of
//!   fixed points, the automata the trained networks implement.
//!
//! Long runs report progress through a `say` callback (one line per finished measurement); the
//! library never prints. Every analysis inside checks the caller's interrupt hook
//! ([`emt_core::interrupt`]), so a Ctrl-C handler can stop a run cleanly.

#![warn(missing_docs)]

pub mod gating;
pub mod gru;
pub mod phase_codes;

/// Where a run's progress lines go (the CLI prints them on stderr; pass `&mut |_| {}` to drop them).
pub type Say<'a> = &'a mut dyn FnMut(&str);

/// The README's example, compiled and run as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
