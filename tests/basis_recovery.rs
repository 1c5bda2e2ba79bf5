//! Basis extraction on planted networks and circuits (docs/EMT.md §4), across crates.

use emt::basis::{ExtractOptions, Grounding, Method, VariableBasis, spectral_error};
use emt::circuit::{MemoryBasis, PlantedBasis, TanhCircuit, planted};
use emt::core::rng;
use emt::prelude::*;
use emt::tasks::Phi;
use ndarray::Array2;
use proptest::prelude::*;
use rand_distr::{Distribution, StandardNormal};

fn reference() -> Vec<LinearVb> {
    emt_testkit::REFERENCE_IDS.iter().map(|&(a, b, c)| LinearVb::new(TaskId::new(a, b, c), 8, 8).unwrap()).collect()
}

fn dual() -> ExtractOptions {
    ExtractOptions::default()
}

fn paper() -> ExtractOptions {
    ExtractOptions { method: Method::PaperKrylov(Grounding::Readout), ..Default::default() }
}

/// Coordinates the readout can reach, plus the readout block itself.
fn observable(phi: &Phi) -> Vec<usize> {
    let mut v: Vec<usize> = ((phi.s() - 1) * phi.d()..phi.n()).chain(phi.readout_reachable()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

proptest! {
    #![proptest_config(emt_testkit::proptest_config(96))]

    /// Ours: exact on planted networks for any invertible basis, up to rounding. Rounding
    /// grows like eps cond(B)^2 (B and B^-1 both enter W_hh), so the bound does too: a perturbed
    /// basis with cond(B) = 2.8e4 (kept in the regressions file) gives closure residuals of
    /// 1.4e-8, over the fixed 1e-8 that stage 1 asserted; measured errors stay below
    /// 0.1 eps cond(B)^2, and the bound leaves a factor 100 above that. The gain's error scales
    /// the same way (a second kept case: cond(B) = 1.26e4, |gain - 1| = 1.1e-9 > 1e-9).
    #[test]
    fn dual_recursion_recovers_planted_phi(s in 2usize..=8, d in 2usize..=8, seed: u64, kind in 0usize..3, extra in 0usize..=12) {
        let task = LinearVb::random(s, d, &mut rng::seeded(seed)).unwrap();
        let phi = Phi::new(&task);
        let basis = [PlantedBasis::Orthonormal, PlantedBasis::Perturbed(0.3), PlantedBasis::Random][kind];
        let p = planted(&task, phi.n() + extra, basis, 0.3, &mut rng::stream(seed, 1)).unwrap();
        let b = VariableBasis::extract(&p.weights, &phi, None, &dual()).unwrap();
        let cond = emt_linalg::condition_number(p.basis.view()).unwrap();
        let tol = 1e-10 + 10.0 * f64::EPSILON * cond * cond;
        prop_assert!(b.phi_error() < tol, "phi_error {:e} ({:?}, cond {:e})", b.phi_error(), basis, cond);
        prop_assert!(b.max_closure_residual() < tol, "closure {:e} (cond {:e})", b.max_closure_residual(), cond);
        prop_assert!((b.gain() - 1.0).abs() < tol, "gain {} (cond {:e})", b.gain(), cond);
        let expected = observable(&phi);
        prop_assert_eq!(b.coordinates(), expected.as_slice());
        // The reached set contains the paper's kept set (the on-cycle coordinates).
        let on_cycle = phi.on_cycle();
        prop_assert!((0..phi.n()).filter(|&c| on_cycle[c]).all(|c| b.coordinates().contains(&c)));
    }
}

#[test]
fn reference_ids_use_64_36_36_36_coordinates_and_paper_method_agrees() {
    let mut counts = Vec::new();
    for (i, task) in reference().iter().enumerate() {
        let phi = Phi::new(task);
        let p = planted(task, 80, PlantedBasis::Orthonormal, 0.3, &mut rng::seeded(i as u64)).unwrap();
        let ours = VariableBasis::extract(&p.weights, &phi, None, &dual()).unwrap();
        let theirs = VariableBasis::extract(&p.weights, &phi, None, &paper()).unwrap();
        assert!(ours.phi_error() < 1e-10, "{i}: {:e}", ours.phi_error());
        assert!(theirs.phi_error() < 1e-10, "paper method on reference id {i}: {:e}", theirs.phi_error());
        assert_eq!(ours.coordinates(), theirs.coordinates(), "reached set equals the paper's kept set");
        counts.push(ours.coordinates().len());
    }
    assert_eq!(counts, vec![64, 36, 36, 36]);
}

/// The paper's method is not exact on every id even with an orthonormal basis (docs/EMT.md §4:
/// the column normalisation mixes coordinates that Phi maps onto one slot; error sqrt(2)-1).
/// Kept so the comparison stays honest.
#[test]
fn paper_method_fails_on_some_random_ids() {
    let mut failures = Vec::new();
    for seed in 0..60u64 {
        let (s, d) = (2 + seed as usize % 5, 2 + (seed as usize / 5) % 5);
        let task = LinearVb::random(s, d, &mut rng::seeded(seed)).unwrap();
        let phi = Phi::new(&task);
        let p = planted(&task, phi.n() + 4, PlantedBasis::Orthonormal, 0.3, &mut rng::stream(seed, 1)).unwrap();
        let ours = VariableBasis::extract(&p.weights, &phi, None, &dual()).unwrap();
        assert!(ours.phi_error() < 1e-8);
        let theirs = VariableBasis::extract(&p.weights, &phi, None, &paper()).unwrap();
        if theirs.phi_error() > 0.1 {
            failures.push((task.id().to_string(), s, d, theirs.phi_error()));
        }
    }
    eprintln!("paper method fails on {}/60 random ids, e.g. {:?}", failures.len(), failures.first());
    assert!(!failures.is_empty());
    let sqrt2m1 = std::f64::consts::SQRT_2 - 1.0;
    assert!(failures.iter().any(|f| (f.3 - sqrt2m1).abs() < 1e-6), "{failures:?}");
}

#[test]
fn tanh_circuit_comes_out_as_phi_times_its_gain() {
    for task in reference() {
        let phi = Phi::new(&task);
        for g in [1.2, 1.5, 2.0] {
            let basis = MemoryBasis::signed_permutation(96, 64, &mut rng::seeded(7)).unwrap();
            let w = TanhCircuit::new(g, g + 1.0).unwrap().build(&task, &basis).unwrap();
            let b = VariableBasis::extract(&w, &phi, None, &dual()).unwrap();
            assert!((b.gain() - g).abs() < 1e-12, "gain {} vs {g}", b.gain());
            assert!(b.phi_error() < 1e-12 && b.max_closure_residual() < 1e-12);
        }
    }
}

#[test]
fn spectral_error_matches_emt_figures() {
    let phi = Phi::new(&reference()[0]).matrix();
    assert_eq!(spectral_error(phi.view(), phi.view(), 0.9).unwrap().radians, 0.0);
    // docs/EMT.md §5: 6.3e-5, 0.0072, 0.068, 0.73 degrees for eps = 1e-6, 1e-4, 1e-3, 1e-2.
    let mut r = rng::seeded(11);
    for (eps, deg) in [(1e-6, 6.3e-5), (1e-4, 0.0072), (1e-3, 0.068), (1e-2, 0.73)] {
        let noise: Array2<f64> = Array2::from_shape_fn(phi.dim(), |_| StandardNormal.sample(&mut r));
        let c = spectral_error(phi.view(), (&phi + &(noise * eps)).view(), 0.9).unwrap();
        let got = c.degrees();
        eprintln!("eps {eps:e}: {got:.3e} degrees (EMT: {deg:e}), counts {} / {}", c.count_a, c.count_b);
        assert!(got > deg / 4.0 && got < deg * 4.0, "eps {eps}: {got} degrees vs {deg}");
        assert_eq!(c.unmatched, 0);
    }
}

#[test]
fn history_complement_and_projection() {
    let task = &reference()[1];
    let phi = Phi::new(task);
    let p = planted(task, 80, PlantedBasis::Random, 0.3, &mut rng::seeded(3)).unwrap();
    let ep = task.sample(40, 16, &mut rng::seeded(4)).unwrap();
    let hidden = p.weights.simulate(ep.inputs().mapv(f64::from).view()).unwrap().hidden;
    let (t, b, n) = hidden.dim();
    let history = hidden.into_shape_with_order((t * b, n)).unwrap();
    let basis = VariableBasis::extract(&p.weights, &phi, Some(history.view()), &dual()).unwrap();
    let pca = basis.complement().expect("history given");
    assert_eq!(pca.components.dim(), (10, 80));
    let coords = basis.project(history.view()).unwrap();
    assert_eq!(coords.dim(), (t * b, 36));
    assert!(basis.project(Array2::<f64>::zeros((3, 7)).view()).is_err());
    assert!(VariableBasis::extract(&p.weights, &phi, Some(Array2::<f64>::zeros((3, 7)).view()), &dual()).is_err());
}
