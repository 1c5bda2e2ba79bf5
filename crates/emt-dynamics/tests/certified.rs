//! Certified enumeration against known fixed-point sets, cross-checked with the seeded search.

use emt_core::cells::CtGruWeights;
use emt_dynamics::{
    CertifiedParams, CtGruField, FixedPointParams, Interval, Stability, System, certified_zeros, find_fixed_points,
};
use ndarray::{Array1, Array2, array};

fn ctgru(u_h: Array2<f64>) -> CtGruWeights {
    let mut u = Array2::zeros((6, 2));
    u.slice_mut(ndarray::s![4.., ..]).assign(&u_h);
    CtGruWeights::new(u, None, None, 0.1, None).unwrap()
}

#[test]
fn the_rotation_ctgru_has_exactly_the_origin() {
    let (c, s) = (std::f64::consts::FRAC_PI_4.cos(), std::f64::consts::FRAC_PI_4.sin());
    let net = ctgru(array![[c, -s], [s, c]] * 4.0);
    let field = CtGruField::new(&net, Array1::zeros(0).view()).unwrap();
    let found = certified_zeros(&field, &[Interval::new(-1.0, 1.0); 2], &CertifiedParams::default()).unwrap();
    eprintln!(
        "rotation ctgru: {} zero(s), {} undecided, {} boxes",
        found.zeros.len(),
        found.undecided.len(),
        found.boxes
    );
    assert!(found.complete());
    assert_eq!(found.zeros.len(), 1);
    assert!(found.zeros[0].point.iter().all(|v| v.abs() < 1e-14));
}

/// U_h = 3 I, U_z = U_r = 0, b = 0: r = 1/2, so each unit solves h = tanh(1.5 h), with roots
/// -a, 0, a (a = 0.8586): 9 fixed points, 4 stable nodes, 4 saddles, 1 unstable node.
#[test]
fn a_decoupled_bistable_ctgru_has_nine_fixed_points_certified_and_found() {
    let net = ctgru(Array2::eye(2) * 3.0);
    let field = CtGruField::new(&net, Array1::zeros(0).view()).unwrap();
    let found = certified_zeros(&field, &[Interval::new(-1.0, 1.0); 2], &CertifiedParams::default()).unwrap();
    eprintln!(
        "bistable ctgru: {} zero(s), {} undecided, {} boxes",
        found.zeros.len(),
        found.undecided.len(),
        found.boxes
    );
    assert!(found.complete());
    assert_eq!(found.zeros.len(), 9);
    // a solves a = tanh(1.5 a).
    let mut a = 0.9f64;
    for _ in 0..100 {
        a -= (a - (1.5 * a).tanh()) / (1.0 - 1.5 * (1.0 - (1.5 * a).tanh().powi(2)));
    }
    for z in &found.zeros {
        for v in z.point.iter() {
            assert!(v.abs() < 1e-12 || (v.abs() - a).abs() < 1e-12, "{}", z.point);
        }
    }
    // Cross-check: the seeded search from a grid finds the same 9, classified 4 / 4 / 1.
    let grid =
        Array2::from_shape_fn((100, 2), |(i, c)| -0.95 + 1.9 * (if c == 0 { i / 10 } else { i % 10 }) as f64 / 9.0);
    let seeded =
        find_fixed_points(System::Flow(&net), Array1::zeros(0).view(), grid.view(), &FixedPointParams::default())
            .unwrap();
    assert_eq!(seeded.fixed.len(), 9);
    for p in &seeded.fixed {
        assert!(found.zeros.iter().any(|z| (&z.point - &p.state).iter().all(|d| d.abs() < 1e-10)));
    }
    let count =
        |s: Stability, u: usize| seeded.fixed.iter().filter(|p| p.stability == s && p.unstable_dims == u).count();
    assert_eq!((count(Stability::Stable, 0), count(Stability::Unstable, 1), count(Stability::Unstable, 2)), (4, 4, 1));
}

#[test]
fn a_double_root_is_reported_undecided_not_guessed() {
    // U_h = (2/1) I with r = 1/2: h = tanh(h) has a triple root at 0 (tanh'(0) = 1).
    let net = ctgru(Array2::eye(2) * 2.0);
    let field = CtGruField::new(&net, Array1::zeros(0).view()).unwrap();
    let params = CertifiedParams { min_width: 1e-4, ..Default::default() };
    let found = certified_zeros(&field, &[Interval::new(-1.0, 1.0); 2], &params).unwrap();
    eprintln!(
        "degenerate ctgru: {} zero(s), {} undecided, {} boxes",
        found.zeros.len(),
        found.undecided.len(),
        found.boxes
    );
    assert!(!found.complete(), "a degenerate zero cannot be certified");
    assert!(found.undecided.iter().all(|b| b.iter().all(|i| i.contains(0.0) || i.width() < 1e-3)));
    assert!(found.zeros.is_empty());
    let e = certified_zeros(&field, &[Interval::new(-1.0, 1.0)], &params);
    assert!(e.is_err());
}
