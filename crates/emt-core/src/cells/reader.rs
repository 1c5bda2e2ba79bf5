//! Reading a model file strictly (the table and rules are in the `file` module's doc): the
//! cell from metadata, options or shapes; the module prefixes of the recurrent tensors and of
//! the readout; every layer; `h0`/`c0`; and an error for anything left unused.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use ndarray::{Array1, Array2, ArrayD, Ix1, Ix2};

use super::file::{CellKind, Dtype, LoadOptions, Model, ModelFile, module};
use super::{
    CtGruWeights, CtRnnWeights, ElmanLayer, GatedParams, GatedWeights, GruWeights, Layer, LstmWeights,
    OscillatorWeights, Readout, RnnStack,
};
use crate::io::{Tensors, WeightsMetadata};
use crate::{Activation, ElmanWeights, Error, Result, check};

/// Metadata keys that are some cell's constants: present on a cell that lacks them, they mean
/// the file is not what it was taken for.
const CONSTANTS: [&str; 11] =
    ["alpha", "dt", "alpha_z", "alpha_r", "beta_z", "beta_r", "tau_z", "tau_r", "omega", "kappa", "num_layers"];

fn constants_of(kind: CellKind) -> &'static [&'static str] {
    match kind {
        CellKind::Elman | CellKind::Gru | CellKind::Lstm => &["num_layers"],
        CellKind::CtRnn => &["alpha"],
        CellKind::CtGru => &["dt"],
        CellKind::Gated => &["alpha_z", "alpha_r", "beta_z", "beta_r", "tau_z", "tau_r", "dt"],
        CellKind::Oscillator => &["omega", "kappa"],
    }
}

fn fail(t: &Tensors, reason: String) -> Error {
    Error::Format { path: t.source.clone(), reason }
}

/// `(module prefix with its dot, leaf)` of a tensor name: `rnn.weight_ih_l0` -> `("rnn.", "weight_ih_l0")`.
fn split_key(key: &str) -> (&str, &str) {
    match key.rfind('.') {
        Some(i) => (&key[..=i], &key[i + 1..]),
        None => ("", key),
    }
}

/// The module prefixes under which a tensor with this leaf name exists.
fn prefixes_with(t: &Tensors, leaf: &str) -> Vec<String> {
    t.tensors.keys().filter(|k| split_key(k).1 == leaf).map(|k| split_key(k).0.to_string()).collect()
}

fn show(prefix: &str) -> String {
    if prefix.is_empty() { "\"\" (no prefix)".into() } else { format!("{:?}", prefix.trim_end_matches('.')) }
}

/// A PyTorch recurrent tensor name: `(kind, layer, reverse)` for `weight_ih_l3`,
/// `bias_hh_l0_reverse`, ...
fn torch_leaf(leaf: &str) -> Option<(&str, usize, bool)> {
    let (name, reverse) = match leaf.strip_suffix("_reverse") {
        Some(rest) => (rest, true),
        None => (leaf, false),
    };
    let i = name.rfind("_l")?;
    let (what, layer) = (&name[..i], &name[i + 2..]);
    let known = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"].contains(&what);
    let layer = layer.parse().ok().filter(|_| known && layer.bytes().all(|b| b.is_ascii_digit()))?;
    Some((what, layer, reverse))
}

/// The cell a `weight_hh_l0` of this shape (with or without a `weight_hr_l0`) belongs to.
fn cell_of_shape(shape: &[usize], has_hr: bool) -> Option<CellKind> {
    match shape {
        [r, _] if has_hr && r % 4 == 0 && *r > 0 => Some(CellKind::Lstm),
        [r, c] if *c > 0 && r == c => Some(CellKind::Elman),
        [r, c] if *c > 0 && *r == 3 * c => Some(CellKind::Gru),
        [r, c] if *c > 0 && *r == 4 * c => Some(CellKind::Lstm),
        _ => None,
    }
}

/// The one module prefix under which `leaf` exists (or the one `options` names).
fn prefix_of(t: &Tensors, leaf: &str, chosen: Option<&str>) -> Result<String> {
    let found = prefixes_with(t, leaf);
    if let Some(p) = chosen {
        let p = module(p);
        if found.contains(&p) {
            return Ok(p);
        }
        let list = found.iter().map(|p| show(p)).collect::<Vec<_>>().join(", ");
        return Err(fail(
            t,
            format!("no tensor {p}{leaf} under the prefix {} (prefixes with {leaf}: {list})", show(&p)),
        ));
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(fail(
            t,
            format!("missing tensor {leaf:?} under any module (have: {:?})", t.tensors.keys().collect::<Vec<_>>()),
        )),
        many => {
            let list = many.iter().map(|p| show(p)).collect::<Vec<_>>().join(", ");
            Err(fail(t, format!("several modules hold {leaf}: {list}; choose one with --prefix (LoadOptions::prefix)")))
        }
    }
}

/// The cell: from `options`, the `cell` metadata (which must agree), or the shapes.
fn resolve_kind(t: &Tensors, options: &LoadOptions) -> Result<CellKind> {
    let meta = match t.metadata.get("cell") {
        Some(c) => Some(c.parse::<CellKind>().map_err(|e| fail(t, format!("metadata cell: {e}")))?),
        None => None,
    };
    match (meta, options.cell) {
        (Some(m), Some(o)) if m != o => {
            Err(fail(t, format!("the file's metadata says cell = {m}, but {o} was asked for (--cell)")))
        }
        (Some(k), _) | (None, Some(k)) => Ok(k),
        (None, None) => guess_cell(t, options.prefix.as_deref()),
    }
}

/// A metadata-less file: gated by its tensor names, else by the shape of `weight_hh_l0`.
fn guess_cell(t: &Tensors, prefix: Option<&str>) -> Result<CellKind> {
    if !prefixes_with(t, "weight_zh").is_empty() && !prefixes_with(t, "weight_rh").is_empty() {
        return Ok(CellKind::Gated);
    }
    if prefixes_with(t, "weight_hh_l0").is_empty() {
        return Err(fail(
            t,
            format!(
                "no `cell` metadata and no tensor weight_hh_l0, so this is no PyTorch RNN/GRU/LSTM file (have: {:?})",
                t.tensors.keys().collect::<Vec<_>>()
            ),
        ));
    }
    let p = prefix_of(t, "weight_hh_l0", prefix)?;
    let key = format!("{p}weight_hh_l0");
    let shape = t.tensors[&key].shape();
    let has_hr = t.tensors.contains_key(&format!("{p}weight_hr_l0"));
    cell_of_shape(shape, has_hr).ok_or_else(|| {
        fail(
            t,
            format!(
                "shapes fit no cell: tensor {key} has shape {}; without `cell` metadata elman needs (N, N), \
                 gru (3N, N), lstm (4N, N) or (4N, P) with weight_hr_l0",
                check::fmt_shape(shape)
            ),
        )
    })
}

/// The file's nonlinearity: metadata (`activation` / `nonlinearity`) or `options`, which must
/// agree where both speak.
fn resolve_activation(t: &Tensors, from_meta: Activation, options: &LoadOptions) -> Result<Activation> {
    let said = t.metadata.contains_key("activation") || t.metadata.contains_key("nonlinearity");
    match options.nonlinearity {
        Some(o) if said && o != from_meta => Err(fail(
            t,
            format!("the file's metadata says nonlinearity = {}, but {} was asked for", from_meta.name(), o.name()),
        )),
        Some(o) => Ok(o),
        None => Ok(from_meta),
    }
}

pub(super) fn read(t: &Tensors, options: &LoadOptions) -> Result<ModelFile> {
    let kind = resolve_kind(t, options)?;
    let anchor = match kind {
        CellKind::Gated => "weight_hh",
        CellKind::Oscillator => "weight_ih",
        _ => "weight_hh_l0",
    };
    let prefix = prefix_of(t, anchor, options.prefix.as_deref())?;

    let mut meta_map: BTreeMap<String, String> = t.metadata.clone();
    meta_map.remove("cell");
    for key in CONSTANTS {
        if meta_map.contains_key(key) && !constants_of(kind).contains(&key) {
            return Err(fail(
                t,
                format!("metadata {key} is a constant a {kind} model does not have (is the file another cell?)"),
            ));
        }
    }
    for key in constants_of(kind) {
        meta_map.remove(*key);
    }
    let (meta, activation) = WeightsMetadata::from_map(meta_map, &t.source)?;
    let activation = resolve_activation(t, activation, options)?;
    if kind != CellKind::Elman && activation != Activation::Tanh {
        return Err(fail(t, format!("nonlinearity {} is only valid for elman, not {kind}", activation.name())));
    }

    let r = Reader { t, kind, prefix, used: RefCell::new(BTreeSet::new()) };
    let model = r.model(activation, options.readout.as_deref())?;
    let h0 = r.initial_state(&model)?;
    r.all_used(&model)?;
    // f32 only when every tensor is: a mixed file keeps f64, which holds all of its values
    // (an f64 weight of 1e300 written back as f32 became -inf).
    let all_f32 = !t.dtypes.is_empty() && t.dtypes.values().all(|d| *d == "f32");
    let dtype = if all_f32 { Dtype::F32 } else { Dtype::F64 };
    Ok(ModelFile { model, h0, meta, dtype })
}

/// A dimension in a tensor-shape table.
#[derive(Debug, Clone, Copy)]
enum Dim {
    /// Exactly this many, described as `k N = v` or `what = v`.
    Is(&'static str, usize),
    /// Free (input or output size), named.
    Free(&'static str),
}

impl Dim {
    fn fits(self, v: usize) -> bool {
        match self {
            Dim::Is(_, n) => v == n,
            Dim::Free(_) => v >= 1,
        }
    }

    fn describe(self) -> String {
        match self {
            Dim::Is(name, n) => format!("{name} = {n}"),
            Dim::Free(name) => format!("{name} >= 1"),
        }
    }
}

struct Reader<'a> {
    t: &'a Tensors,
    kind: CellKind,
    /// Module prefix of the recurrent tensors, with its dot (or empty).
    prefix: String,
    used: RefCell<BTreeSet<String>>,
}

impl Reader<'_> {
    fn err(&self, reason: String) -> Error {
        fail(self.t, format!("cell {}: {reason}", self.kind))
    }

    /// The tensor `key` (a full name), marked used; finite.
    fn get_key(&self, key: &str, required: bool) -> Result<Option<&ArrayD<f64>>> {
        match self.t.tensors.get(key) {
            Some(a) => {
                check::finite(key, a)?;
                self.used.borrow_mut().insert(key.to_string());
                Ok(Some(a))
            }
            None if required => {
                Err(self.err(format!("missing tensor {key:?} (have: {:?})", self.t.tensors.keys().collect::<Vec<_>>())))
            }
            None => Ok(None),
        }
    }

    fn shape_err(&self, key: &str, got: &[usize], dims: &[Dim]) -> Error {
        let want: Vec<String> = dims.iter().map(|d| d.describe()).collect();
        let mut reason = format!("tensor {key} has shape {}, expected ({})", check::fmt_shape(got), want.join(", "));
        if let Some(other) = self.looks_like().filter(|k| *k != self.kind) {
            reason
                .push_str(&format!("; its weight_hh_l0 fits a {other} model: is the `cell` metadata (--cell) right?"));
        }
        self.err(reason)
    }

    /// The cell the recurrent shapes fit, if they fit one.
    fn looks_like(&self) -> Option<CellKind> {
        let hh = self.t.tensors.get(&format!("{}weight_hh_l0", self.prefix))?;
        cell_of_shape(hh.shape(), self.t.tensors.contains_key(&format!("{}weight_hr_l0", self.prefix)))
    }

    fn matrix_key(&self, key: &str, rows: Dim, cols: Dim, required: bool) -> Result<Option<Array2<f64>>> {
        let Some(a) = self.get_key(key, required)? else { return Ok(None) };
        let s = a.shape();
        if s.len() != 2 || !rows.fits(s[0]) || !cols.fits(s[1]) {
            return Err(self.shape_err(key, s, &[rows, cols]));
        }
        a.clone().into_dimensionality::<Ix2>().map(Some).map_err(|_| self.shape_err(key, s, &[rows, cols]))
    }

    fn vector_key(&self, key: &str, len: Dim, required: bool) -> Result<Option<Array1<f64>>> {
        let Some(a) = self.get_key(key, required)? else { return Ok(None) };
        let s = a.shape();
        if s.len() != 1 || !len.fits(s[0]) {
            return Err(self.shape_err(key, s, &[len]));
        }
        a.clone().into_dimensionality::<Ix1>().map(Some).map_err(|_| self.shape_err(key, s, &[len]))
    }

    /// A recurrent matrix `{prefix}{name}`.
    fn matrix(&self, name: &str, rows: Dim, cols: Dim) -> Result<Array2<f64>> {
        let key = format!("{}{name}", self.prefix);
        self.matrix_key(&key, rows, cols, true)?.ok_or_else(|| self.err(format!("missing tensor {key:?}")))
    }

    fn opt_matrix(&self, name: &str, rows: Dim, cols: Dim) -> Result<Option<Array2<f64>>> {
        self.matrix_key(&format!("{}{name}", self.prefix), rows, cols, false)
    }

    fn vector(&self, name: &str, len: Dim) -> Result<Option<Array1<f64>>> {
        self.vector_key(&format!("{}{name}", self.prefix), len, false)
    }

    /// The shape of a recurrent tensor, if present, for sizes read off it.
    fn shape_of(&self, name: &str) -> Option<&[usize]> {
        self.t.tensors.get(&format!("{}{name}", self.prefix)).map(|a| a.shape())
    }

    /// `(rows, cols)` of a required recurrent matrix, before its full check.
    fn dims(&self, name: &str) -> Result<(usize, usize)> {
        let key = format!("{}{name}", self.prefix);
        match self.shape_of(name) {
            Some([r, c]) if *r > 0 && *c > 0 => Ok((*r, *c)),
            Some(s) => Err(self.shape_err(&key, s, &[Dim::Free("rows"), Dim::Free("columns")])),
            None => {
                Err(self.err(format!("missing tensor {key:?} (have: {:?})", self.t.tensors.keys().collect::<Vec<_>>())))
            }
        }
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

    /// The readout `Linear` reading `n` values: the module `chosen` names, else the one unused
    /// `*.weight` with `n` columns.
    fn readout(&self, n: usize, chosen: Option<&str>, required: bool) -> Result<Option<Readout>> {
        let candidates: Vec<String> = {
            let used = self.used.borrow();
            prefixes_with(self.t, "weight").into_iter().filter(|p| !used.contains(&format!("{p}weight"))).collect()
        };
        let q = match chosen {
            Some(c) => {
                let q = module(c);
                if !candidates.contains(&q) {
                    let list = candidates.iter().map(|p| show(p)).collect::<Vec<_>>().join(", ");
                    return Err(self.err(format!("no readout {q}weight (Linear modules: {list})")));
                }
                Some(q)
            }
            None => {
                let fits: Vec<&String> = candidates
                    .iter()
                    .filter(|p| self.t.tensors[&format!("{p}weight")].shape().get(1) == Some(&n))
                    .collect();
                match fits.as_slice() {
                    [] => None,
                    [one] => Some((*one).clone()),
                    many => {
                        let list = many.iter().map(|p| show(p)).collect::<Vec<_>>().join(", ");
                        return Err(self.err(format!(
                            "several Linear modules read the top layer's {n} outputs: {list}; \
                             choose one with --readout (LoadOptions::readout)"
                        )));
                    }
                }
            }
        };
        let Some(q) = q else {
            if required {
                return Err(self.err(format!("missing readout tensor \"weight\" ({n} columns)")));
            }
            return Ok(None);
        };
        let w = self
            .matrix_key(&format!("{q}weight"), Dim::Free("d_out"), Dim::Is("H_out", n), true)?
            .ok_or_else(|| self.err("missing readout weight".into()))?;
        let b = self.vector_key(&format!("{q}bias"), Dim::Is("d_out", w.nrows()), false)?;
        Readout::new(w, b, n).map(Some)
    }

    /// Layer indices present, refusing bidirectional modules.
    fn layer_count(&self) -> Result<usize> {
        let mut top = None;
        for key in self.t.tensors.keys() {
            let Some(leaf) = key.strip_prefix(&self.prefix) else { continue };
            if leaf.contains('.') {
                continue;
            }
            if let Some((_, layer, reverse)) = torch_leaf(leaf) {
                if reverse {
                    return Err(self.err(format!(
                        "tensor {key} belongs to a bidirectional module: its reverse direction runs backwards in \
                         time over the whole sequence, so the two directions are not one dynamical system (emt \
                         reads unidirectional RNN/GRU/LSTM modules)"
                    )));
                }
                top = top.max(Some(layer));
            }
        }
        let l = top.map_or(1, |t| t + 1);
        if let Some(v) = self.t.metadata.get("num_layers") {
            let said: usize =
                v.trim().parse().map_err(|_| self.err(format!("metadata num_layers = {v:?} is not a count")))?;
            if said != l {
                return Err(self.err(format!(
                    "metadata num_layers = {said}, but the file holds tensors of {l} layer(s) (weight_hh_l0 .. l{}): \
                     missing or extra layers",
                    l - 1
                )));
            }
        }
        Ok(l)
    }

    /// A constructor's error, as a format error of this file (a file's own errors pass).
    fn wrap(&self, e: Error) -> Error {
        match e {
            Error::Format { .. } => e,
            other => self.err(other.to_string()),
        }
    }

    fn model(&self, activation: Activation, readout: Option<&str>) -> Result<Model> {
        let wrap = |e: Error| self.wrap(e);
        match self.kind {
            CellKind::Elman | CellKind::Gru | CellKind::Lstm => self.stack(activation, readout),
            CellKind::CtRnn => {
                let (n, _) = self.dims("weight_hh_l0")?;
                let w_hh = self.matrix("weight_hh_l0", Dim::Is("N", n), Dim::Is("N", n))?;
                let w_ih = self.matrix("weight_ih_l0", Dim::Is("N", n), Dim::Free("d_in"))?;
                let b = self.vector("bias_hh_l0", Dim::Is("N", n))?;
                let r = self.readout(n, readout, true)?.ok_or_else(|| self.err("missing readout".into()))?;
                let alpha = self.constant("alpha", None)?;
                CtRnnWeights::new(w_ih, w_hh, b, alpha, r).map(Model::CtRnn).map_err(wrap)
            }
            CellKind::CtGru => {
                let (_, n) = self.dims("weight_hh_l0")?;
                let u = self.matrix("weight_hh_l0", Dim::Is("3N", 3 * n), Dim::Is("N", n))?;
                let w_ih = self.opt_matrix("weight_ih_l0", Dim::Is("3N", 3 * n), Dim::Free("d_in"))?;
                let b = self.vector("bias_hh_l0", Dim::Is("3N", 3 * n))?;
                let r = self.readout(n, readout, false)?;
                let dt = self.constant("dt", None)?;
                CtGruWeights::new(u, w_ih, b, dt, r).map(Model::CtGru).map_err(wrap)
            }
            CellKind::Gated => {
                let (n, _) = self.dims("weight_hh")?;
                let j = |name| self.matrix(name, Dim::Is("N", n), Dim::Is("N", n));
                let (j_h, j_z, j_r) = (j("weight_hh")?, j("weight_zh")?, j("weight_rh")?);
                let b = |name| self.vector(name, Dim::Is("N", n));
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
                let r = self.readout(n, readout, false)?;
                GatedWeights::new(j_h, j_z, j_r, biases, params, r).map(Model::Gated).map_err(wrap)
            }
            CellKind::Oscillator => {
                let c = self.matrix("weight_ih", Dim::Is("rows", 1), Dim::Free("d_in"))?;
                let r = self.readout(2, readout, false)?;
                let (omega, kappa) = (self.constant("omega", None)?, self.constant("kappa", None)?);
                OscillatorWeights::new(c, omega, kappa, r).map(Model::Oscillator).map_err(wrap)
            }
        }
    }

    /// Elman, GRU or LSTM layers `_l0 .. _l{L-1}` and the readout: a single-layer Elman with a
    /// readout is [`ElmanWeights`], a single-layer GRU [`GruWeights`], anything else a stack.
    fn stack(&self, activation: Activation, readout: Option<&str>) -> Result<Model> {
        let count = self.layer_count()?;
        let gates = self.kind.gate_rows();
        let mut layers = Vec::with_capacity(count);
        let mut below: Option<usize> = None;
        for k in 0..count {
            let hh = format!("weight_hh_l{k}");
            let (rows, cols) = self.dims(&hh)?;
            let d_in = match below {
                Some(d) => Dim::Is("the output size of the layer below", d),
                None => Dim::Free("d_in"),
            };
            let name = |what: &str| format!("{what}_l{k}");
            let layer = match self.kind {
                CellKind::Lstm => {
                    let n = rows / 4;
                    let p = cols;
                    let w_hh = self.matrix(&hh, Dim::Is("4N", 4 * n.max(1)), Dim::Is("P", p))?;
                    let w_ih = self.matrix(&name("weight_ih"), Dim::Is("4N", 4 * n), d_in)?;
                    let b_ih = self.vector(&name("bias_ih"), Dim::Is("4N", 4 * n))?;
                    let b_hh = self.vector(&name("bias_hh"), Dim::Is("4N", 4 * n))?;
                    let w_hr = self.opt_matrix(&name("weight_hr"), Dim::Is("P", p), Dim::Is("N", n))?;
                    if w_hr.is_none() && p != n {
                        return Err(self.shape_err(
                            &format!("{}{hh}", self.prefix),
                            &[rows, cols],
                            &[Dim::Is("4N", 4 * n), Dim::Is("N (no weight_hr: no proj_size)", n)],
                        ));
                    }
                    Layer::Lstm(LstmWeights::new(w_ih, w_hh, b_ih, b_hh, w_hr).map_err(|e| self.wrap(e))?)
                }
                _ => {
                    let n = cols;
                    let w_hh =
                        self.matrix(&hh, Dim::Is(if gates == 3 { "3N" } else { "N" }, gates * n), Dim::Is("N", n))?;
                    let w_ih =
                        self.matrix(&name("weight_ih"), Dim::Is(if gates == 3 { "3N" } else { "N" }, gates * n), d_in)?;
                    let b_ih = self.vector(&name("bias_ih"), Dim::Is("rows", gates * n))?;
                    let b_hh = self.vector(&name("bias_hh"), Dim::Is("rows", gates * n))?;
                    let layer = if self.kind == CellKind::Gru {
                        GruWeights::new(w_ih, w_hh, b_ih, b_hh, None).map(Layer::Gru)
                    } else {
                        ElmanLayer::new(w_ih, w_hh, b_ih, b_hh, activation).map(Layer::Elman)
                    };
                    layer.map_err(|e| self.wrap(e))?
                }
            };
            below = Some(layer.output_dim());
            layers.push(layer);
        }
        let top = below.unwrap_or(0);
        let readout = self.readout(top, readout, false)?;
        self.assemble(layers, readout, activation).map_err(|e| self.wrap(e))
    }

    fn assemble(&self, layers: Vec<Layer>, readout: Option<Readout>, activation: Activation) -> Result<Model> {
        match (layers.as_slice(), readout) {
            ([Layer::Elman(l)], Some(r)) => {
                let b_h = match (l.b_ih(), l.b_hh()) {
                    (Some(a), Some(b)) => Some(&a + &b),
                    (a, b) => a.or(b).map(|v| v.to_owned()),
                };
                let w = ElmanWeights::new(l.w_hh().to_owned(), l.w_ih().to_owned(), r.w().to_owned())?
                    .with_biases(b_h, r.b().map(|b| b.to_owned()))?
                    .with_activation(activation);
                Ok(Model::Elman(w))
            }
            ([Layer::Gru(g)], r) => Ok(Model::Gru(GruWeights::new(
                g.w_ih().to_owned(),
                g.w_hh().to_owned(),
                g.b_ih().map(|b| b.to_owned()),
                g.b_hh().map(|b| b.to_owned()),
                r,
            )?)),
            (_, r) => Ok(Model::Stack(RnnStack::new(layers, r)?)),
        }
    }

    /// `h0` (and `c0`), in any shape [`Model::initial_state`] takes.
    fn initial_state(&self, model: &Model) -> Result<Option<Array1<f64>>> {
        let h0 = self.get_key("h0", false)?;
        let c0 = self.get_key("c0", false)?;
        match (h0, c0) {
            (Some(h0), c0) => {
                model.initial_state(h0.view(), c0.map(|c| c.view())).map(Some).map_err(|e| self.err(e.to_string()))
            }
            (None, Some(_)) => Err(self.err("tensor c0 without h0".into())),
            (None, None) => Ok(None),
        }
    }

    /// Errors naming every tensor the model did not use.
    fn all_used(&self, model: &Model) -> Result<()> {
        let used = self.used.borrow();
        let unused: Vec<&String> = self.t.tensors.keys().filter(|k| !used.contains(*k)).collect();
        if unused.is_empty() {
            return Ok(());
        }
        let mut hint = format!(
            "a {}-layer {} model with {} readout reads none of them",
            model.num_layers(),
            self.kind,
            if model.output_dim() > 0 { "its" } else { "no" }
        );
        if unused.iter().any(|k| split_key(k).1 == "weight") {
            hint.push_str(&format!(
                "; a readout must read the top layer's {} outputs (choose modules with --prefix / --readout)",
                model.cell().hidden_range().len()
            ));
        }
        Err(self.err(format!("tensors not used: {unused:?} ({hint}); emt refuses files it would only partly read")))
    }
}
