//! One training step (forward + BPTT + clip + Adam; data generation excluded), the unit
//! compared with JAX and PyTorch in issue 3. FLOP counts: 240.8 MFLOP for (128, 6, 35, 64).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use emt::core::{Task, rng};
use emt::rnn::{Adam, AdamConfig, ElmanParams, Engine, TanhMode, clip_grad_norm};
use emt::tasks::{LinearVb, TaskId};
use std::hint::black_box;

#[path = "common/peak.rs"]
mod peak;

/// (N, d, T, B) configurations: T = s + H with s = 7 (d = 6) or s = 8 (d = 8).
const CONFIGS: [(usize, usize, usize, usize); 4] =
    [(128, 6, 35, 64), (64, 6, 35, 64), (256, 6, 35, 64), (128, 8, 108, 64)];

/// Multiply-adds of one step, times 2: forward (input, recurrent, readout), backward
/// (readout and recurrent propagation) and the three weight-gradient GEMMs; `gates` recurrent
/// blocks of N rows (1: elman, ctrnn; 3: gru, ctgru).
fn flops_gated(n: usize, d: usize, t: usize, b: usize, scored: usize, gates: usize) -> u64 {
    let (n, d, t, b, sc, g) = (n as u64, d as u64, t as u64, b as u64, scored as u64, gates as u64);
    let forward = t * b * g * n * d + (t - 1) * b * g * n * n + sc * b * n * d;
    let backward = sc * b * n * d * 2 + (t - 1) * b * g * n * n * 2 + t * b * g * n * d;
    2 * (forward + backward)
}

/// The Elman step's FLOPs.
fn flops(n: usize, d: usize, t: usize, b: usize, scored: usize) -> u64 {
    flops_gated(n, d, t, b, scored, 1)
}

/// (N, d, T, B, first scored step) of the cell benches.
const CELL_CONFIGS: [(usize, usize, usize, usize, usize); 2] = [(128, 6, 35, 64, 7), (100, 100, 50, 128, 45)];

/// (name, cell, noise std, gate blocks) of the cell benches.
fn cells() -> [(&'static str, emt::rnn::CellSpec, f64, usize); 4] {
    use emt::rnn::CellSpec;
    [
        ("gru", CellSpec::Gru, 0.0, 3),
        ("lstm", CellSpec::Lstm, 0.0, 4),
        ("ctrnn", CellSpec::CtRnn { alpha: 0.1 }, 0.1, 1),
        ("ctgru", CellSpec::CtGru { dt: 0.1 }, 0.0, 3),
    ]
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
    use emt::rnn::Params;
    use ndarray::Array3;
    use rand::Rng;
    let mut group = c.benchmark_group("train_step_cells");
    group.sample_size(20);
    for &(n, d, t, b, first) in &CELL_CONFIGS {
        let mut r = rng::seeded(0);
        let x = Array3::from_shape_fn((t, b, d), |_| if r.random::<bool>() { 1.0f32 } else { -1.0 });
        let y = Array3::from_shape_fn((t, b, d), |_| if r.random::<bool>() { 1.0f32 } else { -1.0 });
        let ep = Episode::new(x, y, first).expect("valid episode");
        for (name, cell, noise, gates) in cells() {
            group.throughput(Throughput::Elements(flops_gated(n, d, t, b, t - first, gates)));
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

/// After the timings: the FMA peak on 1 and 2 threads, measured now, and every Elman median
/// criterion just wrote (`target/criterion/train_step/...`) as GFLOP/s and % of the peak at the
/// same thread count, then the cells' (gru, ctrnn, ctgru). Printed, and written to
/// `target/criterion/train_step_vs_peak.json`.
fn vs_peak(_: &mut Criterion) {
    let root = std::path::PathBuf::from(std::env::var("CRITERION_HOME").unwrap_or_else(|_| "target/criterion".into()));
    let peaks = [peak::gflops(1, 4_000_000, 5), peak::gflops(2, 4_000_000, 5)];
    println!("\nFMA peak ({}): {:.1} GFLOP/s on 1 thread, {:.1} on 2", peak::kernel_name(), peaks[0], peaks[1]);
    println!("{:<26} {:>4} {:>10} {:>9} {:>7}", "config", "thr", "median", "GFLOP/s", "% peak");
    let mut rows = Vec::new();
    for &(n, d, t, b) in &CONFIGS {
        let s = if d == 6 { 7 } else { 8 };
        let name = format!("N{n}_d{d}_T{t}_B{b}");
        for threads in [1usize, 2] {
            let path = root.join("train_step").join(&name).join(format!("{threads}thr")).join("new/estimates.json");
            let Some(ns) = median_ns(&path) else { continue };
            let gf = flops(n, d, t, b, t - s) as f64 / ns;
            let pct = 100.0 * gf / peaks[threads - 1];
            println!("{name:<26} {threads:>4} {:>8.3}ms {gf:>9.1} {pct:>6.1}%", ns / 1e6);
            rows.push(serde_json::json!({"config": name, "threads": threads, "median_ns": ns, "gflops": gf, "percent_of_peak": pct}));
        }
    }
    for &(n, d, t, b, first) in &CELL_CONFIGS {
        for (cell, _, _, gates) in cells() {
            let name = format!("{cell}_N{n}_d{d}_T{t}_B{b}");
            for threads in [1usize, 2] {
                let path =
                    root.join("train_step_cells").join(&name).join(format!("{threads}thr")).join("new/estimates.json");
                let Some(ns) = median_ns(&path) else { continue };
                let gf = flops_gated(n, d, t, b, t - first, gates) as f64 / ns;
                let pct = 100.0 * gf / peaks[threads - 1];
                println!("{name:<26} {threads:>4} {:>8.3}ms {gf:>9.1} {pct:>6.1}%", ns / 1e6);
                rows.push(serde_json::json!({"config": name, "threads": threads, "median_ns": ns, "gflops": gf, "percent_of_peak": pct}));
            }
        }
    }
    let out =
        serde_json::json!({"peak_gflops": {"1": peaks[0], "2": peaks[1]}, "kernel": peak::kernel_name(), "rows": rows});
    let _ = std::fs::create_dir_all(&root)
        .and_then(|_| std::fs::write(root.join("train_step_vs_peak.json"), out.to_string()));
}

/// Criterion's median estimate (ns) in `path`, if that benchmark ran.
fn median_ns(path: &std::path::Path) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str::<serde_json::Value>(&text).ok()?["median"]["point_estimate"].as_f64()
}

criterion_group!(benches, bench, bench_cells, vs_peak);
criterion_main!(benches);
