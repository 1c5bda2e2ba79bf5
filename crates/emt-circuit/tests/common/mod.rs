//! Shared helpers for the circuit tests.

use emt_tasks::{LinearVb, TaskId};
use rand::{Rng, SeedableRng};

pub const X: u128 = 9241421688590303745;

/// The four reference ids of EMT.md §2 (s = d = 8).
pub fn reference_tasks() -> Vec<LinearVb> {
    [(255, 0, 0), (X, 0, 0), (X, 262676, 189), (X, 38637, 145)]
        .iter()
        .map(|&(a, b, c)| LinearVb::new(TaskId::new(a, b, c), 8, 8).expect("reference ids are valid"))
        .collect()
}

/// A uniformly drawn valid task: `d` distinct window positions, swap digits `g_p < d - p`,
/// random signs.
pub fn random_task(s: usize, d: usize, seed: u64) -> LinearVb {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut positions: Vec<usize> = (0..s * d).collect();
    for i in 0..d {
        let j = r.random_range(i..s * d);
        positions.swap(i, j);
    }
    let id1 = positions[..d].iter().fold(0u128, |acc, &p| acc | 1 << p);
    let id2 = (0..d).rev().fold(0u128, |acc, p| acc * d as u128 + r.random_range(0..(d - p)) as u128);
    let id3 = r.random_range(0..(1u128 << d));
    LinearVb::new(TaskId::new(id1, id2, id3), s, d).expect("generator only builds valid ids")
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
