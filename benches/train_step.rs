//! One training step (forward + BPTT + clip + Adam; data generation excluded), the unit
//! compared with JAX and PyTorch in issue 3. FLOP counts: 240.8 MFLOP for (128, 6, 35, 64).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use emt::core::{Task, rng};
use emt::rnn::{Adam, AdamConfig, ElmanParams, Engine, TanhMode, clip_grad_norm};
use emt::tasks::{LinearVb, TaskId};
use std::hint::black_box;

/// (N, d, T, B) configurations: T = s + H with s = 7 (d = 6) or s = 8 (d = 8).
const CONFIGS: [(usize, usize, usize, usize); 4] =
    [(128, 6, 35, 64), (64, 6, 35, 64), (256, 6, 35, 64), (128, 8, 108, 64)];

/// Multiply-adds of one step, times 2: forward (input, recurrent, readout), backward
/// (readout and recurrent propagation) and the three weight-gradient GEMMs.
fn flops(n: usize, d: usize, t: usize, b: usize, scored: usize) -> u64 {
    let (n, d, t, b, sc) = (n as u64, d as u64, t as u64, b as u64, scored as u64);
    let forward = t * b * n * d + (t - 1) * b * n * n + sc * b * n * d;
    let backward = sc * b * n * d * 2 + (t - 1) * b * n * n * 2 + t * b * n * d;
    2 * (forward + backward)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step");
    group.sample_size(30);
    for &(n, d, t, b) in &CONFIGS {
        let s = if d == 6 { 7 } else { 8 };
        let task = LinearVb::new(TaskId::repeat_copy(d), s, d).expect("valid task");
        let ep = task.sample(t - s, b, &mut rng::seeded(0)).expect("valid sizes");
        group.throughput(Throughput::Elements(flops(n, d, t, b, t - s)));
        for threads in [1, 2] {
            let mut params = ElmanParams::<f32>::init(n, d, d, false, &mut rng::seeded(1)).expect("valid sizes");
            let mut grad = ElmanParams::zeros(params.layout());
            let mut adam = Adam::new(params.layout().len(), AdamConfig::default()).expect("valid config");
            let mut engine = Engine::new(threads, TanhMode::Fast).expect("valid threads");
            let id = BenchmarkId::new(format!("N{n}_d{d}_T{t}_B{b}"), format!("{threads}thr"));
            group.bench_function(id, |bench| {
                bench.iter(|| {
                    let stats = engine.loss_and_grad(&params, &ep, &mut grad).expect("valid episode");
                    clip_grad_norm(grad.as_mut_slice(), 1.0).expect("valid norm");
                    adam.step(params.as_mut_slice(), grad.as_slice()).expect("same sizes");
                    black_box(stats.loss)
                })
            });
        }
    }
    group.finish();
}

/// GRU and CT-RNN steps at (N, d, T, B, scored from) = (128, 6, 35, 64, 7) and the SET-task
/// shape (100, 100, 50, 128, last 5 steps), with random-sign data, the peers' shapes in
/// tools/bench_peers.py.
fn bench_cells(c: &mut Criterion) {
    use emt::core::Episode;
    use emt::rnn::{CellSpec, Params};
    use ndarray::Array3;
    use rand::Rng;
    let mut group = c.benchmark_group("train_step_cells");
    group.sample_size(20);
    for &(n, d, t, b, first) in &[(128usize, 6usize, 35usize, 64usize, 7usize), (100, 100, 50, 128, 45)] {
        let mut r = rng::seeded(0);
        let x = Array3::from_shape_fn((t, b, d), |_| if r.random::<bool>() { 1.0f32 } else { -1.0 });
        let y = Array3::from_shape_fn((t, b, d), |_| if r.random::<bool>() { 1.0f32 } else { -1.0 });
        let ep = Episode::new(x, y, first).expect("valid episode");
        for (name, cell, noise) in [
            ("gru", CellSpec::Gru, 0.0),
            ("ctrnn", CellSpec::CtRnn { alpha: 0.1 }, 0.1),
            ("ctgru", CellSpec::CtGru { dt: 0.1 }, 0.0),
        ] {
            for threads in [1, 2] {
                let mut params =
                    Params::<f32>::init_cell(cell, n, d, d, true, &mut rng::seeded(1)).expect("valid sizes");
                let mut grad = Params::zeros(params.layout());
                let mut adam = Adam::new(params.layout().len(), AdamConfig::default()).expect("valid config");
                let mut engine =
                    Engine::new(threads, TanhMode::Fast).and_then(|e| e.with_noise(noise, 7)).expect("valid engine");
                let id = BenchmarkId::new(format!("{name}_N{n}_d{d}_T{t}_B{b}"), format!("{threads}thr"));
                group.bench_function(id, |bench| {
                    bench.iter(|| {
                        let stats = engine.loss_and_grad(&params, &ep, &mut grad).expect("valid episode");
                        clip_grad_norm(grad.as_mut_slice(), 1.0).expect("valid norm");
                        adam.step(params.as_mut_slice(), grad.as_slice()).expect("same sizes");
                        black_box(stats.loss)
                    })
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench, bench_cells);
criterion_main!(benches);
