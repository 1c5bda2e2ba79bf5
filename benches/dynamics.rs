//! emt-dynamics: Lyapunov spectra (all 128 exponents of a 128-unit Elman map with QR every
//! step, and Lorenz, per 1,000 steps), fixed points of a 128-unit GRU from 100 seeds and of a
//! gated N = 200 network from 21 seeds.

use criterion::{Criterion, criterion_group, criterion_main};
use emt::core::cells::{GatedParams, GatedWeights, GruWeights};
use emt::core::{ElmanWeights, rng};
use emt::dynamics::{
    FixedPointParams, LyapunovParams, SeedParams, System, find_fixed_points, lyapunov_flow, lyapunov_map, seed_states,
};
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
    // A random gated network (docs/DYNAMICS.md §1), N = 200 (state 600), g_h = 2.5: chaotic,
    // 5 fixed points and slow points. Seeds: emt's recipe with one box start (21 seeds);
    // the search solves the reduced h-equation (N unknowns) and classifies by the 3N Jacobian.
    let m = 200;
    let j = |k: u64, g: f64| emt_testkit::gaussian(m, m, 10 + k) * (g / (m as f64).sqrt());
    let gated = GatedWeights::new(j(0, 2.5), j(1, 1.0), j(2, 1.0), [None, None, None], GatedParams::default(), None)
        .expect("valid sizes");
    let u = Array1::zeros(m);
    let sp = SeedParams { starts: 1, ..Default::default() };
    let seeds = seed_states(System::Flow(&gated), u.view(), None, &sp).expect("runs").seeds;
    group.bench_function("gated200_fixed_points_21seeds", |b| {
        b.iter(|| {
            let found = find_fixed_points(System::Flow(&gated), u.view(), seeds.view(), &FixedPointParams::default())
                .expect("runs");
            black_box(found.fixed.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
