//! The machine's FP32 FMA peak, measured: independent chains of fused multiply-adds in the
//! widest registers the CPU has (AVX-512: 16 accumulators x 16 lanes; AVX2+FMA: 12 x 8;
//! otherwise scalar `mul_add`), one chain set per thread. Every figure of the train_step bench
//! is put beside this ceiling (issue 14).

use std::time::Instant;

/// FLOPs of `iters` rounds of the kernel (2 per lane per accumulator).
fn flops_per_round() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return 2 * 16 * 16;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return 2 * 12 * 8;
        }
    }
    2 * 8
}

/// Which kernel runs here.
pub fn kernel_name() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return "avx512 (16 x 16 lanes)";
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return "avx2+fma (12 x 8 lanes)";
        }
    }
    "scalar mul_add (8 chains)"
}

// The AVX-512 intrinsics are stable since Rust 1.89: the library MSRV (1.85) does not cover
// the benches, which need 1.89 or newer.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::incompatible_msrv)]
#[target_feature(enable = "avx512f")]
fn rounds_avx512(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm512_set1_ps(0.999_99), _mm512_set1_ps(1e-6));
    let mut acc = [_mm512_set1_ps(1.0); 16];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm512_fmadd_ps(*v, a, b);
        }
    }
    acc.iter().map(|v| _mm512_reduce_add_ps(*v)).sum()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn rounds_avx2(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let (a, b) = (_mm256_set1_ps(0.999_99), _mm256_set1_ps(1e-6));
    let mut acc = [_mm256_set1_ps(1.0); 12];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let mut out = [0.0f32; 8];
    let mut total = 0.0;
    for v in acc {
        // SAFETY: `out` holds exactly 8 f32, the width of one __m256.
        unsafe { _mm256_storeu_ps(out.as_mut_ptr(), v) };
        total += out.iter().sum::<f32>();
    }
    total
}

fn rounds_scalar(iters: u64) -> f32 {
    let mut acc = [1.0f32; 8];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = v.mul_add(0.999_99, 1e-6);
        }
    }
    acc.iter().sum()
}

/// Runs `iters` rounds of the widest kernel; returns a value so the work is not elided.
pub fn rounds(iters: u64) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked above).
            return unsafe { rounds_avx512(iters) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU has AVX2 and FMA (checked above).
            return unsafe { rounds_avx2(iters) };
        }
    }
    rounds_scalar(iters)
}

/// FLOPs done by `rounds(iters)` on one thread.
pub fn flops(iters: u64) -> u64 {
    iters * flops_per_round()
}

/// Peak GFLOP/s with `threads` threads each running `iters` rounds at once; the best of
/// `repeats` runs (the ceiling, not the typical value).
pub fn gflops(threads: usize, iters: u64, repeats: usize) -> f64 {
    let mut best = 0.0f64;
    for _ in 0..repeats {
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| std::hint::black_box(rounds(std::hint::black_box(iters))));
            }
        });
        let secs = start.elapsed().as_secs_f64();
        best = best.max((threads as u64 * flops(iters)) as f64 / secs / 1e9);
    }
    best
}
