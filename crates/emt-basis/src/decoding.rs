//! Reading trained networks: how well basis coordinates recover the memory's true content.
//!
//! At time `t` (once `t >= s - 1`) the memory holds the window of the last `s` items of the
//! sequence `z`, where `z(t) = u(t)` in the input phase (`t < s`) and `z(t) = y(t)` after it:
//! slot `k`, bit `i` holds `z(t - s + 1 + k)_i` (slot `s - 1` is the current output, the one the
//! readout reads). The decoding accuracy of a basis is, for every coordinate it defines, the
//! fraction of states whose coordinate `Psi*[k d + i] . h(t)` has the sign of that bit, over
//! fresh episodes (docs/EMT.md §4).

use emt_core::{Error, Result, check};
use ndarray::{Array2, ArrayView2, ArrayView3};

use crate::VariableBasis;

/// The true window content `(M, s*d)` for the steps `t >= from` of every sequence of an episode
/// (inputs and targets `(T, B, d)`), rows in `(t, b)` order (`M = (T - from) B`); column
/// `k d + i` is `z(t - s + 1 + k)_i`. Errors if `from < s - 1` (the window is not full yet) or
/// the shapes disagree.
///
/// ```
/// let (s, d) = (2, 1);
/// let u = ndarray::Array3::from_shape_vec((4, 1, 1), vec![1.0f32, -1.0, 0.0, 0.0])?;
/// let y = ndarray::Array3::from_shape_vec((4, 1, 1), vec![0.0f32, 0.0, 1.0, -1.0])?;   // repeat copy
/// let w = emt_basis::memory_windows(u.view(), y.view(), s, d, 1)?;
/// assert_eq!(w, ndarray::array![[1.0, -1.0], [-1.0, 1.0], [1.0, -1.0]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn memory_windows(
    inputs: ArrayView3<'_, f32>,
    targets: ArrayView3<'_, f32>,
    s: usize,
    d: usize,
    from: usize,
) -> Result<Array2<f64>> {
    check::positive("s", s)?;
    check::positive("d", d)?;
    let (t_len, batch, d_in) = inputs.dim();
    if d_in != d || targets.dim() != (t_len, batch, d) {
        return Err(Error::shape(
            "episode",
            format!("inputs and targets (T, B, {d})"),
            format!("{:?} / {:?}", inputs.shape(), targets.shape()),
        ));
    }
    if from + 1 < s || from >= t_len {
        return Err(Error::param("from", from, format!("must be in [s - 1, T) = [{}, {t_len})", s - 1)));
    }
    let z = |t: usize, b: usize, i: usize| f64::from(if t < s { inputs[[t, b, i]] } else { targets[[t, b, i]] });
    let mut out = Array2::zeros(((t_len - from) * batch, s * d));
    for t in from..t_len {
        for b in 0..batch {
            let row = (t - from) * batch + b;
            for k in 0..s {
                for i in 0..d {
                    out[[row, k * d + i]] = z(t + 1 + k - s, b, i);
                }
            }
        }
    }
    Ok(out)
}

/// Hidden states `(T, B, N)` for `t >= from`, as rows `(M, N)` in the order of
/// [`memory_windows`].
pub fn stack_states(hidden: ArrayView3<'_, f64>, from: usize) -> Result<Array2<f64>> {
    let (t_len, batch, n) = hidden.dim();
    if from >= t_len {
        return Err(Error::param("from", from, format!("must be < T = {t_len}")));
    }
    let part = hidden.slice(ndarray::s![from.., .., ..]).to_owned();
    part.into_shape_with_order(((t_len - from) * batch, n))
        .map_err(|e| Error::shape("hidden", "(T, B, N)", e.to_string()))
}

/// Decoding accuracy of a basis: the mean over its coordinates, per slot, per coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoding {
    /// Mean sign accuracy over every coordinate the basis defines.
    pub mean: f64,
    /// Per slot `k = 0..s` (oldest first): mean over the slot's coordinates the basis defines;
    /// `None` when it defines none there.
    pub by_slot: Vec<Option<f64>>,
    /// `(coordinate k d + i, accuracy)` for every coordinate of the basis.
    pub by_coordinate: Vec<(usize, f64)>,
}

/// Sign accuracy with which `basis` reads `windows` `(M, s*d)` from `states` `(M, N)` (from
/// [`memory_windows`] and [`stack_states`] on fresh episodes). A coordinate at exactly 0 counts
/// as `+1`, as in the task's accuracy.
pub fn decoding_accuracy(
    basis: &VariableBasis,
    states: ArrayView2<'_, f64>,
    windows: ArrayView2<'_, f64>,
    s: usize,
    d: usize,
) -> Result<Decoding> {
    if windows.ncols() != s * d || windows.nrows() != states.nrows() {
        return Err(Error::shape(
            "windows",
            format!("({}, {})", states.nrows(), s * d),
            check::fmt_shape(windows.shape()),
        ));
    }
    if states.nrows() == 0 {
        return Err(Error::param("states", 0, "need at least one state"));
    }
    let proj = basis.project(states)?;
    let m = states.nrows() as f64;
    let by_coordinate: Vec<(usize, f64)> = basis
        .coordinates()
        .iter()
        .enumerate()
        .map(|(j, &c)| {
            let hits =
                proj.column(j).iter().zip(windows.column(c)).filter(|&(&p, &w)| (p >= 0.0) == (w >= 0.0)).count();
            (c, hits as f64 / m)
        })
        .collect();
    let mean = by_coordinate.iter().map(|x| x.1).sum::<f64>() / by_coordinate.len().max(1) as f64;
    let by_slot = (0..s)
        .map(|k| {
            let v: Vec<f64> = by_coordinate.iter().filter(|(c, _)| c / d == k).map(|x| x.1).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        })
        .collect();
    Ok(Decoding { mean, by_slot, by_coordinate })
}
