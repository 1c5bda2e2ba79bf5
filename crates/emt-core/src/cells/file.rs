//! One model-file format for every cell: safetensors (F32 or F64) with a `cell` metadata key,
//! PyTorch's tensor names for elman, gru and lstm (any number of layers), and an optional `h0`.
//!
//! | cell | tensors (`?` optional; `k` = layer 0, 1, ...) | metadata |
//! |---|---|---|
//! | elman | `weight_ih_lk` (N,d_k), `weight_hh_lk` (N,N), `bias_ih_lk`? `bias_hh_lk`? (N), `weight`? (d_out,N), `bias`? | `nonlinearity`? (tanh, relu) or `activation`? (tanh, identity, relu); `num_layers`? |
//! | gru | `weight_ih_lk` (3N,d_k), `weight_hh_lk` (3N,N), `bias_ih_lk`? `bias_hh_lk`? (3N), `weight`? (d_out,N), `bias`? | `num_layers`? |
//! | lstm | `weight_ih_lk` (4N,d_k), `weight_hh_lk` (4N,P), `bias_ih_lk`? `bias_hh_lk`? (4N), `weight_hr_lk`? (P,N), `weight`? (d_out,P), `bias`? | `num_layers`? |
//! | ctrnn | `weight_ih_l0` (N,d_in), `weight_hh_l0` (N,N), `bias_hh_l0`? (N), `weight` (d_out,N), `bias`? | `alpha` |
//! | ctgru | `weight_hh_l0` (3N,N), `weight_ih_l0`? (3N,d_in), `bias_hh_l0`? (3N), `weight`? (d_out,N), `bias`? | `dt` |
//! | gated | `weight_hh`, `weight_zh`, `weight_rh` (N,N), `bias_h`? `bias_z`? `bias_r`? (N), `weight`? (d_out,N), `bias`? | `alpha_z`, `alpha_r`, `beta_z`, `beta_r`, `tau_z`, `tau_r`, `dt`? (0.1) |
//! | oscillator | `weight_ih` (1,d_in) = c, `weight`? (d_out,2), `bias`? | `omega`, `kappa` |
//!
//! - **State.** Layers stack as PyTorch's `num_layers` (layer k reads layer k-1's output at the
//!   same step, `d_k` = the output size below); the state is the layers' states, layer 0
//!   first, an LSTM layer's being `[h; c]` (`P + N`, `P` = `proj_size` or `N`). Every cell may
//!   carry `h0`: the state `(n)` or `(1, n)`, or PyTorch's `(L, 1, H_out)` with `c0`
//!   `(L, 1, N)` for an LSTM.
//! - **Readout.** A `Linear` on the top layer's output (on tanh h for ctrnn and gated).
//!   Optional except for ctrnn.
//! - **Cell.** A file without `cell` metadata is read by its shapes: `weight_hh_l0` `(N, N)` is
//!   elman, `(3N, N)` gru, `(4N, N)` or a `weight_hr_l0` lstm; `weight_zh` + `weight_rh` gated.
//!   Names are case-insensitive. A file whose shapes fit another cell than its metadata names
//!   is refused, naming the cell it looks like.
//! - **Whole-module state dicts.** The recurrent tensors may sit under one module prefix
//!   (`rnn.weight_ih_l0`) and the readout under another (`fc.weight`): the readout is the one
//!   `Linear` whose input size is the top layer's output. [`LoadOptions`] names them where that
//!   is ambiguous, and the error lists the candidates.
//! - **Strictness.** Every tensor must be used: an extra tensor, a layer with a tensor missing
//!   (`_l1` deleted), a bidirectional module (`_reverse`) or a metadata constant the cell does
//!   not have is an error naming it, never ignored.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ndarray::{Array1, Array2, ArrayD, ArrayView2, ArrayView3, ArrayViewD};

use super::{
    Cell, CtGruWeights, CtRnnWeights, GatedWeights, GruWeights, Layer, OscillatorWeights, Readout, RnnStack, simulate,
};
use crate::io::{Tensors, WeightsMetadata, tensors_to_safetensors};
use crate::{Activation, DiscreteMap, ElmanWeights, Error, Flow, Result, Trajectory, check};

/// The cells a model file can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// `torch.nn.RNN` (tanh or relu) + readout.
    Elman,
    /// `torch.nn.GRU` + optional readout.
    Gru,
    /// Euler CT-RNN.
    CtRnn,
    /// Continuous-time GRU (a flow).
    CtGru,
    /// Gated RNN with state `(h, z, r)` (a flow).
    Gated,
    /// The planar phase oscillator of docs/DYNAMICS.md §7 (a map).
    Oscillator,
    /// `torch.nn.LSTM` + optional readout, state `[h; c]` per layer.
    Lstm,
}

impl CellKind {
    /// Every cell, in the order of the file-format table.
    pub const ALL: [CellKind; 7] = [
        CellKind::Elman,
        CellKind::Gru,
        CellKind::CtRnn,
        CellKind::CtGru,
        CellKind::Gated,
        CellKind::Oscillator,
        CellKind::Lstm,
    ];

    /// The name written in the `cell` metadata key.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Elman => "elman",
            CellKind::Gru => "gru",
            CellKind::CtRnn => "ctrnn",
            CellKind::CtGru => "ctgru",
            CellKind::Gated => "gated",
            CellKind::Oscillator => "oscillator",
            CellKind::Lstm => "lstm",
        }
    }

    /// Whether the cell is a flow (analysed in continuous time) rather than a map.
    pub fn is_flow(self) -> bool {
        matches!(self, CellKind::CtGru | CellKind::Gated)
    }

    /// Whether files of this cell may hold several PyTorch layers (`_l1`, `_l2`, ...).
    pub fn is_stackable(self) -> bool {
        matches!(self, CellKind::Elman | CellKind::Gru | CellKind::Lstm)
    }

    /// Row blocks of `weight_hh_l0` per hidden unit: 1, 3 or 4 for elman, gru, lstm.
    pub(super) fn gate_rows(self) -> usize {
        match self {
            CellKind::Gru | CellKind::CtGru => 3,
            CellKind::Lstm => 4,
            _ => 1,
        }
    }
}

impl fmt::Display for CellKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CellKind {
    type Err = Error;
    /// A cell name in any case (`GRU`, `Lstm`, `elman`); `rnn` is PyTorch's name for elman.
    fn from_str(s: &str) -> Result<Self> {
        let lower = s.trim().to_ascii_lowercase();
        let lower = if lower == "rnn" { "elman".to_string() } else { lower };
        CellKind::ALL.into_iter().find(|c| c.name() == lower).ok_or_else(|| Error::Parse {
            input: s.to_string(),
            reason: "unknown cell (expected elman, gru, lstm, ctrnn, ctgru, gated or oscillator)".into(),
        })
    }
}

/// The float type of a file's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dtype {
    /// 32-bit (what training produces).
    F32,
    /// 64-bit (exact analysis and parity).
    #[default]
    F64,
}

impl Dtype {
    /// `"f32"` or `"f64"`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }
}

/// A model of any cell, in `f64`.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// Single-layer Elman with a readout (what the engine trains and EMT analyses).
    Elman(ElmanWeights<f64>),
    /// Single-layer GRU.
    Gru(GruWeights),
    /// Euler CT-RNN.
    CtRnn(CtRnnWeights),
    /// Continuous-time GRU.
    CtGru(CtGruWeights),
    /// Gated RNN.
    Gated(GatedWeights),
    /// Phase oscillator.
    Oscillator(OscillatorWeights),
    /// Any other PyTorch module: LSTM, stacked layers, Elman without a readout.
    Stack(RnnStack),
}

impl Model {
    /// The time one step of the cell's map covers: the Euler `dt` of a flow (ctgru, gated), 1
    /// for a map (elman, gru, lstm, ctrnn, whose `alpha` is part of its map, stacks). Converts a
    /// period in steps to time units.
    ///
    /// ```
    /// use emt_core::cells::{CtGruWeights, Model};
    /// let net = CtGruWeights::new(ndarray::Array2::zeros((6, 2)), None, None, 0.1, None)?;
    /// assert_eq!(Model::CtGru(net).step_time(), 0.1);
    /// # Ok::<(), emt_core::Error>(())
    /// ```
    pub fn step_time(&self) -> f64 {
        match self {
            Model::CtGru(w) => w.dt(),
            Model::Gated(w) => w.params().dt,
            _ => 1.0,
        }
    }

    /// Which cell.
    pub fn kind(&self) -> CellKind {
        match self {
            Model::Elman(_) => CellKind::Elman,
            Model::Gru(_) => CellKind::Gru,
            Model::CtRnn(_) => CellKind::CtRnn,
            Model::CtGru(_) => CellKind::CtGru,
            Model::Gated(_) => CellKind::Gated,
            Model::Oscillator(_) => CellKind::Oscillator,
            Model::Stack(s) => s.kind(),
        }
    }

    /// The cell as something to simulate.
    pub fn cell(&self) -> &dyn Cell {
        match self {
            Model::Elman(w) => w,
            Model::Gru(w) => w,
            Model::CtRnn(w) => w,
            Model::CtGru(w) => w,
            Model::Gated(w) => w,
            Model::Oscillator(w) => w,
            Model::Stack(w) => w,
        }
    }

    /// The discrete map of a map cell (elman, gru, lstm, ctrnn, oscillator); `None` for flows.
    pub fn as_map(&self) -> Option<&dyn DiscreteMap> {
        match self {
            Model::Elman(w) => Some(w),
            Model::Gru(w) => Some(w),
            Model::CtRnn(w) => Some(w),
            Model::Oscillator(w) => Some(w),
            Model::Stack(w) => Some(w),
            Model::CtGru(_) | Model::Gated(_) => None,
        }
    }

    /// The flow of a continuous-time cell (ctgru, gated); `None` for maps.
    pub fn as_flow(&self) -> Option<&dyn Flow> {
        match self {
            Model::CtGru(w) => Some(w),
            Model::Gated(w) => Some(w),
            _ => None,
        }
    }

    /// State size (N, 3N for gated, the layers' states for a stack).
    pub fn state_dim(&self) -> usize {
        self.cell().map().state_dim()
    }

    /// Input size.
    pub fn input_dim(&self) -> usize {
        self.cell().map().input_dim()
    }

    /// Output size (0 without a readout).
    pub fn output_dim(&self) -> usize {
        self.cell().output_dim()
    }

    /// Number of PyTorch layers (1 for every cell but a stack).
    pub fn num_layers(&self) -> usize {
        match self {
            Model::Stack(s) => s.num_layers(),
            _ => 1,
        }
    }

    /// The Elman nonlinearity (tanh for every other cell).
    pub fn activation(&self) -> Activation {
        match self {
            Model::Elman(w) => w.activation(),
            Model::Stack(s) => s.activation(),
            _ => Activation::Tanh,
        }
    }

    /// The state `(n)` from an initial state in any of the shapes a user has: the state itself
    /// `(n)` or `(1, n)`, or PyTorch's `h0` `(L, 1, H_out)` (with `c0` `(L, 1, N)` for an LSTM,
    /// whose layer states are `[h; c]`). Errors name the expected shapes.
    pub fn initial_state(&self, h0: ArrayViewD<'_, f64>, c0: Option<ArrayViewD<'_, f64>>) -> Result<Array1<f64>> {
        let n = self.state_dim();
        check::finite("h0", &h0)?;
        if let Some(c0) = &c0 {
            check::finite("c0", c0)?;
        }
        let shape = h0.shape();
        let flat = |a: &ArrayViewD<'_, f64>| a.iter().copied().collect::<Array1<f64>>();
        match (shape, &c0) {
            ([len], None) | ([1, len], None) if *len == n => return Ok(flat(&h0)),
            _ => {}
        }
        let layers = self.layer_shapes();
        let l = layers.len();
        let expected = if self.kind() == CellKind::Lstm {
            let (p, c) = (layers[0].0, layers[0].1);
            format!("(n) = ({n}), (1, {n}), or h0 ({l}, 1, {p}) with c0 ({l}, 1, {c})")
        } else {
            format!("(n) = ({n}), (1, {n}) or ({l}, 1, {})", layers[0].0)
        };
        let bad = |what: &str, got: &[usize]| Error::shape(what, expected.clone(), check::fmt_shape(got));
        let uniform = layers.iter().all(|s| *s == layers[0]);
        if shape.len() != 3 || shape[0] != l || shape[1] != 1 || !uniform || shape[2] != layers[0].0 {
            return Err(bad("h0", shape));
        }
        let (p, c) = layers[0];
        match (&c0, c) {
            (None, 0) => Ok(flat(&h0)),
            (Some(c0), c) if c > 0 && c0.shape() == [l, 1, c] => {
                let mut out = Vec::with_capacity(n);
                for k in 0..l {
                    out.extend((0..p).map(|j| h0[[k, 0, j]]));
                    out.extend((0..c).map(|j| c0[[k, 0, j]]));
                }
                Ok(Array1::from(out))
            }
            (Some(c0), _) => Err(bad("c0", c0.shape())),
            (None, _) => Err(Error::shape("c0", expected.clone(), "none (an LSTM needs c0 beside h0 (L, 1, P))")),
        }
    }

    /// Per layer: the output size and the size of the rest of its state (LSTM: `(P, N)`,
    /// otherwise `(state, 0)`).
    fn layer_shapes(&self) -> Vec<(usize, usize)> {
        match self {
            Model::Stack(s) => {
                s.layers().iter().map(|l| (l.output_dim(), l.map().state_dim() - l.output_dim())).collect()
            }
            _ => vec![(self.state_dim(), 0)],
        }
    }

    /// The tensors under their file names.
    fn tensors(&self) -> Vec<(String, ArrayD<f64>)> {
        let mut out = Tensor::default();
        match self {
            Model::Elman(w) => {
                out.put("weight_ih_l0", w.w_ih());
                out.put("weight_hh_l0", w.w_hh());
                out.put("weight", w.w_r());
                if let Some(b) = w.b_h() {
                    out.opt("bias_ih_l0", Some(b));
                    out.opt("bias_hh_l0", Some(Array1::<f64>::zeros(b.len()).view()));
                }
                out.opt("bias", w.b_r());
            }
            Model::Gru(w) => {
                gru_layer(&mut out, w, 0);
                out.readout(w.readout());
            }
            Model::CtRnn(w) => {
                out.put("weight_ih_l0", w.w_ih());
                out.put("weight_hh_l0", w.w_hh());
                out.opt("bias_hh_l0", w.b());
                out.readout(Some(w.readout()));
            }
            Model::CtGru(w) => {
                out.put("weight_hh_l0", w.u());
                if let Some(wi) = w.w_ih() {
                    out.put("weight_ih_l0", wi);
                }
                out.opt("bias_hh_l0", w.b());
                out.readout(w.readout());
            }
            Model::Gated(w) => {
                let [jh, jz, jr] = w.couplings();
                out.put("weight_hh", jh);
                out.put("weight_zh", jz);
                out.put("weight_rh", jr);
                let [bh, bz, br] = w.biases();
                out.opt("bias_h", bh);
                out.opt("bias_z", bz);
                out.opt("bias_r", br);
                out.readout(w.readout());
            }
            Model::Oscillator(w) => {
                out.put("weight_ih", w.c());
                out.readout(w.readout());
            }
            Model::Stack(s) => {
                for (k, layer) in s.layers().iter().enumerate() {
                    match layer {
                        Layer::Elman(l) => {
                            out.put(&format!("weight_ih_l{k}"), l.w_ih());
                            out.put(&format!("weight_hh_l{k}"), l.w_hh());
                            out.opt(&format!("bias_ih_l{k}"), l.b_ih());
                            out.opt(&format!("bias_hh_l{k}"), l.b_hh());
                        }
                        Layer::Gru(l) => gru_layer(&mut out, l, k),
                        Layer::Lstm(l) => {
                            out.put(&format!("weight_ih_l{k}"), l.w_ih());
                            out.put(&format!("weight_hh_l{k}"), l.w_hh());
                            out.opt(&format!("bias_ih_l{k}"), l.b_ih());
                            out.opt(&format!("bias_hh_l{k}"), l.b_hh());
                            if let Some(w) = l.w_hr() {
                                out.put(&format!("weight_hr_l{k}"), w);
                            }
                        }
                    }
                }
                out.readout(s.readout());
            }
        }
        out.0
    }

    /// The cell's constants as metadata (`alpha`, `dt`, gate constants, `num_layers`).
    fn constants(&self) -> Vec<(&'static str, f64)> {
        match self {
            Model::Elman(_) | Model::Gru(_) => vec![],
            Model::Stack(s) if s.num_layers() > 1 => vec![("num_layers", s.num_layers() as f64)],
            Model::Stack(_) => vec![],
            Model::CtRnn(w) => vec![("alpha", w.alpha())],
            Model::CtGru(w) => vec![("dt", w.dt())],
            Model::Oscillator(w) => vec![("omega", w.omega()), ("kappa", w.kappa())],
            Model::Gated(w) => {
                let p = w.params();
                vec![
                    ("alpha_z", p.alpha_z),
                    ("alpha_r", p.alpha_r),
                    ("beta_z", p.beta_z),
                    ("beta_r", p.beta_r),
                    ("tau_z", p.tau_z),
                    ("tau_r", p.tau_r),
                    ("dt", p.dt),
                ]
            }
        }
    }
}

/// Named tensors being written.
#[derive(Default)]
struct Tensor(Vec<(String, ArrayD<f64>)>);

impl Tensor {
    fn put<D: ndarray::Dimension>(&mut self, name: &str, a: ndarray::ArrayView<'_, f64, D>) {
        self.0.push((name.to_string(), a.to_owned().into_dyn()));
    }

    fn opt(&mut self, name: &str, a: Option<ndarray::ArrayView1<'_, f64>>) {
        if let Some(a) = a {
            self.put(name, a);
        }
    }

    fn readout(&mut self, r: Option<&Readout>) {
        if let Some(r) = r {
            self.put("weight", r.w());
            self.opt("bias", r.b());
        }
    }
}

fn gru_layer(out: &mut Tensor, w: &GruWeights, k: usize) {
    out.put(&format!("weight_ih_l{k}"), w.w_ih());
    out.put(&format!("weight_hh_l{k}"), w.w_hh());
    out.opt(&format!("bias_ih_l{k}"), w.b_ih());
    out.opt(&format!("bias_hh_l{k}"), w.b_hh());
}

/// How to read a file where the file alone leaves a choice open. Each choice, when the file's
/// metadata also makes it, must agree with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadOptions {
    /// The cell of a file without `cell` metadata (else read from the shapes).
    pub cell: Option<CellKind>,
    /// The nonlinearity of an Elman file without `nonlinearity` metadata (a state dict does
    /// not carry it; else tanh).
    pub nonlinearity: Option<Activation>,
    /// The module prefix of the recurrent tensors (`rnn` for `rnn.weight_ih_l0`; `""` for
    /// none), where several modules hold recurrent tensors.
    pub prefix: Option<String>,
    /// The module prefix of the readout `Linear` (`fc` for `fc.weight`; `""` for `weight`),
    /// where several could be it.
    pub readout: Option<String>,
}

pub(super) fn module(prefix: &str) -> String {
    let p = prefix.trim_end_matches('.');
    if p.is_empty() { String::new() } else { format!("{p}.") }
}

/// A model file: the model, its optional initial state `h0` `(state)`, what the file says
/// about how it was made, and the dtype it was stored in.
///
/// ```
/// use emt_core::cells::{CtRnnWeights, Dtype, Model, ModelFile, Readout};
/// let r = Readout::new(ndarray::Array2::ones((1, 3)), None, 3)?;
/// let net = CtRnnWeights::new(ndarray::Array2::ones((3, 2)), ndarray::Array2::eye(3), None, 0.1, r)?;
/// let file = ModelFile::new(Model::CtRnn(net)).with_h0(ndarray::Array1::ones(3))?;
/// let back = ModelFile::from_bytes(&file.to_bytes()?, "memory")?;
/// assert_eq!(back, file);
/// assert_eq!((back.model.kind().name(), back.dtype), ("ctrnn", Dtype::F64));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// The model.
    pub model: Model,
    /// Initial state `(state_dim)` for simulations and analyses, if the file has one.
    pub h0: Option<Array1<f64>>,
    /// Task, seed, step and any other metadata.
    pub meta: WeightsMetadata,
    /// The dtype the tensors are (to be) stored in.
    pub dtype: Dtype,
}

impl ModelFile {
    /// A model with no `h0`, empty metadata, stored as F64.
    pub fn new(model: Model) -> Self {
        ModelFile { model, h0: None, meta: WeightsMetadata::default(), dtype: Dtype::F64 }
    }

    /// Sets `h0` `(state_dim)`; errors on its length or NaN/inf.
    pub fn with_h0(mut self, h0: Array1<f64>) -> Result<Self> {
        check::shape("h0", &h0, &[self.model.state_dim()])?;
        check::finite("h0", &h0)?;
        self.h0 = Some(h0);
        Ok(self)
    }

    /// Where a zero-input analysis starts `(state_dim)`: the file's `h0`, else a seeded small
    /// random state (uniform in +-0.05, stream 1 of `seed`), never exactly on an equilibrium
    /// such as the origin (docs/DYNAMICS.md §4). Every emt command that runs a model from "its
    /// start" (cycle, lyapunov, phase, sweep-param) uses this.
    pub fn start_state(&self, seed: u64) -> Array1<f64> {
        use rand::Rng;
        match &self.h0 {
            Some(h0) => h0.clone(),
            None => {
                let mut r = crate::rng::stream(seed, 1);
                Array1::from_shape_simple_fn(self.model.state_dim(), || 0.1 * (r.random::<f64>() - 0.5))
            }
        }
    }

    /// Sets the metadata.
    pub fn with_meta(mut self, meta: WeightsMetadata) -> Self {
        self.meta = meta;
        self
    }

    /// Sets the storage dtype.
    pub fn with_dtype(mut self, dtype: Dtype) -> Self {
        self.dtype = dtype;
        self
    }

    /// Runs the model on `inputs` `(T, B, d_in)` from `h0` `(B, state)`, else from the file's
    /// `h0` for every sequence, else from the cell's default (zeros).
    pub fn simulate(&self, inputs: ArrayView3<'_, f64>, h0: Option<ArrayView2<'_, f64>>) -> Result<Trajectory<f64>> {
        match (h0, &self.h0) {
            (Some(h0), _) => simulate(self.model.cell(), inputs, Some(h0)),
            (None, Some(own)) => {
                let batch = inputs.dim().1;
                let tiled = Array2::from_shape_fn((batch, own.len()), |(_, i)| own[i]);
                simulate(self.model.cell(), inputs, Some(tiled.view()))
            }
            (None, None) => simulate(self.model.cell(), inputs, None),
        }
    }

    /// Serialises to safetensors bytes in `self.dtype`.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut tensors = self.model.tensors();
        if let Some(h0) = &self.h0 {
            tensors.push(("h0".to_string(), h0.clone().into_dyn()));
        }
        let activation = (self.model.kind() == CellKind::Elman).then(|| self.model.activation());
        let mut meta = self.meta.to_map(activation)?;
        meta.insert("cell".into(), self.model.kind().name().into());
        for (k, v) in self.model.constants() {
            meta.insert(k.into(), format!("{v}"));
        }
        match self.dtype {
            Dtype::F64 => {
                let views: Vec<_> = tensors.iter().map(|(n, a)| (n.as_str(), a.view())).collect();
                tensors_to_safetensors(&views, &meta)
            }
            Dtype::F32 => {
                let cast: Vec<(&str, ArrayD<f32>)> =
                    tensors.iter().map(|(n, a)| (n.as_str(), a.mapv(|v| v as f32))).collect();
                // Never write inf for a finite value past the f32 range.
                for (name, a) in &cast {
                    check::finite(name, a).map_err(|e| match e {
                        Error::NonFinite { what, index, value } => Error::param(
                            format!("{what}{index:?}"),
                            value,
                            "the model's value does not fit f32: save it as f64 (with_dtype(Dtype::F64))",
                        ),
                        other => other,
                    })?;
                }
                let views: Vec<_> = cast.iter().map(|(n, a)| (*n, a.view())).collect();
                tensors_to_safetensors(&views, &meta)
            }
        }
    }

    /// Writes the file atomically ([`crate::fs::write_atomic`]: a regular file or a symlink's
    /// target, never half-written); errors name the path.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        crate::fs::write_atomic(path, &self.to_bytes()?)
    }

    /// Reads a model file; errors name the path and the offending tensor.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        ModelFile::load_with(path, &LoadOptions::default())
    }

    /// Reads a model file, with the choices the file leaves open made by `options`.
    pub fn load_with(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Self> {
        let path = path.as_ref();
        ModelFile::from_tensors_with(&Tensors::read(path)?, options)
    }

    /// Parses safetensors bytes (`source` names them in errors).
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self> {
        ModelFile::from_tensors(&Tensors::from_bytes(bytes, source)?)
    }

    /// Builds a model from parsed tensors, dispatching on the `cell` metadata key (else the
    /// shapes); every tensor must be used.
    pub fn from_tensors(t: &Tensors) -> Result<Self> {
        ModelFile::from_tensors_with(t, &LoadOptions::default())
    }

    /// [`from_tensors`](Self::from_tensors) with the choices `options` makes.
    pub fn from_tensors_with(t: &Tensors, options: &LoadOptions) -> Result<Self> {
        super::reader::read(t, options)
    }
}
