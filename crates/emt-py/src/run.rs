//! Long calls: without the GIL, stoppable by Ctrl-C.
//!
//! The work runs on a scoped worker thread with an interrupt hook (`emt_core::interrupt`) that
//! reads a flag; the calling thread waits without the GIL in 20 ms slices and, between them,
//! asks Python whether a signal arrived (`PyErr_CheckSignals`, which runs the handlers only on
//! the main thread). On KeyboardInterrupt it sets the flag, waits for the worker to stop at its
//! next check (emt's loops check at least every few milliseconds of work) and raises. Other
//! Python threads run meanwhile, and a Python callback called from the work (training's
//! `callback`) takes the GIL as it needs it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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
    match detached_keep(py, work)? {
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
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // A Receiver is not Sync; the waiting closure below may run on another OS thread's terms.
    let done_rx = std::sync::Mutex::new(done_rx);
    std::thread::scope(|scope| {
        let worker = scope.spawn(move || {
            let out = emt::core::interrupt::with_hook(move || flag.load(Ordering::Relaxed), work);
            let _ = done_tx.send(());
            out
        });
        let mut interrupt: Option<PyErr> = None;
        loop {
            let finished = py.detach(|| match done_rx.lock().map(|rx| rx.recv_timeout(SLICE)) {
                Ok(Ok(())) | Ok(Err(mpsc::RecvTimeoutError::Disconnected)) | Err(_) => true,
                Ok(Err(mpsc::RecvTimeoutError::Timeout)) => false,
            });
            if finished {
                break;
            }
            if interrupt.is_none()
                && let Err(e) = py.check_signals()
            {
                stop.store(true, Ordering::Relaxed);
                interrupt = Some(e);
            }
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
