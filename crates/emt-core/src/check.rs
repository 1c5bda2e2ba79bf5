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

/// Memory this process may still take, in bytes: Linux's `MemAvailable` (free memory plus
/// what the kernel can reclaim), or `None` where it cannot be read.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// Errors, before anything is allocated, when the setting `name = value` needs about `bytes`
/// and that is more than the memory available ([`available_memory`]; no check where it is
/// unknown). A request such as `--hidden 100000` (225 GiB of parameters, optimiser state and
/// caches) otherwise aborts the whole process in the allocator, with no message naming the
/// setting.
///
/// ```
/// assert!(emt_core::check::memory("starts", 10, 1e3).is_ok());
/// let e = emt_core::check::memory("starts", 1e9, 1e30).unwrap_err().to_string();
/// assert!(e.contains("starts = 1000000000"), "{e}");
/// ```
pub fn memory(name: &str, value: impl ToString, bytes: f64) -> Result<()> {
    let gib = |b: f64| b / (1u64 << 30) as f64;
    if !bytes.is_finite() || bytes > 1e18 {
        return Err(Error::param(name, value, format!("needs {bytes:.3e} bytes, more memory than any machine has")));
    }
    match available_memory() {
        Some(free) if bytes > free as f64 => Err(Error::param(
            name,
            value,
            format!("needs about {:.1} GiB, more than the {:.1} GiB available", gib(bytes), gib(free as f64)),
        )),
        _ => Ok(()),
    }
}

/// Errors unless `value > 0`.
pub fn positive(name: &str, value: usize) -> Result<()> {
    if value == 0 { Err(Error::param(name, value, "must be at least 1")) } else { Ok(()) }
}
