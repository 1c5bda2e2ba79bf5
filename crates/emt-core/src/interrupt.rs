//! Stopping a long analysis from outside: a caller (a CLI with Ctrl-C or a deadline, a Python
//! binding checking for KeyboardInterrupt) installs a *hook*, a callback that answers "stop
//! now?", for the duration of a closure; emt's long loops (fixed-point searches, Lyapunov
//! spectra, integrators, sweeps, shooting) call [`check`] between iterations and return
//! [`Error::Interrupted`] when the hook says stop. Nothing is printed and no partial answer is
//! passed off as a whole one.
//!
//! The hook belongs to the thread that installed it and to the worker threads emt's analyses
//! spawn from it ([`current`] / [`with_installed`] carry it over). It is called at most once per
//! [`MIN_INTERVAL`] per thread, so an expensive hook (taking Python's GIL) costs nothing
//! measurable, and a loop of microsecond steps pays one clock read per step. Without a hook,
//! [`check`] is one thread-local read.
//!
//! ```
//! use emt_core::{Error, interrupt};
//! // A hook that says stop at once: the loop ends at its first check.
//! let out = interrupt::with_hook(|| true, || -> emt_core::Result<usize> {
//!     for i in 0..1_000_000 {
//!         interrupt::check("counting")?;
//!         if i == 999_999 { return Ok(i); }
//!     }
//!     Ok(0)
//! });
//! assert!(matches!(out, Err(Error::Interrupted { .. })));
//! // Outside `with_hook` nothing stops.
//! assert!(interrupt::check("counting").is_ok());
//! ```

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// A shared stop callback: `true` means stop.
pub type Hook = Arc<dyn Fn() -> bool + Send + Sync>;

/// Least time between two calls of the hook on one thread.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

struct Installed {
    hook: Hook,
    /// When the hook was last asked (`None`: never, so the first check asks).
    last: Option<Instant>,
    /// The hook has said stop: every later check fails at once, without waiting out
    /// [`MIN_INTERVAL`] (a search of 1,344 seeds otherwise ran 10 ms of each after Ctrl-C).
    stopped: bool,
}

thread_local! {
    static HOOK: RefCell<Option<Installed>> = const { RefCell::new(None) };
}

/// Runs `f` with `hook` installed on this thread (and on the workers emt spawns from it); the
/// previous hook, if any, is restored afterwards, also when `f` panics.
pub fn with_hook<T>(hook: impl Fn() -> bool + Send + Sync + 'static, f: impl FnOnce() -> T) -> T {
    with_installed(Some(Arc::new(hook)), f)
}

/// Runs `f` with `hook` (or none) installed on this thread: how an analysis hands the caller's
/// hook ([`current`]) to its worker threads.
pub fn with_installed<T>(hook: Option<Hook>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Installed>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            HOOK.with(|h| *h.borrow_mut() = previous);
        }
    }
    let previous = HOOK.with(|h| h.borrow_mut().take());
    let _restore = Restore(previous);
    HOOK.with(|h| *h.borrow_mut() = hook.map(|hook| Installed { hook, last: None, stopped: false }));
    f()
}

/// The hook installed on this thread, if any.
pub fn current() -> Option<Hook> {
    HOOK.with(|h| h.borrow().as_ref().map(|i| Arc::clone(&i.hook)))
}

/// `Err(Error::Interrupted { what })` if the installed hook says stop, or has said so before on
/// this thread (stopping is sticky for the rest of the installation); `Ok(())` without a hook,
/// when it says go on, or within [`MIN_INTERVAL`] of its last call on this thread.
pub fn check(what: &str) -> Result<()> {
    let interrupted = || Err(Error::Interrupted { what: what.to_string() });
    let hook = HOOK.with(|h| {
        let mut h = h.borrow_mut();
        let installed = h.as_mut()?;
        if installed.stopped {
            return Some(None);
        }
        let now = Instant::now();
        if installed.last.is_some_and(|t| now.duration_since(t) < MIN_INTERVAL) {
            return None;
        }
        installed.last = Some(now);
        Some(Some(Arc::clone(&installed.hook)))
    });
    match hook {
        None => Ok(()),
        Some(None) => interrupted(),
        // Called outside the borrow: a hook may itself run emt code that checks.
        Some(Some(hook)) => {
            if !hook() {
                return Ok(());
            }
            HOOK.with(|h| {
                if let Some(installed) = h.borrow_mut().as_mut() {
                    installed.stopped = true;
                }
            });
            interrupted()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A hook that says stop once (a notebook's KeyboardInterrupt, consumed when read) still
    /// stops every later check at once, and a new installation starts afresh.
    #[test]
    fn stopping_is_sticky_within_an_installation() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        with_hook(
            move || c.fetch_add(1, Ordering::SeqCst) == 0,
            || {
                assert!(check("first").is_err());
                let start = Instant::now();
                for _ in 0..1000 {
                    assert!(check("later").is_err());
                }
                assert!(start.elapsed() < MIN_INTERVAL * 50, "no waiting between refused checks");
            },
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the hook is not asked again once it said stop");
        with_hook(|| false, || assert!(check("fresh").is_ok()));
    }

    #[test]
    fn the_hook_is_asked_at_most_once_per_interval_and_restored_after() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        with_hook(
            move || {
                c.fetch_add(1, Ordering::SeqCst);
                false
            },
            || {
                for _ in 0..10_000 {
                    assert!(check("loop").is_ok());
                }
                assert!(current().is_some());
            },
        );
        // The first check asks; 10,000 fast checks fit in a few intervals at most.
        let n = calls.load(Ordering::SeqCst);
        assert!((1..100).contains(&n), "{n} calls");
        assert!(current().is_none());
    }

    #[test]
    fn nested_hooks_restore_the_outer_one_even_after_a_panic() {
        with_hook(
            || false,
            || {
                let inner = std::panic::catch_unwind(|| with_hook(|| true, || panic!("inside")));
                assert!(inner.is_err());
                assert!(check("outer").is_ok(), "the outer hook (never stop) is back");
                let err = with_hook(|| true, || check("inner")).unwrap_err();
                assert_eq!(err.to_string(), "inner interrupted");
            },
        );
    }

    #[test]
    fn workers_inherit_the_hook_through_with_installed() {
        with_hook(
            || true,
            || {
                let hook = current();
                let from_worker = std::thread::scope(|s| {
                    s.spawn(move || with_installed(hook, || check("worker").is_err())).join().unwrap_or(false)
                });
                assert!(from_worker);
            },
        );
    }
}
