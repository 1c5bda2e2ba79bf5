//! The machine's FP32 FMA peak on 1 and 2 threads (criterion reports it as elements/s =
//! FLOP/s): the ceiling the train_step figures are read against.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

// Shared with train_step, which also uses `gflops`.
#[allow(dead_code)]
#[path = "common/peak.rs"]
mod peak;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("fma_peak");
    let iters = 2_000_000u64;
    for threads in [1usize, 2] {
        group.throughput(Throughput::Elements(threads as u64 * peak::flops(iters)));
        let id = BenchmarkId::new(peak::kernel_name(), format!("{threads}thr"));
        group.bench_function(id, |b| {
            b.iter(|| {
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| std::hint::black_box(peak::rounds(std::hint::black_box(iters))));
                    }
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
