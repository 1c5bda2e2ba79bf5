//! Recurrent cells as checked weight types: Elman, GRU (PyTorch), Euler CT-RNN, continuous-time
//! GRU and the gated RNN of the theory of gating (docs/DYNAMICS.md §1), each with a reference
//! simulation and analytic Jacobians, and [`ModelFile`]: one safetensors format for all of them.
//!
//! | cell | type | kind | state |
//! |---|---|---|---|
//! | `elman` | [`ElmanWeights`](crate::ElmanWeights) | map | `N` |
//! | `gru` | [`GruWeights`] | map | `N` |
//! | `ctrnn` | [`CtRnnWeights`] | map (Euler, `alpha = dt/tau`) | `N` |
//! | `ctgru` | [`CtGruWeights`] | flow (simulated by Euler with step `dt`) | `N` |
//! | `gated` | [`GatedWeights`] | flow (simulated by Euler with step `dt`) | `3N` = `(h, z, r)` |
//! | `oscillator` | [`OscillatorWeights`] | map (the Z3 phase oscillator of docs/DYNAMICS.md §7) | `2` |
//! | `lstm` | [`RnnStack`] of [`LstmWeights`] | map | `[h; c]` per layer, `P + N` |
//! | any PyTorch stack | [`RnnStack`]: elman (tanh or relu), gru or lstm layers, optional readout | map | the layers' states, layer 0 first |
//!
//! A single-layer tanh (or identity) Elman with a readout is [`ElmanWeights`](crate::ElmanWeights)
//! and a single-layer GRU is [`GruWeights`], the types the engine trains; every other PyTorch
//! module (relu, more layers, LSTM, no readout) is an [`RnnStack`].
//!
//! Why a module of emt-core and not a crate of its own: the cells need nothing emt-core does
//! not already depend on (ndarray, safetensors), every crate above already depends on emt-core,
//! and the Elman type and its file IO were here in stage 1; a separate crate would split one
//! file format across two crates without removing a single dependency.

mod ctgru;
mod ctrnn;
mod file;
mod gated;
mod gru;
mod lstm;
mod oscillator;
mod reader;
mod stack;

pub use ctgru::CtGruWeights;
pub use ctrnn::CtRnnWeights;
pub use file::{CellKind, Dtype, LoadOptions, Model, ModelFile};
pub use gated::{GatedParams, GatedWeights};
pub use gru::GruWeights;
pub use lstm::LstmWeights;
pub use oscillator::OscillatorWeights;
pub use stack::{ElmanLayer, Layer, RnnStack};

use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, ArrayView3, ArrayViewMut1, s};

use crate::{DiscreteMap, Error, Result, Trajectory, check};

/// The logistic sigmoid `1 / (1 + e^-x)`.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// An affine readout `y = W v + b`: `w` `(d_out, n)`, optional `b` `(d_out)`, where `v` is
/// the cell's observable (h, or tanh h for ctrnn and gated).
#[derive(Debug, Clone, PartialEq)]
pub struct Readout {
    w: Array2<f64>,
    b: Option<Array1<f64>>,
}

impl Readout {
    /// Checks `w` `(d_out, n)` (d_out >= 1) and `b` `(d_out)`, all finite.
    pub fn new(w: Array2<f64>, b: Option<Array1<f64>>, n: usize) -> Result<Self> {
        if w.ncols() != n || w.nrows() == 0 {
            return Err(Error::shape("weight", format!("(d_out, {n}) with d_out >= 1"), check::fmt_shape(w.shape())));
        }
        check::finite("weight", &w)?;
        if let Some(b) = &b {
            check::shape("bias", b, &[w.nrows()])?;
            check::finite("bias", b)?;
        }
        Ok(Readout { w, b })
    }

    /// Weight `(d_out, n)`.
    pub fn w(&self) -> ArrayView2<'_, f64> {
        self.w.view()
    }

    /// Bias `(d_out)`, if any.
    pub fn b(&self) -> Option<ArrayView1<'_, f64>> {
        self.b.as_ref().map(|b| b.view())
    }

    /// Output size `d_out`.
    pub fn output_dim(&self) -> usize {
        self.w.nrows()
    }

    /// `W v + b` into `out` `(d_out)`.
    pub(crate) fn apply_into(&self, v: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        ndarray::linalg::general_mat_vec_mul(1.0, &self.w, &v, 0.0, &mut out);
        if let Some(b) = &self.b {
            out += b;
        }
    }
}

/// A cell that can be simulated: a step map on its state plus a readout of that state.
pub trait Cell {
    /// The step map (for flows: their Euler map with the file's `dt`).
    fn map(&self) -> Box<dyn DiscreteMap + '_>;
    /// Output size `d_out` (0 if the cell has no readout).
    fn output_dim(&self) -> usize;
    /// The readout of a state `(state_dim)` into `out` `(d_out)`; nothing if no readout.
    fn output_into(&self, state: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>);
    /// The default initial state `(state_dim)` (zeros unless the cell says otherwise).
    fn default_h0(&self) -> Array1<f64> {
        Array1::zeros(self.map().state_dim())
    }
    /// Where PyTorch's `output` (the top layer's `h`) sits in the state: the whole state for
    /// every single-layer cell without a separate memory, the top layer's `h` for an
    /// [`RnnStack`].
    fn hidden_range(&self) -> std::ops::Range<usize> {
        0..self.map().state_dim()
    }
}

/// Runs `cell` on `inputs` `(T, B, d_in)` from `h0` `(B, state)` (default: the cell's
/// default state for every sequence): hidden states `(T, B, state)`, outputs `(T, B, d_out)`.
pub fn simulate(
    cell: &dyn Cell,
    inputs: ArrayView3<'_, f64>,
    h0: Option<ArrayView2<'_, f64>>,
) -> Result<Trajectory<f64>> {
    let map = cell.map();
    let (n, d) = (map.state_dim(), map.input_dim());
    let (t_len, batch, d_in) = inputs.dim();
    if d_in != d {
        return Err(Error::shape("inputs", format!("(T, B, {d})"), check::fmt_shape(inputs.shape())));
    }
    // States and outputs for every step: an input of a few MB can ask for many GB when n >> d_in.
    let cells = t_len as f64 * batch as f64 * (n + cell.output_dim()) as f64;
    check::memory("inputs", format!("(T, B) = ({t_len}, {batch}) with a {n}-dimensional state"), 8.0 * cells)?;
    check::finite("inputs", &inputs)?;
    let start = match h0 {
        Some(h0) => {
            check::shape("h0", &h0, &[batch, n])?;
            check::finite("h0", &h0)?;
            h0.to_owned()
        }
        None => {
            let d0 = cell.default_h0();
            Array2::from_shape_fn((batch, n), |(_, i)| d0[i])
        }
    };
    let mut hidden = Array3::zeros((t_len, batch, n));
    let mut outputs = Array3::zeros((t_len, batch, cell.output_dim()));
    for b in 0..batch {
        let mut x = start.row(b).to_owned();
        for t in 0..t_len {
            let mut next = hidden.slice_mut(s![t, b, ..]);
            map.step_into(x.view(), inputs.slice(s![t, b, ..]), next.view_mut())?;
            x.assign(&next);
            cell.output_into(x.view(), outputs.slice_mut(s![t, b, ..]));
        }
    }
    if let Some(bad) = hidden.iter().position(|v| !v.is_finite()) {
        let index = check::unravel(bad, hidden.shape());
        return Err(Error::Diverged { step: index[0], reason: format!("hidden state {index:?} became non-finite") });
    }
    Ok(Trajectory { outputs, hidden })
}

/// Checks a matrix has shape `(rows, cols)` and finite entries.
pub(crate) fn check_matrix(what: &str, m: &Array2<f64>, rows: usize, cols: usize) -> Result<()> {
    check::shape(what, m, &[rows, cols])?;
    check::finite(what, m)
}

/// Checks an optional vector of length `len`.
pub(crate) fn check_vector(what: &str, v: &Option<Array1<f64>>, len: usize) -> Result<()> {
    if let Some(v) = v {
        check::shape(what, v, &[len])?;
        check::finite(what, v)?;
    }
    Ok(())
}

/// Checks an optional readout reads `n` units.
pub(crate) fn check_readout(readout: Option<&Readout>, n: usize) -> Result<()> {
    match readout {
        Some(r) if r.w().ncols() != n => {
            Err(Error::shape("weight", format!("(d_out, {n})"), check::fmt_shape(r.w().shape())))
        }
        _ => Ok(()),
    }
}

/// Checks a scalar parameter is finite and in `(lo, hi]` (or `> lo` when `hi` is infinite).
pub(crate) fn check_scalar(name: &str, value: f64, lo: f64, hi: f64) -> Result<()> {
    if value.is_finite() && value > lo && value <= hi {
        Ok(())
    } else {
        Err(Error::param(name, value, format!("must be finite and in ({lo}, {hi}]")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long input for a large state is refused by its size before anything is allocated or
    /// scanned (a broadcast view of one step stands for 10^12 steps).
    #[test]
    fn a_simulation_too_large_for_memory_is_refused_first() {
        let net = crate::cells::CtRnnWeights::new(
            Array2::zeros((3, 1)),
            Array2::eye(3),
            None,
            0.5,
            Readout::new(Array2::ones((1, 3)), None, 3).unwrap(),
        )
        .unwrap();
        let one = ndarray::Array3::<f64>::zeros((1, 1, 1));
        let huge = one.broadcast((1_000_000_000_000, 1, 1)).unwrap();
        let e = simulate(&net, huge, None).unwrap_err().to_string();
        assert!(e.contains("(T, B) = (1000000000000, 1)") && e.contains("GiB"), "{e}");
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Finite-difference checks shared by the cell tests (emt-testkit depends on nothing
    //! emt, so these few lines live here rather than create a dependency cycle).
    use ndarray::{Array1, Array2, ArrayView1};

    pub fn fd(f: impl Fn(ArrayView1<'_, f64>) -> Array1<f64>, x: ArrayView1<'_, f64>) -> Array2<f64> {
        emt_testkit::jacobian_fd(f, x, 1e-6)
    }

    pub fn assert_close(a: &Array2<f64>, b: &Array2<f64>, tol: f64, what: &str) {
        let err = emt_testkit::max_abs_diff(a, b);
        let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert!(err <= tol * scale, "{what}: max difference {err:e} (scale {scale})");
    }
}
