//! Forward-only throughput: 1,024 sequences at N = 128, T = 35 (classic repeat copy, d = 6).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use emt::core::rng;
use emt::rnn::{ElmanParams, Engine, TanhMode};
use emt::tasks::RepeatCopy;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward");
    group.sample_size(30);
    let task = RepeatCopy::new(6, 7, 4).expect("valid task");
    let ep = task.sample_classic(1024, &mut rng::seeded(0)).expect("valid sizes");
    let params = ElmanParams::<f32>::init(128, 6, 6, false, &mut rng::seeded(1)).expect("valid sizes");
    group.throughput(Throughput::Elements(1024));
    for threads in [1, 2] {
        let mut engine = Engine::new(threads, TanhMode::Fast).expect("valid threads");
        group.bench_function(BenchmarkId::new("N128_T35_1024seq", format!("{threads}thr")), |b| {
            b.iter(|| black_box(engine.evaluate(&params, &ep).expect("valid episode").loss))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
