//! Shared helpers for the circuit tests.

use emt_tasks::{LinearVb, TaskId};

pub const X: u128 = 9241421688590303745;

/// The four reference ids of EMT.md §2 (s = d = 8).
pub fn reference_tasks() -> Vec<LinearVb> {
    [(255, 0, 0), (X, 0, 0), (X, 262676, 189), (X, 38637, 145)]
        .iter()
        .map(|&(a, b, c)| LinearVb::new(TaskId::new(a, b, c), 8, 8).expect("reference ids are valid"))
        .collect()
}

/// A uniformly drawn valid task (see `LinearVb::random`).
pub fn random_task(s: usize, d: usize, seed: u64) -> LinearVb {
    LinearVb::random(s, d, &mut emt_core::rng::seeded(seed)).expect("sizes are valid")
}

/// Proptest settings for integration tests: `cases` cases, failures persisted beside the
/// test file (`*.proptest-regressions`, committed).
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Default::default()
    }
}
