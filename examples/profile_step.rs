//! Where one training step's time goes (issue 14): the engine's phase timer
//! ([`Engine::with_phase_times`]) on the train_step bench's shapes, with clipping and Adam timed
//! around it, on 1 and 2 threads. Each GEMM phase is also given as GFLOP/s.
//!
//! ```text
//! cargo run --release --example profile_step [-- SECONDS]   # default 2 s per row
//! ```
//!
//! Per-chunk phases are thread 0's chunk; with 2 threads, `wait` is the step's wall time minus
//! thread 0's phases and the reduction: time spent starting, joining and waiting for the other
//! chunk.

use std::time::Instant;

use emt::core::{Episode, Task, rng};
use emt::rnn::{Adam, AdamConfig, CellSpec, Engine, Params, PhaseTimes, TanhMode, clip_grad_norm};
use emt::tasks::{LinearVb, TaskId};
use ndarray::Array3;
use rand::Rng;

/// (label, cell, N, d, T, B, first scored step).
const ROWS: [(&str, CellSpec, usize, usize, usize, usize, usize); 8] = [
    ("elman", CellSpec::Elman, 128, 6, 35, 64, 7),
    ("elman", CellSpec::Elman, 64, 6, 35, 64, 7),
    ("elman", CellSpec::Elman, 256, 6, 35, 64, 7),
    ("elman", CellSpec::Elman, 128, 8, 108, 64, 8),
    ("gru", CellSpec::Gru, 128, 6, 35, 64, 7),
    ("lstm", CellSpec::Lstm, 128, 6, 35, 64, 7),
    ("ctrnn", CellSpec::CtRnn { alpha: 0.1 }, 128, 6, 35, 64, 7),
    ("ctgru", CellSpec::CtGru { dt: 0.1 }, 128, 6, 35, 64, 7),
];

fn episode(cell: CellSpec, d: usize, t: usize, b: usize, first: usize) -> emt::core::Result<Episode> {
    if cell == CellSpec::Elman {
        // The bench's data: repeat copy with s = first.
        let task = LinearVb::new(TaskId::repeat_copy(d), first, d)?;
        return task.sample(t - first, b, &mut rng::seeded(0));
    }
    let mut r = rng::seeded(0);
    let x = Array3::from_shape_fn((t, b, d), |_| if r.random::<bool>() { 1.0f32 } else { -1.0 });
    let y = Array3::from_shape_fn((t, b, d), |_| if r.random::<bool>() { 1.0f32 } else { -1.0 });
    Episode::new(x, y, first)
}

/// Multiply-adds x 2 of the three GEMM groups: (recurrent forward, recurrent backward, weight
/// gradients), G gate blocks (1, or 3 for gru / ctgru, 4 for lstm).
fn gemm_flops(cell: CellSpec, n: usize, d: usize, t: usize, b: usize) -> [f64; 3] {
    let g = cell.gates() as f64;
    let (n, d, t, b) = (n as f64, d as f64, t as f64, b as f64);
    let rec = 2.0 * (t - 1.0) * b * g * n * n;
    [rec, rec, rec + 2.0 * t * b * g * n * d]
}

fn main() -> emt::core::Result<()> {
    let seconds: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2.0);
    println!(
        "{:<24} {:>3} {:>8} | {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6} | GFLOP/s fwd/bwd/wgrad",
        "cell (N, d, T, B)",
        "thr",
        "step",
        "load",
        "input",
        "rec_fwd",
        "fwd_pw",
        "readout",
        "rec_bwd",
        "bwd_pw",
        "wgrad",
        "reduce",
        "wait",
        "adam"
    );
    for (label, cell, n, d, t, b, first) in ROWS {
        let ep = episode(cell, d, t, b, first)?;
        for threads in [1usize, 2] {
            let mut params = Params::<f32>::init_cell(cell, n, d, d, cell != CellSpec::Elman, &mut rng::seeded(1))?;
            let mut grad = Params::zeros(params.layout());
            let mut adam = Adam::new(params.layout().len(), AdamConfig::default())?;
            let noise = if matches!(cell, CellSpec::CtRnn { .. }) { 0.1 } else { 0.0 };
            let mut engine = Engine::new(threads, TanhMode::Fast)?.with_noise(noise, 7)?;
            // Warm up (buffers, the thread pool), then measure with the phase timer on.
            for _ in 0..20 {
                engine.loss_and_grad(&params, &ep, &mut grad)?;
            }
            let mut engine = engine.with_phase_times(true);
            let (mut optim, start) = (0.0, Instant::now());
            let mut steps = 0u64;
            while start.elapsed().as_secs_f64() < seconds || steps < 20 {
                engine.loss_and_grad(&params, &ep, &mut grad)?;
                let t0 = Instant::now();
                clip_grad_norm(grad.as_mut_slice(), 1.0)?;
                adam.step(params.as_mut_slice(), grad.as_slice())?;
                optim += t0.elapsed().as_secs_f64();
                steps += 1;
            }
            let wall = start.elapsed().as_secs_f64() / steps as f64;
            let p: PhaseTimes = engine.phase_times();
            let per = |v: f64| v / p.calls as f64;
            let ms = |v: f64| 1e3 * per(v);
            let wait = per(p.total - p.phases()).max(0.0);
            let f = gemm_flops(cell, n, d, t, b);
            // Thread 0 does its share (1/threads) of each GEMM group.
            let share = threads as f64;
            let gf = |flops: f64, secs: f64| flops / share / per(secs) / 1e9;
            println!(
                "{:<24} {:>3} {:>6.3}ms | {:>6.3} {:>6.3} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>7.3} {:>6.3} {:>6.3} {:>6.3} | {:.0} / {:.0} / {:.0}",
                format!("{label} ({n}, {d}, {t}, {b})"),
                threads,
                1e3 * wall,
                ms(p.load),
                ms(p.input),
                ms(p.recurrent_forward),
                ms(p.forward_pointwise),
                ms(p.readout),
                ms(p.recurrent_backward),
                ms(p.backward_pointwise),
                ms(p.weight_grads),
                ms(p.reduction),
                1e3 * wait,
                1e3 * optim / steps as f64,
                gf(f[0], p.recurrent_forward),
                gf(f[1], p.recurrent_backward),
                gf(f[2], p.weight_grads),
            );
        }
    }
    Ok(())
}
