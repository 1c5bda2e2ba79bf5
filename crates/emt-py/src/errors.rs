//! `emt_core::Error` as Python exceptions: `EmtError(ValueError)` with one subclass per kind,
//! `OSError` (and its errno subclasses, `FileNotFoundError`, ...) for files, `KeyboardInterrupt`
//! for a call stopped by Ctrl-C. The message is the Rust message, naming the value or path.

use emt::core::Error;
use pyo3::exceptions::{PyKeyboardInterrupt, PyOSError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(emt, EmtError, PyValueError, "Every error emt reports about its input (a ValueError).");
pyo3::create_exception!(emt, ShapeError, EmtError, "An array had the wrong shape.");
pyo3::create_exception!(emt, NonFiniteError, EmtError, "A NaN or infinity where finite numbers are required.");
pyo3::create_exception!(emt, ParameterError, EmtError, "A parameter outside its valid range.");
pyo3::create_exception!(emt, TaskIdError, EmtError, "A variable-binding task id that decodes to no operator.");
pyo3::create_exception!(emt, SingularError, EmtError, "A matrix that had to be invertible was not.");
pyo3::create_exception!(emt, FormatError, EmtError, "A file or state dict whose contents are invalid.");
pyo3::create_exception!(emt, NotConvergedError, EmtError, "An iterative method stopped before its tolerance.");
pyo3::create_exception!(emt, ParseError, EmtError, "Text that could not be parsed.");
pyo3::create_exception!(emt, DivergedError, EmtError, "A simulation or training run became non-finite.");

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("EmtError", py.get_type::<EmtError>())?;
    m.add("ShapeError", py.get_type::<ShapeError>())?;
    m.add("NonFiniteError", py.get_type::<NonFiniteError>())?;
    m.add("ParameterError", py.get_type::<ParameterError>())?;
    m.add("TaskIdError", py.get_type::<TaskIdError>())?;
    m.add("SingularError", py.get_type::<SingularError>())?;
    m.add("FormatError", py.get_type::<FormatError>())?;
    m.add("NotConvergedError", py.get_type::<NotConvergedError>())?;
    m.add("ParseError", py.get_type::<ParseError>())?;
    m.add("DivergedError", py.get_type::<DivergedError>())?;
    Ok(())
}

fn os_error(error: &std::io::Error, message: String, path: Option<String>) -> PyErr {
    // OSError(errno, strerror, filename) becomes FileNotFoundError, PermissionError, ... by errno.
    match (error.raw_os_error(), path) {
        (Some(errno), Some(path)) => PyOSError::new_err((errno, message, path)),
        (Some(errno), None) => PyOSError::new_err((errno, message)),
        (None, _) => PyOSError::new_err(message),
    }
}

/// The Python exception for an emt error.
pub fn to_py(error: Error) -> PyErr {
    let message = error.to_string();
    match &error {
        Error::Shape { .. } => ShapeError::new_err(message),
        Error::NonFinite { .. } => NonFiniteError::new_err(message),
        Error::InvalidParameter { .. } => ParameterError::new_err(message),
        Error::InvalidTaskId { .. } => TaskIdError::new_err(message),
        Error::Singular { .. } => SingularError::new_err(message),
        Error::Format { .. } => FormatError::new_err(message),
        Error::NotConverged { .. } => NotConvergedError::new_err(message),
        Error::Parse { .. } => ParseError::new_err(message),
        Error::Diverged { .. } => DivergedError::new_err(message),
        Error::Interrupted { .. } => PyKeyboardInterrupt::new_err(message),
        Error::File { path, source } => os_error(source, message.clone(), Some(path.clone())),
        Error::Io(source) => os_error(source, message.clone(), None),
        _ => EmtError::new_err(message),
    }
}

/// `Result<T, emt::core::Error>` into `PyResult<T>`.
pub trait IntoPy<T> {
    /// The value, or the matching Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for emt::core::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// A parameter error raised from the binding itself (a bad keyword value).
pub fn param(name: &str, value: impl ToString, reason: &str) -> PyErr {
    to_py(Error::param(name, value, reason))
}
