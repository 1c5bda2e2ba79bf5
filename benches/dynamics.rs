//! emt-dynamics: Lyapunov spectra (all 128 exponents of a 128-unit Elman map with QR every
//! step, and Lorenz, per 1,000 steps) and fixed points of a 128-unit GRU from 100 seeds.

use criterion::{Criterion, criterion_group, criterion_main};
use emt::core::cells::GruWeights;
use emt::core::{ElmanWeights, rng};
use emt::dynamics::{FixedPointParams, LyapunovParams, System, find_fixed_points, lyapunov_flow, lyapunov_map};
use emt_testkit::systems::Lorenz;
use ndarray::{Array1, Array2};
use rand::Rng;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("dynamics");
    group.sample_size(10);
    let n = 128;
    let w = ElmanWeights::new(
        emt_testkit::gaussian(n, n, 1) * (1.5 / (n as f64).sqrt()),
        Array2::zeros((n, 1)),
        Array2::zeros((1, n)),
    )
    .expect("valid sizes");
    let mut r = rng::seeded(2);
    let x0 = Array1::from_shape_simple_fn(n, || r.random::<f64>() - 0.5);
    let none = Array2::zeros((1, 1));
    for (name, sum_rule) in [("elman128_all128_1000steps", false), ("elman128_all128_1000steps_sum_rule", true)] {
        let p = LyapunovParams { steps: 1_000, transient: 0, sum_rule, ..Default::default() };
        group.bench_function(name, |b| {
            b.iter(|| black_box(lyapunov_map(&w, x0.view(), none.view(), &p).expect("runs").exponents[0]))
        });
    }
    let lorenz = Lorenz { sigma: 10.0, rho: 28.0, beta: 8.0 / 3.0 };
    let p = LyapunovParams { steps: 1_000, transient: 0, dt: 0.01, ..Default::default() };
    let start = ndarray::array![1.0, 1.0, 20.0];
    group.bench_function("lorenz_all3_1000rk4steps", |b| {
        b.iter(|| {
            black_box(
                lyapunov_flow(&lorenz, start.view(), Array2::zeros((1, 0)).view(), &p).expect("runs").exponents[0],
            )
        })
    });
    // A random 128-unit GRU (PyTorch init scale 1/sqrt(N)) with a stronger candidate gate, so
    // that it has several fixed points; seeds: 100 random states in the box |h| < 1.
    let scale = 1.0 / (n as f64).sqrt();
    let mut w_hh = emt_testkit::gaussian(3 * n, n, 3) * scale;
    w_hh.slice_mut(ndarray::s![2 * n.., ..]).mapv_inplace(|v| 2.5 * v);
    let gru = GruWeights::new(Array2::zeros((3 * n, 1)), w_hh, None, None, None).expect("valid sizes");
    let mut r = rng::seeded(4);
    let seeds = Array2::from_shape_simple_fn((100, n), || 2.0 * r.random::<f64>() - 1.0);
    let u = Array1::zeros(1);
    group.bench_function("gru128_fixed_points_100seeds", |b| {
        b.iter(|| {
            let found = find_fixed_points(System::Map(&gru), u.view(), seeds.view(), &FixedPointParams::default())
                .expect("runs");
            black_box(found.fixed.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
