//! Shared helpers for the circuit tests.

use emt_tasks::{LinearVb, TaskId};

pub use emt_testkit::proptest_config;

/// The four reference ids of docs/EMT.md §2 (s = d = 8).
pub fn reference_tasks() -> Vec<LinearVb> {
    emt_testkit::REFERENCE_IDS
        .iter()
        .map(|&(a, b, c)| LinearVb::new(TaskId::new(a, b, c), 8, 8).expect("reference ids are valid"))
        .collect()
}

/// A uniformly drawn valid task (see `LinearVb::random`).
pub fn random_task(s: usize, d: usize, seed: u64) -> LinearVb {
    LinearVb::random(s, d, &mut emt_core::rng::seeded(seed)).expect("sizes are valid")
}
