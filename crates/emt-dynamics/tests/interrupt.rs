//! The interrupt hook (emt_core::interrupt): a long analysis stops with Error::Interrupted when
//! the caller's hook says so, on every thread it runs on, and a hook that never fires changes
//! nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use emt_core::{ElmanWeights, Error, interrupt};
use emt_dynamics::{FixedPointParams, LyapunovParams, System, find_fixed_points, lyapunov_flow};
use emt_testkit::systems::Lorenz;
use ndarray::{Array1, Array2, array};

fn elman(n: usize, seed: u64) -> ElmanWeights {
    let w = emt_testkit::gaussian(n, n, seed) * (1.8 / (n as f64).sqrt());
    ElmanWeights::new(w, Array2::zeros((n, 1)), Array2::ones((1, n))).unwrap()
}

#[test]
fn a_stop_hook_ends_a_fixed_point_search_on_every_thread() {
    let net = elman(8, 1);
    let seeds = emt_testkit::gaussian(40, 8, 2);
    for threads in [1, 3] {
        let p = FixedPointParams { threads, ..Default::default() };
        let out = interrupt::with_hook(
            || true,
            || find_fixed_points(System::Map(&net), array![0.0].view(), seeds.view(), &p),
        );
        match out {
            Err(Error::Interrupted { what }) => assert_eq!(what, "fixed-point search"),
            other => panic!("threads {threads}: {other:?}"),
        }
    }
}

#[test]
fn a_hook_that_never_fires_changes_nothing() {
    let net = elman(6, 3);
    let seeds = emt_testkit::gaussian(30, 6, 4);
    let p = FixedPointParams { threads: 2, ..Default::default() };
    let run = || find_fixed_points(System::Map(&net), array![0.0].view(), seeds.view(), &p).unwrap();
    let plain = run();
    assert_eq!(interrupt::with_hook(|| false, run), plain);
    let lorenz = Lorenz { sigma: 10.0, rho: 28.0, beta: 8.0 / 3.0 };
    let lp = LyapunovParams { steps: 2_000, transient: 100, dt: 0.01, ..Default::default() };
    let x0 = array![1.0, 1.0, 20.0];
    let none = Array2::zeros((1, 0));
    let spectrum = || lyapunov_flow(&lorenz, x0.view(), none.view(), &lp).unwrap().exponents;
    assert_eq!(interrupt::with_hook(|| false, spectrum), spectrum());
}

/// A hook that says stop on its third call: the run has done at least 2 x MIN_INTERVAL of work
/// and far less than the 10^8 steps asked for, which would take minutes.
#[test]
fn a_lyapunov_run_stops_mid_way_when_the_hook_turns() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let lorenz = Lorenz { sigma: 10.0, rho: 28.0, beta: 8.0 / 3.0 };
    let lp = LyapunovParams { steps: 100_000_000, transient: 0, dt: 0.01, ..Default::default() };
    let x0: Array1<f64> = array![1.0, 1.0, 20.0];
    let out = interrupt::with_hook(
        move || c.fetch_add(1, Ordering::SeqCst) >= 2,
        || lyapunov_flow(&lorenz, x0.view(), Array2::zeros((1, 0)).view(), &lp),
    );
    assert!(matches!(out, Err(Error::Interrupted { .. })), "{out:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // The hook is gone afterwards.
    assert!(interrupt::current().is_none());
}

/// The progress reporter (emt_core::progress) hears of every seed, from every thread, and ends
/// at all of them; reporting changes nothing in the result.
#[test]
fn every_seed_is_reported_on_every_thread() {
    let net = elman(6, 5);
    let seeds = emt_testkit::gaussian(30, 6, 6);
    for threads in [1, 3] {
        let p = FixedPointParams { threads, ..Default::default() };
        let (count, last) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (c, l) = (Arc::clone(&count), Arc::clone(&last));
        let found = emt_core::progress::with_reporter(
            move |r: &emt_core::progress::Progress<'_>| {
                assert_eq!(r.total, 30);
                c.fetch_add(1, Ordering::SeqCst);
                l.fetch_max(r.done, Ordering::SeqCst);
            },
            || find_fixed_points(System::Map(&net), array![0.0].view(), seeds.view(), &p).unwrap(),
        );
        assert_eq!((count.load(Ordering::SeqCst), last.load(Ordering::SeqCst)), (30, 30), "threads {threads}");
        assert_eq!(found, find_fixed_points(System::Map(&net), array![0.0].view(), seeds.view(), &p).unwrap());
    }
}

/// Once stopped, no seed does any more work: not even its first Jacobian (at n = 2000 that
/// setup, over 1,344 seeds, ran 2 s past `--max-seconds` and the watchdog ended the process).
#[test]
fn a_stopped_search_builds_no_more_jacobians() {
    let net = elman(6, 7);
    let seeds = emt_testkit::gaussian(40, 6, 8);
    for threads in [1, 2] {
        let map = emt_testkit::systems::CountingMap::new(&net);
        let p = FixedPointParams { threads, ..Default::default() };
        let out = interrupt::with_hook(
            || true,
            || find_fixed_points(System::Map(&map), array![0.0].view(), seeds.view(), &p),
        );
        assert!(matches!(out, Err(Error::Interrupted { .. })), "threads {threads}");
        assert_eq!(map.count(), 0, "threads {threads}: Jacobians built after the stop");
    }
}
