//! How far long work has got, for the caller to show: a caller (the CLI's spinner, the Python
//! package's progress bar) installs a *reporter* for the duration of a closure; emt's long loops
//! call [`report`] with what they are doing and how many of how many units are done. The library
//! never prints; without a reporter, [`report`] is one thread-local read.
//!
//! Like the interrupt hook ([`crate::interrupt`]), the reporter belongs to the thread that
//! installed it and to the worker threads emt's analyses spawn from it ([`current`] /
//! [`with_installed`]), so it may be called from several threads at once and must be cheap:
//! store the numbers, draw elsewhere.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let log = Arc::clone(&seen);
//! emt_core::progress::with_reporter(
//!     move |p: &emt_core::progress::Progress<'_>| log.lock().unwrap().push((p.done, p.total)),
//!     || {
//!         for i in 1..=3 {
//!             emt_core::progress::report("counting", i, 3);
//!         }
//!     },
//! );
//! assert_eq!(*seen.lock().unwrap(), vec![(1, 3), (2, 3), (3, 3)]);
//! ```

use std::cell::RefCell;
use std::sync::Arc;

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress<'a> {
    /// What is running, e.g. `"fixed-point search"`.
    pub what: &'a str,
    /// Units done (seeds minimised, values swept).
    pub done: usize,
    /// Units in all.
    pub total: usize,
}

/// A shared reporter.
pub type Reporter = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

thread_local! {
    static REPORTER: RefCell<Option<Reporter>> = const { RefCell::new(None) };
}

/// Runs `f` with `reporter` installed on this thread (and on the workers emt spawns from it);
/// the previous reporter, if any, is restored afterwards, also when `f` panics.
pub fn with_reporter<T>(reporter: impl Fn(&Progress<'_>) + Send + Sync + 'static, f: impl FnOnce() -> T) -> T {
    with_installed(Some(Arc::new(reporter)), f)
}

/// Runs `f` with `reporter` (or none) installed on this thread: how an analysis hands the
/// caller's reporter ([`current`]) to its worker threads.
pub fn with_installed<T>(reporter: Option<Reporter>, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Reporter>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            REPORTER.with(|r| *r.borrow_mut() = previous);
        }
    }
    let previous = REPORTER.with(|r| r.replace(reporter));
    let _restore = Restore(previous);
    f()
}

/// The reporter installed on this thread, if any.
pub fn current() -> Option<Reporter> {
    REPORTER.with(|r| r.borrow().clone())
}

/// Tells the installed reporter, if any, that `done` of `total` units of `what` are done.
pub fn report(what: &str, done: usize, total: usize) {
    // Cloned out of the borrow: a reporter may itself run emt code that reports.
    if let Some(reporter) = current() {
        reporter(&Progress { what, done, total });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Nested installations restore the outer reporter, also after a panic; without one,
    /// reporting does nothing.
    #[test]
    fn installations_nest_and_restore() {
        report("nobody listens", 1, 1);
        let outer = Arc::new(AtomicUsize::new(0));
        let o = Arc::clone(&outer);
        with_reporter(
            move |p: &Progress<'_>| {
                o.fetch_add(p.done, Ordering::SeqCst);
            },
            || {
                let caught = std::panic::catch_unwind(|| with_reporter(|_: &Progress<'_>| {}, || panic!("inner")));
                assert!(caught.is_err());
                report("outer again", 5, 5);
            },
        );
        assert_eq!(outer.load(Ordering::SeqCst), 5);
        assert!(current().is_none());
    }
}
