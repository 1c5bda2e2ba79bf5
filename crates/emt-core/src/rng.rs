//! Seeded random generators: the same seed gives the same stream on every machine.
//!
//! emt uses ChaCha8, whose output rand_chacha guarantees to be stable across versions and
//! platforms, so a seed written in a results file reproduces the run.

use rand::{RngCore, SeedableRng};

/// The generator used throughout emt.
pub type EmtRng = rand_chacha::ChaCha8Rng;

/// A generator seeded from `seed`.
///
/// ```
/// use rand::RngCore;
/// let (mut a, mut b) = (emt_core::rng::seeded(7), emt_core::rng::seeded(7));
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
pub fn seeded(seed: u64) -> EmtRng {
    EmtRng::seed_from_u64(seed)
}

/// An independent stream `stream` for `seed` (e.g. one for initialisation, one for data,
/// one for evaluation), so adding draws to one stream never shifts another.
pub fn stream(seed: u64, stream: u64) -> EmtRng {
    let mut rng = seeded(seed);
    rng.set_stream(stream);
    rng
}

/// Fills `out` with independent uniform signs in {-1, +1}, 64 signs per `u64` drawn, in
/// order: bit `k` of the `j`-th draw gives element `64 j + k` (bit set = +1).
///
/// ```
/// let mut v = [0.0f32; 100];
/// emt_core::rng::fill_signs(&mut v, &mut emt_core::rng::seeded(1));
/// assert!(v.iter().all(|&x| x == 1.0 || x == -1.0));
/// ```
pub fn fill_signs(out: &mut [f32], rng: &mut dyn RngCore) {
    for chunk in out.chunks_mut(64) {
        let bits = rng.next_u64();
        for (k, x) in chunk.iter_mut().enumerate() {
            *x = if (bits >> k) & 1 == 1 { 1.0 } else { -1.0 };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_independent_and_reproducible() {
        let a: Vec<u64> = (0..4).map(|_| stream(3, 0).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(stream(3, 0).next_u64(), stream(3, 1).next_u64());
        assert_ne!(seeded(3).next_u64(), seeded(4).next_u64());
    }

    #[test]
    fn signs_are_balanced() {
        let mut v = vec![0.0f32; 64_000];
        fill_signs(&mut v, &mut seeded(11));
        let mean: f64 = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
    }
}
