//! `emt._emt`: the compiled half of the `emt` Python package (crates/emt-py/python/emt).
//!
//! This crate only translates (STYLE.md 11-13): NumPy arrays in, the library's typed calls, plain
//! dicts of arrays out; the Python half turns those into frozen dataclasses. Every long call runs
//! through `run::detached`: without the GIL, in a worker thread whose emt loops ask an
//! interrupt hook that the calling thread sets when Python reports Ctrl-C.

use pyo3::prelude::*;

mod analysis;
mod errors;
mod model;
mod run;
mod science;

/// The extension module.
#[pymodule]
fn _emt(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    errors::register(m)?;
    m.add_class::<model::Model>()?;
    analysis::register(m)?;
    science::register(m)?;
    Ok(())
}
