//! PyTorch's recurrent modules as they are: `torch.nn.RNN` (tanh or relu), `torch.nn.GRU` and
//! `torch.nn.LSTM` with any number of layers, and an optional readout on the top layer.
//!
//! Layer `l` reads layer `l - 1`'s new output at the same step (PyTorch's `num_layers`). The
//! dynamical state is the concatenation of the layers' states, layer 0 first (an LSTM layer's
//! state is `[h; c]`), so its Jacobian is block lower-triangular:
//!
//! ```text
//! dx'_l/dx_l = A_l,      dx'_l/dx_k = B_l P_{l-1} dx'_{l-1}/dx_k  (k < l),      dx'_0/du = B_0
//! ```
//!
//! with `A_l`, `B_l` the layer's own state and input Jacobians and `P_{l-1}` the rows of layer
//! `l - 1`'s output `h` in its state.

use std::ops::Range;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, s};

use super::{Cell, CellKind, GruWeights, LstmWeights, Readout, check_matrix, check_readout, check_vector};
use crate::maps::check_into;
use crate::{Activation, DiscreteMap, Error, Result, check};

/// One layer of `torch.nn.RNN`: `h' = act(W_ih x + b_ih + W_hh h + b_hh)`, `w_ih` `(N, d_in)`,
/// `w_hh` `(N, N)`, optional biases `(N)` kept apart as PyTorch keeps them.
///
/// ```
/// use emt_core::{Activation, DiscreteMap, cells::ElmanLayer};
/// let l = ElmanLayer::new(ndarray::array![[1.0]], ndarray::array![[0.5]], None, None, Activation::Relu)?;
/// assert_eq!(l.step(ndarray::array![1.0].view(), ndarray::array![-2.0].view())?[0], 0.0);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ElmanLayer {
    w_ih: Array2<f64>,
    w_hh: Array2<f64>,
    b_ih: Option<Array1<f64>>,
    b_hh: Option<Array1<f64>>,
    activation: Activation,
}

impl ElmanLayer {
    /// Checks shapes and finiteness, naming the tensor.
    pub fn new(
        w_ih: Array2<f64>,
        w_hh: Array2<f64>,
        b_ih: Option<Array1<f64>>,
        b_hh: Option<Array1<f64>>,
        activation: Activation,
    ) -> Result<Self> {
        let n = w_hh.nrows();
        check::positive("N (rows of weight_hh_l0)", n)?;
        check_matrix("weight_hh_l0", &w_hh, n, n)?;
        check_matrix("weight_ih_l0", &w_ih, n, w_ih.ncols())?;
        check_vector("bias_ih_l0", &b_ih, n)?;
        check_vector("bias_hh_l0", &b_hh, n)?;
        Ok(ElmanLayer { w_ih, w_hh, b_ih, b_hh, activation })
    }

    /// Hidden size `N`.
    pub fn hidden_dim(&self) -> usize {
        self.w_hh.nrows()
    }

    /// `weight_ih` `(N, d_in)`.
    pub fn w_ih(&self) -> ArrayView2<'_, f64> {
        self.w_ih.view()
    }

    /// `weight_hh` `(N, N)`.
    pub fn w_hh(&self) -> ArrayView2<'_, f64> {
        self.w_hh.view()
    }

    /// `bias_ih` `(N)`, if any.
    pub fn b_ih(&self) -> Option<ArrayView1<'_, f64>> {
        self.b_ih.as_ref().map(|b| b.view())
    }

    /// `bias_hh` `(N)`, if any.
    pub fn b_hh(&self) -> Option<ArrayView1<'_, f64>> {
        self.b_hh.as_ref().map(|b| b.view())
    }

    /// The nonlinearity.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// `D(act'(pre)) m`, the derivative taken through the step's output.
    fn scaled_rows_into(
        &self,
        h: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        m: &Array2<f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let mut next = Array1::zeros(self.hidden_dim());
        self.step_into(h, u, next.view_mut())?;
        crate::weights::derivative_rows_into(self.activation, &next, m, out);
        Ok(())
    }
}

impl DiscreteMap for ElmanLayer {
    fn state_dim(&self) -> usize {
        self.hidden_dim()
    }

    fn input_dim(&self) -> usize {
        self.w_ih.ncols()
    }

    fn fixed_point_bounds(&self, _u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        (self.activation == Activation::Tanh).then(|| Array1::ones(self.hidden_dim()))
    }

    fn step_into(&self, h: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, self.input_dim(), &h, &u, out.shape(), &[n])?;
        ndarray::linalg::general_mat_vec_mul(1.0, &self.w_ih, &u, 0.0, &mut out);
        if let Some(b) = &self.b_ih {
            out += b;
        }
        ndarray::linalg::general_mat_vec_mul(1.0, &self.w_hh, &h, 1.0, &mut out);
        if let Some(b) = &self.b_hh {
            out += b;
        }
        let act = self.activation;
        out.mapv_inplace(|x| act.apply(x));
        Ok(())
    }

    /// `D(act'(pre)) W_hh` (relu: 0 at the kink).
    fn jacobian_into(&self, h: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut2<'_, f64>) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, self.input_dim(), &h, &u, out.shape(), &[n, n])?;
        self.scaled_rows_into(h, u, &self.w_hh, out)
    }

    /// `D(act'(pre)) W_ih`.
    fn input_jacobian_into(
        &self,
        h: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, d) = (self.hidden_dim(), self.input_dim());
        check_into(n, d, &h, &u, out.shape(), &[n, d])?;
        self.scaled_rows_into(h, u, &self.w_ih, out)
    }
}

/// One layer of a PyTorch recurrent module.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// `torch.nn.RNN` (tanh or relu).
    Elman(ElmanLayer),
    /// `torch.nn.GRU` (its readout unused).
    Gru(GruWeights),
    /// `torch.nn.LSTM`.
    Lstm(LstmWeights),
}

impl Layer {
    /// The layer as a map on its own state, driven by its input.
    pub fn map(&self) -> &dyn DiscreteMap {
        match self {
            Layer::Elman(l) => l,
            Layer::Gru(l) => l,
            Layer::Lstm(l) => l,
        }
    }

    /// Which cell.
    pub fn kind(&self) -> CellKind {
        match self {
            Layer::Elman(_) => CellKind::Elman,
            Layer::Gru(_) => CellKind::Gru,
            Layer::Lstm(_) => CellKind::Lstm,
        }
    }

    /// Size of the output `h` the next layer (or the readout) reads: the first entries of the
    /// layer's state.
    pub fn output_dim(&self) -> usize {
        match self {
            Layer::Elman(l) => l.hidden_dim(),
            Layer::Gru(l) => l.hidden_dim(),
            Layer::Lstm(l) => l.output_dim(),
        }
    }

    /// The nonlinearity of an Elman layer (tanh for the gated cells).
    pub fn activation(&self) -> Activation {
        match self {
            Layer::Elman(l) => l.activation(),
            _ => Activation::Tanh,
        }
    }

    /// A box for the layer's fixed-point states when its input lies in `center ± half`.
    fn state_bounds(&self, center: ArrayView1<'_, f64>, half: Option<ArrayView1<'_, f64>>) -> Option<Array1<f64>> {
        match self {
            Layer::Lstm(l) => Some(l.state_bounds(center, half)),
            // tanh (or a convex mix of tanh values and the state) whatever the input.
            Layer::Gru(l) => Some(Array1::ones(l.hidden_dim())),
            Layer::Elman(l) => l.fixed_point_bounds(center),
        }
    }
}

/// A stack of PyTorch recurrent layers of one cell, with an optional readout `(d_out, H_out)`
/// on the top layer's output.
///
/// ```
/// use emt_core::{Activation, DiscreteMap, cells::{ElmanLayer, Layer, RnnStack}};
/// use ndarray::{array, Array2};
/// // Two linear-ish relu layers: layer 1 copies layer 0's new output.
/// let l0 = ElmanLayer::new(array![[1.0]], array![[0.0]], None, None, Activation::Relu)?;
/// let l1 = ElmanLayer::new(array![[1.0]], array![[0.0]], None, None, Activation::Relu)?;
/// let stack = RnnStack::new(vec![Layer::Elman(l0), Layer::Elman(l1)], None)?;
/// let x = stack.step(array![0.0, 0.0].view(), array![3.0].view())?;
/// assert_eq!(x, array![3.0f64, 3.0]);    // the same step, not one step later
/// let j = stack.jacobian(array![0.0, 0.0].view(), array![3.0].view())?;
/// assert_eq!(j, Array2::<f64>::zeros((2, 2)));  // the input drives both; no state matters
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RnnStack {
    layers: Vec<Layer>,
    readout: Option<Readout>,
    /// Where each layer's state starts in the stacked state (`layers.len() + 1` entries).
    offsets: Vec<usize>,
}

impl RnnStack {
    /// Checks that there is at least one layer, all of one cell (and one nonlinearity), that
    /// each layer reads the previous layer's output size, and that the readout reads the top.
    pub fn new(layers: Vec<Layer>, readout: Option<Readout>) -> Result<Self> {
        let Some(first) = layers.first() else {
            return Err(Error::param("num_layers", 0, "must be >= 1"));
        };
        for (l, layer) in layers.iter().enumerate().skip(1) {
            if layer.kind() != first.kind() || layer.activation() != first.activation() {
                return Err(Error::param(
                    format!("layer {l}"),
                    layer.kind(),
                    format!("every layer must be a {} ({}) as layer 0 is", first.kind(), first.activation().name()),
                ));
            }
            let below = layers[l - 1].output_dim();
            if layer.map().input_dim() != below {
                return Err(Error::shape(
                    format!("weight_ih_l{l}"),
                    format!("(rows, {below}): layer {l} reads layer {}'s output", l - 1),
                    format!("(rows, {})", layer.map().input_dim()),
                ));
            }
        }
        let top = layers[layers.len() - 1].output_dim();
        check_readout(readout.as_ref(), top)?;
        let mut offsets = vec![0];
        for layer in &layers {
            offsets.push(offsets[offsets.len() - 1] + layer.map().state_dim());
        }
        Ok(RnnStack { layers, readout, offsets })
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Number of layers.
    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// The cell every layer is.
    pub fn kind(&self) -> CellKind {
        self.layers[0].kind()
    }

    /// The Elman nonlinearity (tanh for gru and lstm).
    pub fn activation(&self) -> Activation {
        self.layers[0].activation()
    }

    /// The readout on the top layer's output, if any.
    pub fn readout(&self) -> Option<&Readout> {
        self.readout.as_ref()
    }

    /// Where layer `l`'s state sits in the stacked state.
    pub fn layer_range(&self, l: usize) -> Range<usize> {
        self.offsets[l]..self.offsets[l + 1]
    }

    /// Where the top layer's output `h` (PyTorch's `output`, `H_out`) sits in the state.
    pub fn top_hidden_range(&self) -> Range<usize> {
        let top = self.layers.len() - 1;
        self.offsets[top]..self.offsets[top] + self.layers[top].output_dim()
    }

    /// Every layer's new state, written into `out`, with layer `l` reading layer `l - 1`'s
    /// new output.
    fn forward_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        let mut input = u.to_owned();
        for (l, layer) in self.layers.iter().enumerate() {
            let r = self.layer_range(l);
            layer.map().step_into(x.slice(s![r.clone()]), input.view(), out.slice_mut(s![r.clone()]))?;
            input = out.slice(s![r.start..r.start + layer.output_dim()]).to_owned();
        }
        Ok(())
    }

    /// Layer `l`'s input at `(x, u)`: `u` for layer 0, else layer `l - 1`'s new output in `next`.
    fn input_of<'a>(&self, l: usize, u: ArrayView1<'a, f64>, next: &'a Array1<f64>) -> ArrayView1<'a, f64> {
        if l == 0 {
            u
        } else {
            let start = self.offsets[l - 1];
            next.slice(s![start..start + self.layers[l - 1].output_dim()])
        }
    }
}

impl DiscreteMap for RnnStack {
    fn state_dim(&self) -> usize {
        self.offsets[self.layers.len()]
    }

    fn input_dim(&self) -> usize {
        self.layers[0].map().input_dim()
    }

    /// Layer 0's box under `u`; each layer above under the box of the output below it.
    fn fixed_point_bounds(&self, u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        let mut out = Array1::zeros(self.state_dim());
        let mut below: Option<Array1<f64>> = None;
        for (l, layer) in self.layers.iter().enumerate() {
            let b = match &below {
                None => layer.state_bounds(u, None)?,
                Some(h) => layer.state_bounds(Array1::zeros(h.len()).view(), Some(h.view()))?,
            };
            out.slice_mut(s![self.layer_range(l)]).assign(&b);
            below = Some(b.slice(s![..layer.output_dim()]).to_owned());
        }
        Some(out)
    }

    fn step_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) -> Result<()> {
        let n = self.state_dim();
        check_into(n, self.input_dim(), &x, &u, out.shape(), &[n])?;
        self.forward_into(x, u, out)
    }

    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let n = self.state_dim();
        check_into(n, self.input_dim(), &x, &u, out.shape(), &[n, n])?;
        let mut next = Array1::zeros(n);
        self.forward_into(x, u, next.view_mut())?;
        out.fill(0.0);
        for (l, layer) in self.layers.iter().enumerate() {
            let r = self.layer_range(l);
            let (xl, ul) = (x.slice(s![r.clone()]), self.input_of(l, u, &next));
            layer.map().jacobian_into(xl, ul, out.slice_mut(s![r.clone(), r.clone()]))?;
            if l > 0 {
                let mut b = Array2::zeros((r.len(), ul.len()));
                layer.map().input_jacobian_into(xl, ul, b.view_mut())?;
                let below = self.offsets[l - 1];
                let rows_below = out.slice(s![below..below + ul.len(), ..r.start]).to_owned();
                general_mat_mul(1.0, &b, &rows_below, 0.0, &mut out.slice_mut(s![r.clone(), ..r.start]));
            }
        }
        Ok(())
    }

    fn input_jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, d) = (self.state_dim(), self.input_dim());
        check_into(n, d, &x, &u, out.shape(), &[n, d])?;
        let mut next = Array1::zeros(n);
        self.forward_into(x, u, next.view_mut())?;
        for (l, layer) in self.layers.iter().enumerate() {
            let r = self.layer_range(l);
            let (xl, ul) = (x.slice(s![r.clone()]), self.input_of(l, u, &next));
            if l == 0 {
                layer.map().input_jacobian_into(xl, ul, out.slice_mut(s![r, ..]))?;
            } else {
                let mut b = Array2::zeros((r.len(), ul.len()));
                layer.map().input_jacobian_into(xl, ul, b.view_mut())?;
                let below = self.offsets[l - 1];
                let rows_below = out.slice(s![below..below + ul.len(), ..]).to_owned();
                general_mat_mul(1.0, &b, &rows_below, 0.0, &mut out.slice_mut(s![r, ..]));
            }
        }
        Ok(())
    }
}

impl Cell for RnnStack {
    fn map(&self) -> Box<dyn DiscreteMap + '_> {
        Box::new(self)
    }

    fn output_dim(&self) -> usize {
        self.readout.as_ref().map_or(0, Readout::output_dim)
    }

    fn output_into(&self, state: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) {
        if let Some(r) = &self.readout {
            r.apply_into(state.slice(s![self.top_hidden_range()]), out);
        }
    }

    fn hidden_range(&self) -> Range<usize> {
        self.top_hidden_range()
    }
}
