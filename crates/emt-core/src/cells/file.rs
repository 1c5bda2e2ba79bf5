//! One model-file format for every cell: safetensors (F32 or F64) with a `cell` metadata key
//! (absent = elman), PyTorch's tensor names for elman and gru, and an optional `h0`.
//!
//! | cell | tensors (`?` optional) | metadata |
//! |---|---|---|
//! | elman | `weight_ih_l0` (N,d_in), `weight_hh_l0` (N,N), `bias_ih_l0`? `bias_hh_l0`? (N), `weight` (d_out,N), `bias`? | `activation`? (tanh, identity) |
//! | gru | `weight_ih_l0` (3N,d_in), `weight_hh_l0` (3N,N), `bias_ih_l0`? `bias_hh_l0`? (3N), `weight`? (d_out,N), `bias`? | |
//! | ctrnn | `weight_ih_l0` (N,d_in), `weight_hh_l0` (N,N), `bias_hh_l0`? (N), `weight` (d_out,N), `bias`? | `alpha` |
//! | ctgru | `weight_hh_l0` (3N,N), `weight_ih_l0`? (3N,d_in), `bias_hh_l0`? (3N), `weight`? (d_out,N), `bias`? | `dt` |
//! | gated | `weight_hh`, `weight_zh`, `weight_rh` (N,N), `bias_h`? `bias_z`? `bias_r`? (N), `weight`? (d_out,N), `bias`? | `alpha_z`, `alpha_r`, `beta_z`, `beta_r`, `tau_z`, `tau_r`, `dt`? (0.1) |
//! | oscillator | `weight_ih` (1,d_in) = c, `weight`? (d_out,2), `bias`? | `omega`, `kappa` |
//!
//! Every cell may carry `h0` (the state size: N, 3N for gated, 2 for the oscillator). A file without `cell`
//! whose `weight_hh_l0` is `(3N, N)` is read as a PyTorch GRU state dict.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use ndarray::{Array1, Array2, ArrayD, ArrayView2, ArrayView3, Ix1, Ix2};

use super::{
    Cell, CtGruWeights, CtRnnWeights, GatedParams, GatedWeights, GruWeights, OscillatorWeights, Readout, simulate,
};
use crate::io::{Tensors, WeightsMetadata, tensors_to_safetensors};
use crate::{Activation, DiscreteMap, ElmanWeights, Error, Flow, Result, Trajectory, check};

/// The cells a model file can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// `torch.nn.RNN` (tanh) + readout.
    Elman,
    /// `torch.nn.GRU` + optional readout.
    Gru,
    /// Euler CT-RNN.
    CtRnn,
    /// Continuous-time GRU (a flow).
    CtGru,
    /// Gated RNN with state `(h, z, r)` (a flow).
    Gated,
    /// The planar phase oscillator of DYNAMICS.md §7 (a map).
    Oscillator,
}

impl CellKind {
    /// Every cell, in the order of the file-format table.
    pub const ALL: [CellKind; 6] =
        [CellKind::Elman, CellKind::Gru, CellKind::CtRnn, CellKind::CtGru, CellKind::Gated, CellKind::Oscillator];

    /// The name written in the `cell` metadata key.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Elman => "elman",
            CellKind::Gru => "gru",
            CellKind::CtRnn => "ctrnn",
            CellKind::CtGru => "ctgru",
            CellKind::Gated => "gated",
            CellKind::Oscillator => "oscillator",
        }
    }

    /// Whether the cell is a flow (analysed in continuous time) rather than a map.
    pub fn is_flow(self) -> bool {
        matches!(self, CellKind::CtGru | CellKind::Gated)
    }
}

impl fmt::Display for CellKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CellKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        CellKind::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| Error::Parse {
            input: s.to_string(),
            reason: "unknown cell (expected elman, gru, ctrnn, ctgru, gated or oscillator)".into(),
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
    /// Elman.
    Elman(ElmanWeights<f64>),
    /// GRU.
    Gru(GruWeights),
    /// Euler CT-RNN.
    CtRnn(CtRnnWeights),
    /// Continuous-time GRU.
    CtGru(CtGruWeights),
    /// Gated RNN.
    Gated(GatedWeights),
    /// Phase oscillator.
    Oscillator(OscillatorWeights),
}

impl Model {
    /// Which cell.
    pub fn kind(&self) -> CellKind {
        match self {
            Model::Elman(_) => CellKind::Elman,
            Model::Gru(_) => CellKind::Gru,
            Model::CtRnn(_) => CellKind::CtRnn,
            Model::CtGru(_) => CellKind::CtGru,
            Model::Gated(_) => CellKind::Gated,
            Model::Oscillator(_) => CellKind::Oscillator,
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
        }
    }

    /// The discrete map of a map cell (elman, gru, ctrnn, oscillator); `None` for flows.
    pub fn as_map(&self) -> Option<&dyn DiscreteMap> {
        match self {
            Model::Elman(w) => Some(w),
            Model::Gru(w) => Some(w),
            Model::CtRnn(w) => Some(w),
            Model::Oscillator(w) => Some(w),
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

    /// State size (N, or 3N for gated).
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

    /// The tensors under their file names.
    fn tensors(&self) -> Vec<(&'static str, ArrayD<f64>)> {
        let mut out: Vec<(&'static str, ArrayD<f64>)> = Vec::new();
        let mut put2 = |name, a: ArrayView2<'_, f64>| out.push((name, a.to_owned().into_dyn()));
        let readout = |r: Option<&Readout>, out: &mut Vec<(&'static str, ArrayD<f64>)>| {
            if let Some(r) = r {
                out.push(("weight", r.w().to_owned().into_dyn()));
                if let Some(b) = r.b() {
                    out.push(("bias", b.to_owned().into_dyn()));
                }
            }
        };
        let opt1 = |name, b: Option<ndarray::ArrayView1<'_, f64>>, out: &mut Vec<(&'static str, ArrayD<f64>)>| {
            if let Some(b) = b {
                out.push((name, b.to_owned().into_dyn()));
            }
        };
        match self {
            Model::Elman(w) => {
                put2("weight_ih_l0", w.w_ih());
                put2("weight_hh_l0", w.w_hh());
                put2("weight", w.w_r());
                if let Some(b) = w.b_h() {
                    out.push(("bias_ih_l0", b.to_owned().into_dyn()));
                    out.push(("bias_hh_l0", Array1::<f64>::zeros(b.len()).into_dyn()));
                }
                opt1("bias", w.b_r(), &mut out);
            }
            Model::Gru(w) => {
                put2("weight_ih_l0", w.w_ih());
                put2("weight_hh_l0", w.w_hh());
                opt1("bias_ih_l0", w.b_ih(), &mut out);
                opt1("bias_hh_l0", w.b_hh(), &mut out);
                readout(w.readout(), &mut out);
            }
            Model::CtRnn(w) => {
                put2("weight_ih_l0", w.w_ih());
                put2("weight_hh_l0", w.w_hh());
                opt1("bias_hh_l0", w.b(), &mut out);
                readout(Some(w.readout()), &mut out);
            }
            Model::CtGru(w) => {
                put2("weight_hh_l0", w.u());
                if let Some(wi) = w.w_ih() {
                    put2("weight_ih_l0", wi);
                }
                opt1("bias_hh_l0", w.b(), &mut out);
                readout(w.readout(), &mut out);
            }
            Model::Gated(w) => {
                let [jh, jz, jr] = w.couplings();
                put2("weight_hh", jh);
                put2("weight_zh", jz);
                put2("weight_rh", jr);
                let [bh, bz, br] = w.biases();
                opt1("bias_h", bh, &mut out);
                opt1("bias_z", bz, &mut out);
                opt1("bias_r", br, &mut out);
                readout(w.readout(), &mut out);
            }
            Model::Oscillator(w) => {
                put2("weight_ih", w.c());
                readout(w.readout(), &mut out);
            }
        }
        out
    }

    /// The cell's constants as metadata (`alpha`, `dt`, gate constants).
    fn constants(&self) -> Vec<(&'static str, f64)> {
        match self {
            Model::Elman(_) | Model::Gru(_) => vec![],
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
            tensors.push(("h0", h0.clone().into_dyn()));
        }
        let activation = match &self.model {
            Model::Elman(w) => Some(w.activation()),
            _ => None,
        };
        let mut meta = self.meta.to_map(activation);
        meta.insert("cell".into(), self.model.kind().name().into());
        for (k, v) in self.model.constants() {
            meta.insert(k.into(), format!("{v}"));
        }
        match self.dtype {
            Dtype::F64 => {
                let views: Vec<_> = tensors.iter().map(|(n, a)| (*n, a.view())).collect();
                tensors_to_safetensors(&views, &meta)
            }
            Dtype::F32 => {
                let cast: Vec<(&str, ArrayD<f32>)> = tensors.iter().map(|(n, a)| (*n, a.mapv(|v| v as f32))).collect();
                let views: Vec<_> = cast.iter().map(|(n, a)| (*n, a.view())).collect();
                tensors_to_safetensors(&views, &meta)
            }
        }
    }

    /// Writes the file; errors name the path.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_bytes()?).map_err(|e| Error::file(path, e))
    }

    /// Reads a model file; errors name the path and the offending tensor.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
        ModelFile::from_bytes(&bytes, &path.display().to_string())
    }

    /// Parses safetensors bytes (`source` names them in errors).
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self> {
        ModelFile::from_tensors(&Tensors::from_bytes(bytes, source)?)
    }

    /// Builds a model from parsed tensors, dispatching on the `cell` metadata key.
    pub fn from_tensors(t: &Tensors) -> Result<Self> {
        let kind = match t.metadata.get("cell") {
            Some(c) => c.parse().map_err(|e: Error| Reader::fail(t, format!("metadata cell: {e}")))?,
            None => guess_cell(t)?,
        };
        let r = Reader { t, kind };
        let model = r.model()?;
        let h0 = r.vector("h0", Dim::State(model.state_dim()), false)?;
        let mut meta_map = t.metadata.clone();
        meta_map.remove("cell");
        for (k, _) in model.constants() {
            meta_map.remove(k);
        }
        let (meta, activation) = WeightsMetadata::from_map(meta_map, &t.source)?;
        let model = match model {
            Model::Elman(w) => Model::Elman(w.with_activation(activation)),
            other if activation != Activation::Tanh => {
                return Err(Reader::fail(
                    t,
                    format!("metadata activation = identity is only valid for elman, not {}", other.kind()),
                ));
            }
            other => other,
        };
        let dtype = if t.dtypes.values().any(|d| *d == "f32") { Dtype::F32 } else { Dtype::F64 };
        Ok(ModelFile { model, h0, meta, dtype })
    }
}

/// A metadata-less file: a PyTorch GRU state dict has `weight_hh_l0` of shape `(3N, N)`.
fn guess_cell(t: &Tensors) -> Result<CellKind> {
    if t.find_optional("weight_zh")?.is_some() && t.find_optional("weight_rh")?.is_some() {
        return Ok(CellKind::Gated);
    }
    match t.find_optional("weight_hh_l0")? {
        Some((_, a)) if a.ndim() == 2 && a.shape()[0] == a.shape()[1] => Ok(CellKind::Elman),
        Some((_, a)) if a.ndim() == 2 && a.shape()[0] == 3 * a.shape()[1] => Ok(CellKind::Gru),
        Some((key, a)) => Err(Reader::fail(
            t,
            format!(
                "shapes fit no cell: tensor {key} has shape {}; elman (no `cell` metadata) needs (N, N), a PyTorch GRU (3N, N)",
                check::fmt_shape(a.shape())
            ),
        )),
        None => Err(Reader::fail(
            t,
            format!(
                "no `cell` metadata and no tensor weight_hh_l0, so this is no elman or gru file (have: {:?})",
                t.tensors.keys().collect::<Vec<_>>()
            ),
        )),
    }
}

/// A dimension in a tensor-shape table.
#[derive(Debug, Clone, Copy)]
enum Dim {
    /// `k * N` for the cell's N.
    N(usize, usize),
    /// Free (input or output size), named.
    Free(&'static str),
    /// The state size.
    State(usize),
}

impl Dim {
    fn fits(self, v: usize) -> bool {
        match self {
            Dim::N(k, n) => v == k * n,
            Dim::Free(_) => v >= 1,
            Dim::State(s) => v == s,
        }
    }

    fn describe(self) -> String {
        match self {
            Dim::N(1, n) => format!("N = {n}"),
            Dim::N(k, n) => format!("{k}N = {}", k * n),
            Dim::Free(name) => format!("{name} >= 1"),
            Dim::State(s) => format!("state = {s}"),
        }
    }
}

struct Reader<'a> {
    t: &'a Tensors,
    kind: CellKind,
}

impl Reader<'_> {
    fn fail(t: &Tensors, reason: String) -> Error {
        Error::Format { path: t.source.clone(), reason }
    }

    fn err(&self, reason: String) -> Error {
        Reader::fail(self.t, format!("cell {}: {reason}", self.kind))
    }

    fn get(&self, name: &str, required: bool) -> Result<Option<(&str, &ArrayD<f64>)>> {
        match self.t.find_optional(name)? {
            Some((key, a)) => {
                check::finite(key, a)?;
                Ok(Some((key, a)))
            }
            None if required => {
                Err(self
                    .err(format!("missing tensor {name:?} (have: {:?})", self.t.tensors.keys().collect::<Vec<_>>())))
            }
            None => Ok(None),
        }
    }

    fn shape_err(&self, key: &str, got: &[usize], dims: &[Dim]) -> Error {
        let want: Vec<String> = dims.iter().map(|d| d.describe()).collect();
        self.err(format!("tensor {key} has shape {}, expected ({})", check::fmt_shape(got), want.join(", ")))
    }

    fn matrix(&self, name: &str, rows: Dim, cols: Dim, required: bool) -> Result<Option<Array2<f64>>> {
        let Some((key, a)) = self.get(name, required)? else { return Ok(None) };
        let s = a.shape();
        if s.len() != 2 || !rows.fits(s[0]) || !cols.fits(s[1]) {
            return Err(self.shape_err(key, s, &[rows, cols]));
        }
        a.clone().into_dimensionality::<Ix2>().map(Some).map_err(|_| self.shape_err(key, s, &[rows, cols]))
    }

    fn req_matrix(&self, name: &str, rows: Dim, cols: Dim) -> Result<Array2<f64>> {
        self.matrix(name, rows, cols, true)?.ok_or_else(|| self.err(format!("missing tensor {name:?}")))
    }

    fn vector(&self, name: &str, len: Dim, required: bool) -> Result<Option<Array1<f64>>> {
        let Some((key, a)) = self.get(name, required)? else { return Ok(None) };
        let s = a.shape();
        if s.len() != 1 || !len.fits(s[0]) {
            return Err(self.shape_err(key, s, &[len]));
        }
        a.clone().into_dimensionality::<Ix1>().map(Some).map_err(|_| self.shape_err(key, s, &[len]))
    }

    /// N from the recurrent matrix: its rows (elman, ctrnn, gated) or columns (gru, ctgru).
    fn hidden(&self, name: &str, by_cols: bool) -> Result<usize> {
        let (key, a) = self.get(name, true)?.ok_or_else(|| self.err(format!("missing tensor {name:?}")))?;
        let s = a.shape();
        let n = if s.len() == 2 { if by_cols { s[1] } else { s[0] } } else { 0 };
        if n == 0 {
            let rows = if by_cols { Dim::N(3, n.max(1)) } else { Dim::Free("N") };
            return Err(self.shape_err(key, s, &[rows, Dim::Free("N")]));
        }
        Ok(n)
    }

    fn readout(&self, n: usize, required: bool) -> Result<Option<Readout>> {
        let Some(w) = self.matrix("weight", Dim::Free("d_out"), Dim::N(1, n), required)? else {
            if self.t.find_optional("bias")?.is_some() {
                return Err(self.err("tensor bias without a readout weight".into()));
            }
            return Ok(None);
        };
        let b = self.vector("bias", Dim::N(1, w.nrows()), false)?;
        Readout::new(w, b, n).map(Some)
    }

    fn constant(&self, key: &str, default: Option<f64>) -> Result<f64> {
        match (self.t.metadata.get(key), default) {
            (Some(v), _) => {
                v.trim().parse::<f64>().map_err(|_| self.err(format!("metadata {key} = {v:?} is not a number")))
            }
            (None, Some(d)) => Ok(d),
            (None, None) => Err(self.err(format!("missing metadata {key:?}"))),
        }
    }

    fn model(&self) -> Result<Model> {
        let wrap = |e: Error| match e {
            Error::Format { .. } => e,
            other => self.err(other.to_string()),
        };
        match self.kind {
            CellKind::Elman => {
                let n = self.hidden("weight_hh_l0", false)?;
                let w_hh = self.req_matrix("weight_hh_l0", Dim::N(1, n), Dim::N(1, n))?;
                let w_ih = self.req_matrix("weight_ih_l0", Dim::N(1, n), Dim::Free("d_in"))?;
                let r = self.readout(n, true)?.ok_or_else(|| self.err("missing tensor \"weight\"".into()))?;
                let b_ih = self.vector("bias_ih_l0", Dim::N(1, n), false)?;
                let b_hh = self.vector("bias_hh_l0", Dim::N(1, n), false)?;
                let b_h = match (b_ih, b_hh) {
                    (Some(a), Some(b)) => Some(a + b),
                    (a, b) => a.or(b),
                };
                let w = ElmanWeights::new(w_hh, w_ih, r.w().to_owned())
                    .and_then(|w| w.with_biases(b_h, r.b().map(|b| b.to_owned())))
                    .map_err(wrap)?;
                Ok(Model::Elman(w))
            }
            CellKind::Gru => {
                let n = self.hidden("weight_hh_l0", true)?;
                let w_hh = self.req_matrix("weight_hh_l0", Dim::N(3, n), Dim::N(1, n))?;
                let w_ih = self.req_matrix("weight_ih_l0", Dim::N(3, n), Dim::Free("d_in"))?;
                let b_ih = self.vector("bias_ih_l0", Dim::N(3, n), false)?;
                let b_hh = self.vector("bias_hh_l0", Dim::N(3, n), false)?;
                let r = self.readout(n, false)?;
                GruWeights::new(w_ih, w_hh, b_ih, b_hh, r).map(Model::Gru).map_err(wrap)
            }
            CellKind::CtRnn => {
                let n = self.hidden("weight_hh_l0", false)?;
                let w_hh = self.req_matrix("weight_hh_l0", Dim::N(1, n), Dim::N(1, n))?;
                let w_ih = self.req_matrix("weight_ih_l0", Dim::N(1, n), Dim::Free("d_in"))?;
                let b = self.vector("bias_hh_l0", Dim::N(1, n), false)?;
                let r = self.readout(n, true)?.ok_or_else(|| self.err("missing tensor \"weight\"".into()))?;
                let alpha = self.constant("alpha", None)?;
                CtRnnWeights::new(w_ih, w_hh, b, alpha, r).map(Model::CtRnn).map_err(wrap)
            }
            CellKind::CtGru => {
                let n = self.hidden("weight_hh_l0", true)?;
                let u = self.req_matrix("weight_hh_l0", Dim::N(3, n), Dim::N(1, n))?;
                let w_ih = self.matrix("weight_ih_l0", Dim::N(3, n), Dim::Free("d_in"), false)?;
                let b = self.vector("bias_hh_l0", Dim::N(3, n), false)?;
                let r = self.readout(n, false)?;
                let dt = self.constant("dt", None)?;
                CtGruWeights::new(u, w_ih, b, dt, r).map(Model::CtGru).map_err(wrap)
            }
            CellKind::Gated => {
                let n = self.hidden("weight_hh", false)?;
                let j = |name| self.req_matrix(name, Dim::N(1, n), Dim::N(1, n));
                let (j_h, j_z, j_r) = (j("weight_hh")?, j("weight_zh")?, j("weight_rh")?);
                let b = |name| self.vector(name, Dim::N(1, n), false);
                let biases = [b("bias_h")?, b("bias_z")?, b("bias_r")?];
                let params = GatedParams {
                    alpha_z: self.constant("alpha_z", None)?,
                    alpha_r: self.constant("alpha_r", None)?,
                    beta_z: self.constant("beta_z", None)?,
                    beta_r: self.constant("beta_r", None)?,
                    tau_z: self.constant("tau_z", None)?,
                    tau_r: self.constant("tau_r", None)?,
                    dt: self.constant("dt", Some(GatedParams::default().dt))?,
                };
                let r = self.readout(n, false)?;
                GatedWeights::new(j_h, j_z, j_r, biases, params, r).map(Model::Gated).map_err(wrap)
            }
            CellKind::Oscillator => {
                let c = self.req_matrix("weight_ih", Dim::N(1, 1), Dim::Free("d_in"))?;
                let r = self.readout(2, false)?;
                let (omega, kappa) = (self.constant("omega", None)?, self.constant("kappa", None)?);
                OscillatorWeights::new(c, omega, kappa, r).map(Model::Oscillator).map_err(wrap)
            }
        }
    }
}
