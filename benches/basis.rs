//! Basis extraction for N = 512, s = d = 8 (planted network, random basis): the dual
//! recursion (ours) and the paper's method, without and with a PCA complement of 2,000
//! hidden states.

use criterion::{Criterion, criterion_group, criterion_main};
use emt::basis::{ExtractOptions, Grounding, Method, VariableBasis};
use emt::circuit::{PlantedBasis, planted};
use emt::core::{Task, rng};
use emt::tasks::{LinearVb, Phi, TaskId};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("basis");
    group.sample_size(10);
    let task = LinearVb::new(TaskId::new(9241421688590303745, 262676, 189), 8, 8).expect("valid id");
    let phi = Phi::new(&task);
    let p = planted(&task, 512, PlantedBasis::Random, 0.3, &mut rng::seeded(0)).expect("valid sizes");
    let ep = task.sample(92, 20, &mut rng::seeded(1)).expect("valid sizes");
    let hidden = p.weights.simulate(ep.inputs().mapv(f64::from).view()).expect("valid").hidden;
    let (t, b, n) = hidden.dim();
    let history = hidden.into_shape_with_order((t * b, n)).expect("contiguous");
    let dual = ExtractOptions { pca_components: 0, ..Default::default() };
    let paper =
        ExtractOptions { method: Method::PaperKrylov(Grounding::Readout), pca_components: 0, ..Default::default() };
    group.bench_function("dual_N512", |bch| {
        bch.iter(|| black_box(VariableBasis::extract(&p.weights, &phi, None, &dual).expect("ok").phi_error()))
    });
    group.bench_function("paper_N512", |bch| {
        bch.iter(|| black_box(VariableBasis::extract(&p.weights, &phi, None, &paper).expect("ok").phi_error()))
    });
    let with_pca = ExtractOptions { pca_components: 10, ..Default::default() };
    group.bench_function("dual_N512_pca10_2000states", |bch| {
        bch.iter(|| {
            black_box(
                VariableBasis::extract(&p.weights, &phi, Some(history.view()), &with_pca).expect("ok").phi_error(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
