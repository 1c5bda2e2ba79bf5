//! The error type shared by every emt crate.

/// Result alias used across emt.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in emt, with the offending value named.
///
/// Crate-specific errors convert into this one, so a caller that mixes crates can use
/// `emt_core::Result` throughout.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An array had the wrong shape.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    Shape {
        /// The array or argument (e.g. `"w_hh"`).
        what: String,
        /// The shape that was required, e.g. `"(N, N) = (4, 4)"`.
        expected: String,
        /// The shape that was given.
        got: String,
    },
    /// A NaN or infinity where finite numbers are required.
    #[error("non-finite value {value} in {what} at index {index:?}")]
    NonFinite {
        /// The array or argument.
        what: String,
        /// Multi-index of the first offending element.
        index: Vec<usize>,
        /// The offending value (NaN or +-inf).
        value: f64,
    },
    /// A variable-binding task id that does not decode to a valid operator.
    #[error("invalid task id {id}: {reason}")]
    InvalidTaskId {
        /// The id as written (`"id1,id2,id3"` or a part of it).
        id: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A parameter outside its valid range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name, e.g. `"gain"`.
        name: String,
        /// The offending value, formatted.
        value: String,
        /// What was required.
        reason: String,
    },
    /// A matrix that had to be invertible or of full rank was not.
    #[error("matrix {what} is singular or rank-deficient: {reason}")]
    Singular {
        /// Which matrix.
        what: String,
        /// Rank or conditioning details.
        reason: String,
    },
    /// An iterative method (an eigensolver, Newton, an integrator) stopped before meeting its
    /// tolerance; what it reached is given where known.
    #[error("{what} did not converge{}", not_converged_detail(*.iterations, *.residual))]
    NotConverged {
        /// What was being computed, e.g. `"eigendecomposition of W_hh (4, 4)"`.
        what: String,
        /// Iterations spent, where the method counts them.
        iterations: Option<usize>,
        /// The residual reached, where the method measures one.
        residual: Option<f64>,
    },
    /// A long computation was stopped by the caller's hook ([`crate::interrupt`]) before it
    /// finished; it returns no partial result.
    #[error("{what} interrupted")]
    Interrupted {
        /// What was running, e.g. `"fixed-point search"`.
        what: String,
    },
    /// Text that could not be parsed.
    #[error("cannot parse {input:?}: {reason}")]
    Parse {
        /// The text that failed to parse.
        input: String,
        /// Why.
        reason: String,
    },
    /// Training or simulation produced non-finite numbers.
    #[error("diverged at step {step}: {reason}")]
    Diverged {
        /// The step at which divergence was detected.
        step: usize,
        /// What became non-finite.
        reason: String,
    },
    /// A file whose contents are invalid (truncated, corrupt, missing tensors, bad dtype).
    #[error("invalid file {path}: {reason}")]
    Format {
        /// Path or description of the source.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An operating-system I/O error without a known path (prefer [`Error::File`]).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// An operating-system I/O error on a named file or directory.
    #[error("cannot access {path}: {source}")]
    File {
        /// The path that failed.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
}

fn not_converged_detail(iterations: Option<usize>, residual: Option<f64>) -> String {
    match (iterations, residual) {
        (Some(i), Some(r)) => format!(" after {i} iterations (residual {r:.3e})"),
        (Some(i), None) => format!(" after {i} iterations"),
        (None, Some(r)) => format!(" (residual {r:.3e})"),
        (None, None) => String::new(),
    }
}

impl Error {
    /// Shorthand for [`Error::Shape`].
    pub fn shape(what: impl Into<String>, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Error::Shape { what: what.into(), expected: expected.into(), got: got.into() }
    }

    /// Shorthand for [`Error::InvalidParameter`].
    pub fn param(name: impl Into<String>, value: impl ToString, reason: impl Into<String>) -> Self {
        Error::InvalidParameter { name: name.into(), value: value.to_string(), reason: reason.into() }
    }

    /// Shorthand for [`Error::InvalidTaskId`].
    pub fn task_id(id: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidTaskId { id: id.into(), reason: reason.into() }
    }

    /// [`Error::File`] for `path`.
    pub fn file(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::File { path: path.as_ref().display().to_string(), source }
    }

    /// Shorthand for [`Error::Singular`].
    pub fn singular(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Singular { what: what.into(), reason: reason.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn assert_bounds<T: Send + Sync + 'static + std::error::Error>() {}
        assert_bounds::<Error>();
    }

    #[test]
    fn messages_name_the_offender() {
        let e = Error::shape("w_hh", "(4, 4)", "(4, 3)");
        assert_eq!(e.to_string(), "shape mismatch in w_hh: expected (4, 4), got (4, 3)");
        let e = Error::param("gain", 0.5, "must be > 1");
        assert!(e.to_string().contains("gain = 0.5"));
        let e = Error::file("/no/such/dir/w.safetensors", std::io::Error::from(std::io::ErrorKind::NotFound));
        assert!(e.to_string().starts_with("cannot access /no/such/dir/w.safetensors:"), "{e}");
    }
}
