//! Long calls: without the GIL, stoppable by Ctrl-C.
//!
//! The work runs on a scoped worker thread with an interrupt hook (`emt_core::interrupt`) that
//! reads a flag; the calling thread waits without the GIL in 20 ms slices and, between them,
//! asks Python whether a signal arrived (`PyErr_CheckSignals`, which runs the handlers only on
//! the main thread). On KeyboardInterrupt it sets the flag, waits for the worker to stop at its
//! next check (emt's long loops check between iterations: milliseconds for small models, about
//! 0.3 s per Levenberg-Marquardt iteration at n = 2000) and raises. Other Python threads run
//! meanwhile; a Python callback called from the work (training's observer) takes the GIL as it
//! needs it, and what the work reports to `emt_core::progress` is handed to an optional Python
//! callback from the calling thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use crate::errors::to_py;

/// How long the calling thread waits without the GIL between two looks at Python's signals.
const SLICE: Duration = Duration::from_millis(20);

/// Runs `work` without the GIL, stoppable by Ctrl-C (see the module doc): its value, or its
/// error, or KeyboardInterrupt.
pub fn detached<T: Send>(py: Python<'_>, work: impl FnOnce() -> emt::core::Result<T> + Send) -> PyResult<T> {
    detached_progress(py, work, None)
}

/// As [`detached`], calling `progress(done, total)` (with the GIL, from the calling thread, at
/// most every 0.2 s and once at the end) with what the work reports to `emt_core::progress`. An
/// exception the callback raises stops the work and is raised.
pub fn detached_progress<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> emt::core::Result<T> + Send,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<T> {
    match run(py, work, progress)? {
        (_, Some(interrupt)) => Err(interrupt),
        (value, None) => Ok(value),
    }
}

/// As [`detached`], for work that ends cleanly when interrupted (training keeps its model): the
/// value, with the KeyboardInterrupt that stopped it, if one did.
pub fn detached_keep<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> emt::core::Result<T> + Send,
) -> PyResult<(T, Option<PyErr>)> {
    run(py, work, None)
}

/// How often the calling thread passes progress on to Python.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

fn run<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> emt::core::Result<T> + Send,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<(T, Option<PyErr>)> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // (done, total) as the work last reported them.
    let counts = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let reported = Arc::clone(&counts);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // A Receiver is not Sync; the waiting closure below may run on another OS thread's terms.
    let done_rx = std::sync::Mutex::new(done_rx);
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let store = move |p: &emt::core::progress::Progress<'_>| {
                reported.1.store(p.total, Ordering::Relaxed);
                reported.0.store(p.done, Ordering::Relaxed);
            };
            let out = emt::core::interrupt::with_hook(
                move || flag.load(Ordering::Relaxed),
                || emt::core::progress::with_reporter(store, work),
            );
            let _ = done_tx.send(());
            out
        });
        let mut interrupt: Option<PyErr> = None;
        let (mut shown, mut last) = (usize::MAX, std::time::Instant::now());
        let mut tell = |force: bool| -> Option<PyErr> {
            let callback = progress?;
            let (done, total) = (counts.0.load(Ordering::Relaxed), counts.1.load(Ordering::Relaxed));
            if total == 0 || done == shown || !(force || last.elapsed() >= PROGRESS_EVERY) {
                return None;
            }
            (shown, last) = (done, std::time::Instant::now());
            callback.call1((done, total)).err()
        };
        loop {
            let finished = py.detach(|| match done_rx.lock().map(|rx| rx.recv_timeout(SLICE)) {
                Ok(Ok(())) | Ok(Err(mpsc::RecvTimeoutError::Disconnected)) | Err(_) => true,
                Ok(Err(mpsc::RecvTimeoutError::Timeout)) => false,
            });
            if finished {
                break;
            }
            if interrupt.is_none() {
                let failed = py.check_signals().err().or_else(|| tell(false));
                if let Some(e) = failed {
                    stop.store(true, Ordering::Relaxed);
                    interrupt = Some(e);
                }
            }
        }
        if interrupt.is_none() {
            interrupt = tell(true);
        }
        let out = py.detach(|| worker.join());
        match (out, interrupt) {
            (Ok(Ok(value)), interrupt) => Ok((value, interrupt)),
            (Ok(Err(_)), Some(interrupt)) => Err(interrupt),
            (Ok(Err(e)), None) => Err(to_py(e)),
            (Err(_), _) => Err(PyRuntimeError::new_err("emt: internal error (a worker thread panicked)")),
        }
    })
}
