//! Parameters of every trainable cell in one flat buffer, in PyTorch's state-dict order.

use std::ops::Range;

use emt_core::cells::{CellKind, CtGruWeights, CtRnnWeights, GruWeights, Layer, LstmWeights, Model, Readout, RnnStack};
use emt_core::{ElmanWeights, Error, Real, Result, check};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use rand::{Rng, RngCore};

/// A cell the engine trains, with its constants (docs/DYNAMICS.md §1).
///
/// | cell | gates `G` | step |
/// |---|---|---|
/// | `Elman` | 1 | `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`, readout on `h` |
/// | `Gru` | 3 (r, z, n) | PyTorch's GRU (reset after the matmul), readout on `h` |
/// | `CtRnn { alpha }` | 1 | `h' = (1-alpha) h + alpha (W_hh tanh h + b + W_ih x [+ sigma xi])`, readout on `tanh h` |
/// | `CtGru { dt }` | 3 (r, z, h) | Euler step `h' = h + dt (1-z)(c - h)` of the continuous-time GRU, readout on `h` |
///
/// ```
/// use emt_rnn::CellSpec;
/// assert_eq!(CellSpec::Gru.gates(), 3);
/// assert!(CellSpec::CtRnn { alpha: 0.1 }.check().is_ok());
/// assert!(CellSpec::CtRnn { alpha: 1.5 }.check().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum CellSpec {
    /// `torch.nn.RNN` with tanh.
    #[default]
    Elman,
    /// `torch.nn.GRU`.
    Gru,
    /// Euler CT-RNN with `alpha = dt / tau` in `(0, 1]`.
    CtRnn {
        /// `dt / tau`.
        alpha: f64,
    },
    /// Continuous-time GRU, Euler step `dt > 0`.
    CtGru {
        /// Euler step in units of the cell's time constant.
        dt: f64,
    },
    /// `torch.nn.LSTM` (one layer, no `proj_size`): gates i, f, g, o; the readout reads `h`.
    Lstm,
    /// `torch.nn.RNN(nonlinearity="relu")`: `h' = max(0, W_ih x + b_ih + W_hh h + b_hh)`, the
    /// derivative 0 at the kink (PyTorch's backward).
    ElmanRelu,
}

impl CellSpec {
    /// Row blocks of `W_ih` and `W_hh` (`G` in `(G N, .)`).
    pub fn gates(self) -> usize {
        match self {
            CellSpec::Elman | CellSpec::ElmanRelu | CellSpec::CtRnn { .. } => 1,
            CellSpec::Gru | CellSpec::CtGru { .. } => 3,
            CellSpec::Lstm => 4,
        }
    }

    /// The file-format cell.
    pub fn kind(self) -> CellKind {
        match self {
            CellSpec::Elman | CellSpec::ElmanRelu => CellKind::Elman,
            CellSpec::Gru => CellKind::Gru,
            CellSpec::CtRnn { .. } => CellKind::CtRnn,
            CellSpec::CtGru { .. } => CellKind::CtGru,
            CellSpec::Lstm => CellKind::Lstm,
        }
    }

    /// Its name in model files and on the command line.
    pub fn name(self) -> &'static str {
        self.kind().name()
    }

    /// Whether the cell has PyTorch's separate input bias `bias_ih_l0` (elman, gru, lstm). The
    /// CT cells carry one bias, `bias_hh_l0`, as their model files do.
    pub fn has_bias_ih(self) -> bool {
        matches!(self, CellSpec::Elman | CellSpec::ElmanRelu | CellSpec::Gru | CellSpec::Lstm)
    }

    /// Whether the readout (and the rate penalty) sees `tanh(h)` instead of `h`.
    pub fn reads_tanh(self) -> bool {
        matches!(self, CellSpec::CtRnn { .. })
    }

    /// Errors if a constant is out of range: `alpha` in `(0, 1]`, `dt` finite and `> 0`.
    pub fn check(self) -> Result<Self> {
        match self {
            CellSpec::CtRnn { alpha } if !(alpha > 0.0 && alpha <= 1.0) => {
                Err(Error::param("alpha", alpha, "must be in (0, 1]"))
            }
            CellSpec::CtGru { dt } if !(dt.is_finite() && dt > 0.0) => {
                Err(Error::param("dt", dt, "must be finite and > 0"))
            }
            _ => Ok(self),
        }
    }
}

/// How [`Params`] are initialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Init {
    /// PyTorch's default: every tensor `U(-1/sqrt(N), 1/sqrt(N))`.
    #[default]
    PyTorch,
    /// Glorot-normal weights and zero biases, as JAX's `glorot_normal` (the SET-task paper's
    /// code): a normal truncated at 2 standard deviations, rescaled so each matrix's variance is
    /// `2 / (fan_in + fan_out)` (`W_hh` `(N, N)`: `1/N`, spectral radius about 1).
    GlorotNormal,
}

/// Sizes of a network and where each tensor lives in the flat buffer.
///
/// Order (PyTorch's): `weight_ih_l0 (G N, d_in)`, `weight_hh_l0 (G N, N)`, then if biased
/// `bias_ih_l0 (G N)` (elman, gru only) and `bias_hh_l0 (G N)`, then the readout
/// `weight (d_out, N)` and, if biased, `bias (d_out)`. PyTorch keeps two hidden biases; we do
/// too, so Adam and clipping match it exactly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    /// The cell and its constants.
    pub cell: CellSpec,
    /// Hidden size `N`.
    pub hidden: usize,
    /// Input size `d_in`.
    pub input: usize,
    /// Output size `d_out`.
    pub output: usize,
    /// Whether the biases exist.
    pub bias: bool,
}

impl Layout {
    /// An Elman layout; checks that every size is positive.
    pub fn new(hidden: usize, input: usize, output: usize, bias: bool) -> Result<Self> {
        Layout::for_cell(CellSpec::Elman, hidden, input, output, bias)
    }

    /// A layout for any cell; checks the sizes and the cell's constants.
    pub fn for_cell(cell: CellSpec, hidden: usize, input: usize, output: usize, bias: bool) -> Result<Self> {
        check::positive("hidden", hidden)?;
        check::positive("input dim", input)?;
        check::positive("output dim", output)?;
        Ok(Layout { cell: cell.check()?, hidden, input, output, bias })
    }

    /// `G N`: rows of `W_ih` and `W_hh`.
    pub fn gate_rows(&self) -> usize {
        self.cell.gates() * self.hidden
    }

    fn sizes(&self) -> [usize; 6] {
        let (n, g, b) = (self.hidden, self.gate_rows(), self.bias as usize);
        let bih = b * self.cell.has_bias_ih() as usize;
        [g * self.input, g * n, bih * g, b * g, self.output * n, b * self.output]
    }

    fn range(&self, k: usize) -> Range<usize> {
        let sizes = self.sizes();
        let start: usize = sizes[..k].iter().sum();
        start..start + sizes[k]
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.sizes().iter().sum()
    }

    /// Always false (every size is positive).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// PyTorch names of the tensors present, with their ranges and shapes.
    pub fn tensors(&self) -> Vec<(&'static str, Range<usize>, Vec<usize>)> {
        let (n, g, i, o) = (self.hidden, self.gate_rows(), self.input, self.output);
        let all = [
            ("weight_ih_l0", vec![g, i]),
            ("weight_hh_l0", vec![g, n]),
            ("bias_ih_l0", vec![g]),
            ("bias_hh_l0", vec![g]),
            ("weight", vec![o, n]),
            ("bias", vec![o]),
        ];
        all.into_iter()
            .enumerate()
            .filter(|(k, _)| self.sizes()[*k] > 0)
            .map(|(k, (name, shape))| (name, self.range(k), shape))
            .collect()
    }
}

/// Parameters of any trainable cell (or their gradients) as one flat buffer; see [`Layout`].
///
/// ```
/// use emt_rnn::{CellSpec, Params};
/// let p = Params::<f32>::init(16, 3, 2, false, &mut emt_core::rng::seeded(0))?;
/// assert_eq!(p.w_hh().dim(), (16, 16));
/// assert!(p.as_slice().iter().all(|x| x.abs() <= 0.25)); // U(-1/sqrt(N), 1/sqrt(N))
/// let gru = Params::<f32>::init_cell(CellSpec::Gru, 16, 3, 2, true, &mut emt_core::rng::seeded(0))?;
/// assert_eq!(gru.w_hh().dim(), (48, 16));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Params<F: Real> {
    layout: Layout,
    data: Vec<F>,
}

/// A standard normal truncated to `[-2, 2]` (by rejection; its std is 0.8796).
fn truncated_normal(rng: &mut dyn RngCore) -> f64 {
    loop {
        let x: f64 = rng.sample(rand_distr::StandardNormal);
        if x.abs() <= 2.0 {
            return x;
        }
    }
}

/// The Elman name of [`Params`] (stage 1), kept for existing code.
pub type ElmanParams<F> = Params<F>;

// The `expect`s below cannot fire: `data.len() == layout.len()` holds from construction on
// (only `&mut [F]` is handed out, which cannot change the length), and each range is cut
// from that layout.
macro_rules! view2 {
    ($get:ident, $get_mut:ident, $k:expr, $rows:expr, $cols:expr, $doc:literal) => {
        #[doc = $doc]
        pub fn $get(&self) -> ArrayView2<'_, F> {
            let l = self.layout;
            ArrayView2::from_shape(($rows(l), $cols(l)), &self.data[l.range($k)]).expect("layout sizes match")
        }
        #[doc = $doc]
        pub fn $get_mut(&mut self) -> ArrayViewMut2<'_, F> {
            let l = self.layout;
            ArrayViewMut2::from_shape(($rows(l), $cols(l)), &mut self.data[l.range($k)]).expect("layout sizes match")
        }
    };
}

macro_rules! view1 {
    ($get:ident, $get_mut:ident, $k:expr, $doc:literal) => {
        #[doc = $doc]
        pub fn $get(&self) -> Option<ArrayView1<'_, F>> {
            let r = self.layout.range($k);
            (!r.is_empty()).then(|| ArrayView1::from(&self.data[r]))
        }
        #[doc = $doc]
        pub fn $get_mut(&mut self) -> Option<ArrayViewMut1<'_, F>> {
            let r = self.layout.range($k);
            (!r.is_empty()).then(|| ArrayViewMut1::from(&mut self.data[r]))
        }
    };
}

impl<F: Real> Params<F> {
    /// All zeros (e.g. a gradient buffer).
    pub fn zeros(layout: Layout) -> Self {
        Params { layout, data: vec![F::zero(); layout.len()] }
    }

    /// PyTorch's default initialisation: every tensor `U(-1/sqrt(N), 1/sqrt(N))` (nn.RNN's
    /// rule, and nn.Linear's for fan-in `N`), drawn in layout order.
    pub fn init(hidden: usize, input: usize, output: usize, bias: bool, rng: &mut dyn RngCore) -> Result<Self> {
        Params::init_cell(CellSpec::Elman, hidden, input, output, bias, rng)
    }

    /// [`init`](Self::init) for any cell: every tensor `U(-1/sqrt(N), 1/sqrt(N))`, which is
    /// also `torch.nn.GRU`'s rule. (For the CT cells this is our choice, documented, not a
    /// paper's.)
    pub fn init_cell(
        cell: CellSpec,
        hidden: usize,
        input: usize,
        output: usize,
        bias: bool,
        rng: &mut dyn RngCore,
    ) -> Result<Self> {
        let layout = Layout::for_cell(cell, hidden, input, output, bias)?;
        let k = 1.0 / (hidden as f64).sqrt();
        let data = (0..layout.len()).map(|_| F::of(rng.random_range(-k..k))).collect();
        Ok(Params { layout, data })
    }

    /// Initialised by `init` ([`Init`]); tensors drawn in layout order.
    pub fn init_with(
        init: Init,
        cell: CellSpec,
        hidden: usize,
        input: usize,
        output: usize,
        bias: bool,
        rng: &mut dyn RngCore,
    ) -> Result<Self> {
        match init {
            Init::PyTorch => Params::init_cell(cell, hidden, input, output, bias, rng),
            Init::GlorotNormal => {
                let layout = Layout::for_cell(cell, hidden, input, output, bias)?;
                let mut data = vec![F::zero(); layout.len()];
                for (name, range, shape) in layout.tensors() {
                    if shape.len() != 2 {
                        continue; // biases stay zero
                    }
                    // Each gate block of W_ih / W_hh is its own (N, fan_in) matrix, as a JAX
                    // layer per gate would be.
                    let (rows, fan_in) = (shape[0], shape[1]);
                    let fan_out = if name.starts_with("weight_") { hidden } else { rows };
                    let std = (2.0 / (fan_in + fan_out) as f64).sqrt() / 0.879_625_661_034_239_8;
                    for v in &mut data[range] {
                        *v = F::of(std * truncated_normal(rng));
                    }
                }
                Ok(Params { layout, data })
            }
        }
    }

    /// From the flat buffer of `layout` (e.g. values written by another tool in this order).
    pub fn from_vec(layout: Layout, data: Vec<F>) -> Result<Self> {
        if data.len() != layout.len() {
            return Err(Error::shape(
                "params",
                format!("{} values for {:?}", layout.len(), layout),
                data.len().to_string(),
            ));
        }
        Ok(Params { layout, data })
    }

    /// From checked weights: `b_h` goes to `bias_ih_l0`, `bias_hh_l0 = 0`. The engine trains
    /// tanh and relu networks, so an identity-activation network is an error.
    pub fn from_weights(w: &ElmanWeights<F>) -> Result<Self> {
        let cell = match w.activation() {
            emt_core::Activation::Tanh => CellSpec::Elman,
            emt_core::Activation::Relu => CellSpec::ElmanRelu,
            other => {
                return Err(Error::param("activation", other.name(), "emt-rnn trains tanh and relu networks"));
            }
        };
        let bias = w.b_h().is_some() || w.b_r().is_some();
        let layout = Layout::for_cell(cell, w.hidden_dim(), w.input_dim(), w.output_dim(), bias)?;
        let mut p = Params::zeros(layout);
        p.w_ih_mut().assign(&w.w_ih());
        p.w_hh_mut().assign(&w.w_hh());
        p.w_r_mut().assign(&w.w_r());
        if let (Some(mut dst), Some(src)) = (p.b_ih_mut(), w.b_h()) {
            dst.assign(&src);
        }
        if let (Some(mut dst), Some(src)) = (p.b_r_mut(), w.b_r()) {
            dst.assign(&src);
        }
        Ok(p)
    }

    /// From PyTorch tensors (state-dict order); biases all present or all absent.
    pub fn from_pytorch(
        w_ih: Array2<F>,
        w_hh: Array2<F>,
        biases: Option<(Array1<F>, Array1<F>, Array1<F>)>,
        w_r: Array2<F>,
    ) -> Result<Self> {
        let mut w = ElmanWeights::new(w_hh, w_ih, w_r)?;
        if let Some((b_ih, _, b_r)) = &biases {
            w = w.with_biases(Some(b_ih.clone()), Some(b_r.clone()))?;
        }
        let mut p = Params::from_weights(&w)?;
        if let Some((_, b_hh, _)) = biases {
            check::shape("bias_hh_l0", &b_hh, &[p.layout.hidden])?;
            check::finite("bias_hh_l0", &b_hh)?;
            if let Some(mut dst) = p.b_hh_mut() {
                dst.assign(&b_hh);
            }
        }
        Ok(p)
    }

    /// Checked weights for analysis or saving (`b_h = bias_ih + bias_hh`; relu for
    /// [`CellSpec::ElmanRelu`]). Errors if any value is non-finite.
    pub fn to_weights(&self) -> Result<ElmanWeights<F>> {
        let activation = match self.layout.cell {
            CellSpec::Elman => emt_core::Activation::Tanh,
            CellSpec::ElmanRelu => emt_core::Activation::Relu,
            other => {
                return Err(Error::param("cell", other.name(), "to_weights is Elman-only; use to_model"));
            }
        };
        let w = ElmanWeights::new(self.w_hh().to_owned(), self.w_ih().to_owned(), self.w_r().to_owned())?
            .with_activation(activation);
        match (self.b_ih(), self.b_hh(), self.b_r()) {
            (Some(a), Some(b), b_r) => w.with_biases(Some(&a + &b), b_r.map(|v| v.to_owned())),
            _ => Ok(w),
        }
    }

    /// The network as a model of the stage-2 file format, in `f64` (elman `b_h = bias_ih +
    /// bias_hh`; the other cells keep PyTorch's tensors as the file table lists them).
    pub fn to_model(&self) -> Result<Model> {
        let l = self.layout;
        let f = |v: ArrayView2<'_, F>| v.mapv(|x| x.f64());
        let g = |v: Option<ArrayView1<'_, F>>| v.map(|v| v.mapv(|x| x.f64()));
        let readout = || Readout::new(f(self.w_r()), g(self.b_r()), l.hidden);
        Ok(match l.cell {
            CellSpec::Elman | CellSpec::ElmanRelu => Model::Elman(self.cast::<f64>().to_weights()?),
            CellSpec::Gru => Model::Gru(GruWeights::new(
                f(self.w_ih()),
                f(self.w_hh()),
                g(self.b_ih()),
                g(self.b_hh()),
                Some(readout()?),
            )?),
            CellSpec::CtRnn { alpha } => {
                Model::CtRnn(CtRnnWeights::new(f(self.w_ih()), f(self.w_hh()), g(self.b_hh()), alpha, readout()?)?)
            }
            CellSpec::CtGru { dt } => Model::CtGru(CtGruWeights::new(
                f(self.w_hh()),
                Some(f(self.w_ih())),
                g(self.b_hh()),
                dt,
                Some(readout()?),
            )?),
            CellSpec::Lstm => {
                let layer = LstmWeights::new(f(self.w_ih()), f(self.w_hh()), g(self.b_ih()), g(self.b_hh()), None)?;
                Model::Stack(RnnStack::new(vec![Layer::Lstm(layer)], Some(readout()?))?)
            }
        })
    }

    /// Trainable parameters from a model (elman, gru, ctrnn, ctgru with an input matrix and a
    /// readout; a model with some biases gets the missing ones as zeros). The gated cell is
    /// not trainable here: an error says so.
    pub fn from_model(model: &Model) -> Result<Self> {
        let need_readout = |r: Option<&Readout>| {
            r.cloned().ok_or_else(|| Error::param("weight", "missing", "training needs a readout (`weight`)"))
        };
        let (cell, w_ih, w_hh, b_ih, b_hh, readout) = match model {
            Model::Elman(w) => return Params::from_weights(&w.cast::<F>()),
            Model::Gru(w) => (
                CellSpec::Gru,
                w.w_ih().to_owned(),
                w.w_hh().to_owned(),
                w.b_ih().map(|b| b.to_owned()),
                w.b_hh().map(|b| b.to_owned()),
                need_readout(w.readout())?,
            ),
            Model::CtRnn(w) => (
                CellSpec::CtRnn { alpha: w.alpha() },
                w.w_ih().to_owned(),
                w.w_hh().to_owned(),
                None,
                w.b().map(|b| b.to_owned()),
                w.readout().clone(),
            ),
            Model::CtGru(w) => (
                CellSpec::CtGru { dt: w.dt() },
                w.w_ih()
                    .ok_or_else(|| Error::param("weight_ih_l0", "missing", "training needs an input matrix"))?
                    .to_owned(),
                w.u().to_owned(),
                None,
                w.b().map(|b| b.to_owned()),
                need_readout(w.readout())?,
            ),
            Model::Stack(s) => match s.layers() {
                [Layer::Lstm(l)] if l.w_hr().is_none() => (
                    CellSpec::Lstm,
                    l.w_ih().to_owned(),
                    l.w_hh().to_owned(),
                    l.b_ih().map(|b| b.to_owned()),
                    l.b_hh().map(|b| b.to_owned()),
                    need_readout(s.readout())?,
                ),
                _ => {
                    return Err(Error::param(
                        "cell",
                        format!("{} x {} ({})", s.num_layers(), s.kind(), s.activation().name()),
                        "the engine trains one layer: tanh elman (with a readout), gru, lstm without proj_size, ctrnn, ctgru",
                    ));
                }
            },
            Model::Gated(_) | Model::Oscillator(_) => {
                return Err(Error::param("cell", model.kind().name(), "the engine trains elman, gru, ctrnn and ctgru"));
            }
        };
        let bias = b_ih.is_some() || b_hh.is_some() || readout.b().is_some();
        let n = w_hh.ncols();
        let layout = Layout::for_cell(cell, n, w_ih.ncols(), readout.output_dim(), bias)?;
        let mut p = Params::zeros(layout);
        let put2 = |dst: ArrayViewMut2<'_, F>, src: ArrayView2<'_, f64>| {
            let mut dst = dst;
            dst.zip_mut_with(&src, |a, &b| *a = F::of(b));
        };
        put2(p.w_ih_mut(), w_ih.view());
        put2(p.w_hh_mut(), w_hh.view());
        put2(p.w_r_mut(), readout.w());
        if let (Some(mut d), Some(s)) = (p.b_ih_mut(), b_ih) {
            d.zip_mut_with(&s, |a, &b| *a = F::of(b));
        }
        if let (Some(mut d), Some(s)) = (p.b_hh_mut(), b_hh) {
            d.zip_mut_with(&s, |a, &b| *a = F::of(b));
        }
        if let (Some(mut d), Some(s)) = (p.b_r_mut(), readout.b()) {
            d.zip_mut_with(&s, |a, &b| *a = F::of(b));
        }
        Ok(p)
    }

    /// Sizes.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The flat buffer.
    pub fn as_slice(&self) -> &[F] {
        &self.data
    }

    /// The flat buffer, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [F] {
        &mut self.data
    }

    /// Sets every value to zero.
    pub fn fill_zero(&mut self) {
        self.data.iter_mut().for_each(|x| *x = F::zero());
    }

    /// Converts to another float type.
    pub fn cast<G: Real>(&self) -> Params<G> {
        Params { layout: self.layout, data: self.data.iter().map(|x| G::of(x.f64())).collect() }
    }

    view2!(w_ih, w_ih_mut, 0, |l: Layout| l.gate_rows(), |l: Layout| l.input, "`weight_ih_l0` `(G N, d_in)`.");
    view2!(w_hh, w_hh_mut, 1, |l: Layout| l.gate_rows(), |l: Layout| l.hidden, "`weight_hh_l0` `(G N, N)`.");
    view2!(w_r, w_r_mut, 4, |l: Layout| l.output, |l: Layout| l.hidden, "Readout `weight` `(d_out, N)`.");
    view1!(b_ih, b_ih_mut, 2, "`bias_ih_l0` `(G N)`, if biased (elman, gru).");
    view1!(b_hh, b_hh_mut, 3, "`bias_hh_l0` `(G N)`, if biased.");
    view1!(b_r, b_r_mut, 5, "Readout `bias` `(d_out)`, if biased.");
}
