//! Validation helpers shared by every crate: shapes and finiteness, with errors that name
//! the offending array and element.

use ndarray::{ArrayBase, Data, Dimension};

use crate::{Error, Real, Result};

/// Formats a shape as `(a, b, c)`.
pub fn fmt_shape(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("({})", parts.join(", "))
}

/// Errors unless `array` has exactly the shape `expected`.
///
/// ```
/// let a = ndarray::Array2::<f64>::zeros((2, 3));
/// assert!(emt_core::check::shape("a", &a, &[2, 3]).is_ok());
/// assert!(emt_core::check::shape("a", &a, &[3, 2]).is_err());
/// ```
pub fn shape<S, D>(what: &str, array: &ArrayBase<S, D>, expected: &[usize]) -> Result<()>
where
    S: Data,
    D: Dimension,
{
    if array.shape() == expected {
        Ok(())
    } else {
        Err(Error::shape(what, fmt_shape(expected), fmt_shape(array.shape())))
    }
}

/// Errors on the first NaN or infinity in `array`, naming its index.
///
/// ```
/// let a = ndarray::array![[1.0, f64::NAN]];
/// let err = emt_core::check::finite("w_hh", &a).unwrap_err();
/// assert!(err.to_string().contains("[0, 1]"));
/// ```
pub fn finite<F, S, D>(what: &str, array: &ArrayBase<S, D>) -> Result<()>
where
    F: Real,
    S: Data<Elem = F>,
    D: Dimension,
{
    // `iter()` walks in logical row-major order whatever the memory layout, so the position
    // of the first bad element converts back to its multi-index through the shape.
    match array.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(flat) => {
            let value = array.iter().nth(flat).map_or(f64::NAN, |x| x.f64());
            Err(Error::NonFinite { what: what.to_string(), index: unravel(flat, array.shape()), value })
        }
    }
}

/// Converts a row-major flat index into a multi-index for `shape`.
pub fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &dim) in index.iter_mut().zip(shape).rev() {
        if dim > 0 {
            *slot = flat % dim;
            flat /= dim;
        }
    }
    index
}

/// Errors unless `value > 0`.
pub fn positive(name: &str, value: usize) -> Result<()> {
    if value == 0 { Err(Error::param(name, value, "must be at least 1")) } else { Ok(()) }
}
