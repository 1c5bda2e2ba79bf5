//! Weights and tensors in safetensors files, readable by PyTorch and numpy.
//!
//! Elman weights use PyTorch's names so `torch.nn.RNN` + `torch.nn.Linear` state dicts load
//! both ways:
//!
//! | ours | safetensors name | shape |
//! |---|---|---|
//! | `w_ih` | `weight_ih_l0` | `(N, d_in)` |
//! | `w_hh` | `weight_hh_l0` | `(N, N)` |
//! | `b_h` | `bias_ih_l0` + `bias_hh_l0` | `(N)` each |
//! | `w_r` | `weight` | `(d_out, N)` |
//! | `b_r` | `bias` | `(d_out)` |
//!
//! PyTorch keeps two hidden biases; only their sum matters, so we read their sum and write
//! `bias_ih_l0 = b_h`, `bias_hh_l0 = 0`. Names may carry a module prefix (`rnn.weight_hh_l0`,
//! `readout.weight`) as long as the match is unique. Values are written in logical row-major
//! order whatever the array's memory layout (a transposed view is written as the transpose,
//! never as its raw buffer).
//!
//! ```
//! use emt_core::{ElmanWeights, io};
//! let w = ElmanWeights::new(ndarray::Array2::<f64>::eye(3), ndarray::Array2::ones((3, 2)), ndarray::Array2::ones((2, 3)))?;
//! let meta = io::WeightsMetadata { task: Some("255,0,0".into()), s: Some(8), d: Some(8), ..Default::default() };
//! let bytes = io::weights_to_safetensors(&w, &meta)?;
//! let (back, meta_back) = io::weights_from_safetensors(&bytes, "memory")?;
//! assert_eq!(back, w);
//! assert_eq!(meta_back, meta);
//! # Ok::<(), emt_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array1, Array2, ArrayD, ArrayViewD, IxDyn};

pub use crate::param_path::ParamPath;

use crate::container::{self, Elem};
use crate::{Activation, ElmanWeights, Error, Real, Result, check};

/// Tensors read from a safetensors file, converted to `f64`, with the file's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensors {
    /// Name -> values (F32 and F64 are read; F32 widens exactly).
    pub tensors: BTreeMap<String, ArrayD<f64>>,
    /// Name -> stored dtype (`"f32"` or `"f64"`).
    pub dtypes: BTreeMap<String, &'static str>,
    /// The `__metadata__` header (string to string).
    pub metadata: BTreeMap<String, String>,
    pub(crate) source: String,
}

fn format_err(source: &str, reason: impl Into<String>) -> Error {
    Error::Format { path: source.to_string(), reason: reason.into() }
}

impl Tensors {
    /// Parses safetensors bytes; `source` names them in errors (a path, or "memory").
    /// Errors on a truncated or corrupt header, offsets outside the buffer or overlapping, a
    /// tensor or metadata key given twice, metadata values that are not strings, or a dtype
    /// other than F32/F64.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self> {
        let (header, data) = container::parse(bytes, source)?;
        let mut tensors = BTreeMap::new();
        let mut dtypes = BTreeMap::new();
        for entry in &header.entries {
            let array = ArrayD::from_shape_vec(IxDyn(&entry.shape), container::decode(entry, data))
                .map_err(|e| format_err(source, format!("tensor {}: {e}", entry.name)))?;
            dtypes.insert(entry.name.clone(), entry.elem.name());
            tensors.insert(entry.name.clone(), array);
        }
        Ok(Tensors { tensors, dtypes, metadata: header.metadata, source: source.to_string() })
    }

    /// Tensors held in memory (a PyTorch `state_dict` handed over by a binding): `tensors`
    /// with each one's stored dtype in `dtypes` (`"f32"` or `"f64"`, one per tensor) and the
    /// metadata a file would carry; `source` names them in errors. Errors name a tensor
    /// without a dtype, a dtype without a tensor, an unknown dtype, or a non-finite value.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// let tensors = BTreeMap::from([("w".to_string(), ndarray::arr1(&[1.0f64, 2.0]).into_dyn())]);
    /// let dtypes = BTreeMap::from([("w".to_string(), "f32".to_string())]);
    /// let t = emt_core::io::Tensors::from_parts(tensors, &dtypes, BTreeMap::new(), "state dict")?;
    /// assert_eq!(t.dtypes["w"], "f32");
    /// # Ok::<(), emt_core::Error>(())
    /// ```
    pub fn from_parts(
        tensors: BTreeMap<String, ArrayD<f64>>,
        dtypes: &BTreeMap<String, String>,
        metadata: BTreeMap<String, String>,
        source: &str,
    ) -> Result<Self> {
        let mut kinds = BTreeMap::new();
        for (name, array) in &tensors {
            let kind = match dtypes.get(name).map(String::as_str) {
                Some("f32") => Elem::F32.name(),
                Some("f64") => Elem::F64.name(),
                Some(other) => {
                    return Err(format_err(source, format!("tensor {name}: dtype {other:?} is not f32 or f64")));
                }
                None => return Err(format_err(source, format!("tensor {name} has no dtype"))),
            };
            check::finite(name, array)?;
            kinds.insert(name.clone(), kind);
        }
        if let Some(extra) = dtypes.keys().find(|k| !tensors.contains_key(*k)) {
            return Err(format_err(source, format!("a dtype is given for {extra:?}, which is not a tensor")));
        }
        Ok(Tensors { tensors, dtypes: kinds, metadata, source: source.to_string() })
    }

    /// Reads a safetensors file; its header is checked before the data is read, so a file
    /// that is not one is refused after its first bytes, whatever its size.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = container::read_file(path)?;
        Tensors::from_bytes(&bytes, &path.display().to_string())
    }

    /// The tensor called exactly `name`, or the unique one whose name ends in `.{name}`.
    pub fn find(&self, name: &str) -> Result<(&str, &ArrayD<f64>)> {
        self.find_optional(name)?.ok_or_else(|| {
            format_err(
                &self.source,
                format!("missing tensor {name:?} (have: {:?})", self.tensors.keys().collect::<Vec<_>>()),
            )
        })
    }

    /// Like [`find`](Self::find) but `None` when absent (still an error when ambiguous).
    pub fn find_optional(&self, name: &str) -> Result<Option<(&str, &ArrayD<f64>)>> {
        if let Some((k, v)) = self.tensors.get_key_value(name) {
            return Ok(Some((k.as_str(), v)));
        }
        let suffix = format!(".{name}");
        let hits: Vec<(&String, &ArrayD<f64>)> = self.tensors.iter().filter(|(k, _)| k.ends_with(&suffix)).collect();
        match hits.as_slice() {
            [] => Ok(None),
            [(k, v)] => Ok(Some((k.as_str(), v))),
            many => Err(format_err(
                &self.source,
                format!("tensor name {name:?} is ambiguous: {:?}", many.iter().map(|(k, _)| k).collect::<Vec<_>>()),
            )),
        }
    }

    /// The named tensor as a matrix.
    pub fn matrix(&self, name: &str) -> Result<Array2<f64>> {
        let (key, t) = self.find(name)?;
        t.clone().into_dimensionality().map_err(|_| Error::shape(key, "2-D", check::fmt_shape(t.shape())))
    }

    /// The named tensor as a vector, `None` if absent.
    pub fn vector_optional(&self, name: &str) -> Result<Option<Array1<f64>>> {
        match self.find_optional(name)? {
            None => Ok(None),
            Some((key, t)) => {
                let v = t
                    .clone()
                    .into_dimensionality()
                    .map_err(|_| Error::shape(key, "1-D", check::fmt_shape(t.shape())))?;
                Ok(Some(v))
            }
        }
    }
}

/// Little-endian bytes of `array` in logical row-major order.
fn encode<F: Real>(array: &ArrayViewD<'_, F>) -> (Elem, Vec<u8>) {
    if F::NAME == "f32" {
        (Elem::F32, array.iter().flat_map(|x| (x.f64() as f32).to_le_bytes()).collect())
    } else {
        (Elem::F64, array.iter().flat_map(|x| x.f64().to_le_bytes()).collect())
    }
}

/// Serialises named arrays (any layout) and string metadata to safetensors bytes.
///
/// ```
/// use ndarray::{array, IxDyn};
/// let a = array![[1.0f64, 2.0], [3.0, 4.0]];
/// let at = a.t();                                    // a transposed (Fortran-order) view
/// let bytes = emt_core::io::tensors_to_safetensors(&[("at", at.into_dyn())], &Default::default())?;
/// let back = emt_core::io::Tensors::from_bytes(&bytes, "memory")?;
/// assert_eq!(back.tensors["at"], array![[1.0, 3.0], [2.0, 4.0]].into_dyn());
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn tensors_to_safetensors<F: Real>(
    tensors: &[(&str, ArrayViewD<'_, F>)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    let encoded = tensors
        .iter()
        .map(|(name, a)| {
            let (elem, bytes) = encode(a);
            (name.to_string(), elem, a.shape().to_vec(), bytes)
        })
        .collect();
    container::encode(encoded, metadata)
}

/// What a weights file says about how it was made. Unknown keys are kept in `other`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeightsMetadata {
    /// Task id `"id1,id2,id3"`.
    pub task: Option<String>,
    /// Number of variables.
    pub s: Option<usize>,
    /// Bits per variable.
    pub d: Option<usize>,
    /// Training seed.
    pub seed: Option<u64>,
    /// Training step.
    pub step: Option<u64>,
    /// Free notes: keys under `note.` (`note.epoch`, `note.git`), `planted_basis` (written by
    /// `emt plant`) and `format` (the `"pt"` tag Hugging Face's writers add). Nothing reads
    /// them. Any other key is refused when a file is read or written: a key emt skipped could
    /// change what the file means (a misspelt `activation` would run a relu net as tanh).
    pub other: BTreeMap<String, String>,
}

/// Metadata keys that carry no meaning for the model (see [`WeightsMetadata::other`]).
const FREE_KEYS: [&str; 2] = ["planted_basis", "format"];
/// The prefix of free-note metadata keys.
pub const NOTE_PREFIX: &str = "note.";

fn is_free_key(key: &str) -> bool {
    FREE_KEYS.contains(&key) || (key.starts_with(NOTE_PREFIX) && key.len() > NOTE_PREFIX.len())
}

/// Refuses keys nothing reads, naming them and what is read.
fn refuse_unknown_keys<'a>(keys: impl Iterator<Item = &'a String>, source: &str) -> Result<()> {
    let unknown: Vec<&String> = keys.filter(|k| !is_free_key(k)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(format_err(
        source,
        format!(
            "metadata key(s) {unknown:?} are not read by emt, so the file may not mean what its producer meant \
             (emt reads cell, activation, nonlinearity, num_layers, task, s, d, seed, step and each cell's \
             constants; free notes go under \"{NOTE_PREFIX}\", e.g. {NOTE_PREFIX}epoch)"
        ),
    ))
}

impl WeightsMetadata {
    /// The metadata as written (`activation` only for Elman weights).
    pub(crate) fn to_map(&self, activation: Option<Activation>) -> Result<BTreeMap<String, String>> {
        refuse_unknown_keys(self.other.keys(), "output")?;
        let mut m = self.other.clone();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("task", self.task.clone());
        put("s", self.s.map(|x| x.to_string()));
        put("d", self.d.map(|x| x.to_string()));
        put("seed", self.seed.map(|x| x.to_string()));
        put("step", self.step.map(|x| x.to_string()));
        match activation {
            // PyTorch's own key for its one other nonlinearity; `activation` for ours.
            Some(Activation::Relu) => {
                m.insert("nonlinearity".into(), "relu".into());
            }
            Some(a) => {
                m.insert("activation".into(), a.name().into());
            }
            None => {}
        }
        Ok(m)
    }

    /// Parses metadata, taking out the known keys and `activation`.
    pub(crate) fn from_map(mut m: BTreeMap<String, String>, source: &str) -> Result<(Self, Activation)> {
        fn num<T: std::str::FromStr>(m: &mut BTreeMap<String, String>, k: &str, source: &str) -> Result<Option<T>> {
            match m.remove(k) {
                None => Ok(None),
                Some(v) => {
                    v.parse().map(Some).map_err(|_| format_err(source, format!("metadata {k} = {v:?} is not a number")))
                }
            }
        }
        let activation = activation_of(m.remove("activation"), m.remove("nonlinearity"), source)?;
        let meta = WeightsMetadata {
            task: m.remove("task"),
            s: num(&mut m, "s", source)?,
            d: num(&mut m, "d", source)?,
            seed: num(&mut m, "seed", source)?,
            step: num(&mut m, "step", source)?,
            other: m,
        };
        refuse_unknown_keys(meta.other.keys(), source)?;
        Ok((meta, activation))
    }
}

/// The nonlinearity from the metadata keys `activation` (tanh, identity, relu) and PyTorch's
/// `nonlinearity` (tanh, relu), either absent = tanh; both present must agree.
fn activation_of(activation: Option<String>, nonlinearity: Option<String>, source: &str) -> Result<Activation> {
    let parse = |key: &str, v: &str, allowed: &[Activation]| -> Result<Activation> {
        match v.parse::<Activation>() {
            Ok(a) if allowed.contains(&a) => Ok(a),
            _ => {
                let names: Vec<&str> = allowed.iter().map(|a| a.name()).collect();
                Err(format_err(source, format!("metadata {key} = {v:?} (expected {})", names.join(" or "))))
            }
        }
    };
    let a = activation
        .map(|v| parse("activation", &v, &[Activation::Tanh, Activation::Identity, Activation::Relu]))
        .transpose()?;
    let n = nonlinearity.map(|v| parse("nonlinearity", &v, &[Activation::Tanh, Activation::Relu])).transpose()?;
    match (a, n) {
        (Some(a), Some(n)) if a != n => Err(format_err(
            source,
            format!("metadata activation = {} and nonlinearity = {} disagree", a.name(), n.name()),
        )),
        (a, n) => Ok(a.or(n).unwrap_or_default()),
    }
}

/// Serialises Elman weights under PyTorch's names (dtype follows `F`).
pub fn weights_to_safetensors<F: Real>(w: &ElmanWeights<F>, meta: &WeightsMetadata) -> Result<Vec<u8>> {
    let zeros = Array1::<F>::zeros(w.hidden_dim());
    let mut list: Vec<(&str, ArrayViewD<'_, F>)> = vec![
        ("weight_ih_l0", w.w_ih().into_dyn()),
        ("weight_hh_l0", w.w_hh().into_dyn()),
        ("weight", w.w_r().into_dyn()),
    ];
    if let Some(b) = w.b_h() {
        list.push(("bias_ih_l0", b.into_dyn()));
        list.push(("bias_hh_l0", zeros.view().into_dyn()));
    }
    if let Some(b) = w.b_r() {
        list.push(("bias", b.into_dyn()));
    }
    let mut map = meta.to_map(Some(w.activation()))?;
    map.insert("cell".into(), "elman".into());
    tensors_to_safetensors(&list, &map)
}

/// Reads Elman weights (F32 or F64) saved by emt or by PyTorch; analysis runs in `f64`.
///
/// The file must be exactly one Elman layer with a readout: it is read by the same strict
/// reader as [`ModelFile`](crate::cells::ModelFile) (every tensor and metadata key used), so a
/// stacked, LSTM or readout-less file is an error naming what it is, never a partial read.
pub fn weights_from_safetensors(bytes: &[u8], source: &str) -> Result<(ElmanWeights<f64>, WeightsMetadata)> {
    let t = Tensors::from_bytes(bytes, source)?;
    match t.metadata.get("cell").map(String::as_str) {
        None | Some("elman") => {}
        Some(other) => {
            return Err(format_err(
                source,
                format!("holds a {other} model, not Elman weights (load it with emt_core::cells::ModelFile)"),
            ));
        }
    }
    let file = crate::cells::ModelFile::from_tensors(&t)?;
    if file.h0.is_some() {
        return Err(format_err(
            source,
            "has an h0, which Elman weights cannot hold (load it with emt_core::cells::ModelFile)",
        ));
    }
    match file.model {
        crate::cells::Model::Elman(w) => Ok((w, file.meta)),
        other => Err(format_err(
            source,
            format!(
                "holds a {} model of {} layer(s){}, not one Elman layer with a readout (load it with emt_core::cells::ModelFile)",
                other.kind(),
                other.num_layers(),
                if other.output_dim() == 0 { " without a readout" } else { "" },
            ),
        )),
    }
}

/// Writes Elman weights to a safetensors file.
pub fn save_weights<F: Real>(path: impl AsRef<Path>, w: &ElmanWeights<F>, meta: &WeightsMetadata) -> Result<()> {
    let path = path.as_ref();
    crate::fs::write_atomic(path, &weights_to_safetensors(w, meta)?)
}

/// Reads Elman weights from a safetensors file.
pub fn load_weights(path: impl AsRef<Path>) -> Result<(ElmanWeights<f64>, WeightsMetadata)> {
    let path = path.as_ref();
    let bytes = container::read_file(path)?;
    weights_from_safetensors(&bytes, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, array};

    /// In-memory tensors (a binding's state dict) are refused by name when a dtype is missing,
    /// unknown or given for no tensor, or a value is not finite; accepted ones keep their dtype.
    #[test]
    fn tensors_from_parts_name_what_is_wrong() {
        let one = |v: f64| BTreeMap::from([("w".to_string(), array![v, 1.0].into_dyn())]);
        let dt = |d: &str| BTreeMap::from([("w".to_string(), d.to_string())]);
        let meta = BTreeMap::new;
        let ok = Tensors::from_parts(one(0.5), &dt("f64"), meta(), "sd").unwrap();
        assert_eq!((ok.dtypes["w"], ok.tensors["w"][0]), ("f64", 0.5));
        let err = |t, d: &BTreeMap<String, String>| Tensors::from_parts(t, d, meta(), "sd").unwrap_err().to_string();
        assert!(err(one(0.5), &BTreeMap::new()).contains("tensor w has no dtype"));
        assert!(err(one(0.5), &dt("bf16")).contains("\"bf16\" is not f32 or f64"));
        assert!(err(one(f64::NAN), &dt("f32")).contains("non-finite value NaN in w"));
        let mut extra = dt("f32");
        extra.insert("v".into(), "f32".into());
        assert!(err(one(0.5), &extra).contains("\"v\", which is not a tensor"));
    }

    fn sample() -> ElmanWeights<f64> {
        let w_hh = Array::from_shape_fn((4, 4), |(i, j)| (i as f64 - 1.5) * 0.25 + j as f64 * 0.125);
        ElmanWeights::new(w_hh, Array::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f64 / 7.0), Array2::ones((2, 4)))
            .unwrap()
            .with_biases(Some(array![0.1, 0.2, 0.3, 0.4]), Some(array![-1.0, 1.0]))
            .unwrap()
    }

    #[test]
    fn f64_round_trip_is_exact_with_metadata() {
        let w = sample().with_activation(Activation::Identity);
        let mut meta = WeightsMetadata {
            task: Some("1,2,3".into()),
            s: Some(2),
            d: Some(3),
            seed: Some(7),
            step: Some(99),
            ..Default::default()
        };
        meta.other.insert("note.origin".into(), "planted".into());
        let (back, m) = weights_from_safetensors(&weights_to_safetensors(&w, &meta).unwrap(), "mem").unwrap();
        assert_eq!(back, w);
        assert_eq!(m, meta);
    }

    #[test]
    fn f32_round_trip_rounds_once() {
        let w = sample();
        let (back, _) =
            weights_from_safetensors(&weights_to_safetensors(&w.cast::<f32>(), &Default::default()).unwrap(), "mem")
                .unwrap();
        assert_eq!(back, w.cast::<f32>().cast::<f64>());
        let t = Tensors::from_bytes(&weights_to_safetensors(&w.cast::<f32>(), &Default::default()).unwrap(), "mem")
            .unwrap();
        assert_eq!(t.dtypes["weight_hh_l0"], "f32");
    }

    #[test]
    fn non_standard_layouts_are_written_logically() {
        let a = Array::from_shape_fn((3, 5), |(i, j)| (10 * i + j) as f64);
        let t = a.t();
        let stepped = a.slice(ndarray::s![.., ..;2]);
        let bytes =
            tensors_to_safetensors(&[("t", t.into_dyn()), ("stepped", stepped.into_dyn())], &BTreeMap::new()).unwrap();
        let back = Tensors::from_bytes(&bytes, "mem").unwrap();
        assert_eq!(back.tensors["t"], t.to_owned().into_dyn());
        assert_eq!(back.tensors["stepped"], stepped.to_owned().into_dyn());
    }

    #[test]
    fn corrupt_and_truncated_files_are_format_errors() {
        let bytes = weights_to_safetensors(&sample(), &Default::default()).unwrap();
        for cut in [0, 4, 8, 20, bytes.len() - 1] {
            let e = weights_from_safetensors(&bytes[..cut], "cut").unwrap_err();
            assert!(matches!(e, Error::Format { .. }), "cut at {cut}: {e}");
        }
        let mut garbage = bytes.clone();
        garbage[10] = b'{';
        garbage[11] = 0xff;
        assert!(matches!(weights_from_safetensors(&garbage, "garbage"), Err(Error::Format { .. })));
    }

    #[test]
    fn missing_tensor_bad_dtype_and_ambiguity_are_errors() {
        let a = Array2::<f64>::eye(2);
        let only_hh = tensors_to_safetensors(&[("weight_hh_l0", a.view().into_dyn())], &BTreeMap::new()).unwrap();
        let e = weights_from_safetensors(&only_hh, "partial").unwrap_err();
        assert!(e.to_string().contains("missing tensor \"weight_ih_l0\""), "{e}");

        let raw = vec![0u8; 8];
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::I32, vec![2], &raw).unwrap();
        let ints = safetensors::serialize([("weight_hh_l0", view)], None).unwrap();
        let e = Tensors::from_bytes(&ints, "ints").unwrap_err();
        assert!(e.to_string().contains("unsupported dtype"), "{e}");

        let two = tensors_to_safetensors(
            &[("a.weight", a.view().into_dyn()), ("b.weight", a.view().into_dyn())],
            &BTreeMap::new(),
        )
        .unwrap();
        assert!(
            Tensors::from_bytes(&two, "two").unwrap().find("weight").unwrap_err().to_string().contains("ambiguous")
        );
    }

    #[test]
    fn module_prefixes_and_pytorch_bias_pairs_load() {
        let w = sample();
        let b = w.b_h().unwrap().to_owned();
        let half = &b * 0.5;
        let list = [
            ("rnn.weight_ih_l0", w.w_ih().into_dyn()),
            ("rnn.weight_hh_l0", w.w_hh().into_dyn()),
            ("rnn.bias_ih_l0", half.view().into_dyn()),
            ("rnn.bias_hh_l0", half.view().into_dyn()),
            ("readout.weight", w.w_r().into_dyn()),
            ("readout.bias", w.b_r().unwrap().into_dyn()),
        ];
        let (back, _) =
            weights_from_safetensors(&tensors_to_safetensors(&list, &BTreeMap::new()).unwrap(), "torch").unwrap();
        assert_eq!(back, w);
    }

    #[test]
    fn bad_metadata_is_an_error() {
        let mut m = BTreeMap::new();
        m.insert("step".to_string(), "many".to_string());
        assert!(WeightsMetadata::from_map(m, "x").is_err());
    }

    #[test]
    fn unknown_metadata_keys_are_refused_reading_and_writing() {
        // One flipped byte turned `activation` into `activatiom`: the net must not run as tanh.
        let mut m = BTreeMap::new();
        m.insert("activatiom".to_string(), "relu".to_string());
        let e = WeightsMetadata::from_map(m, "flipped").unwrap_err().to_string();
        assert!(e.contains("\"activatiom\"") && e.contains("note."), "{e}");
        let mut meta = WeightsMetadata::default();
        meta.other.insert("epoch".into(), "3".into());
        let e = weights_to_safetensors(&sample(), &meta).unwrap_err().to_string();
        assert!(e.contains("\"epoch\""), "{e}");
        for free in ["note.epoch", "planted_basis", "format"] {
            let mut m = BTreeMap::new();
            m.insert(free.to_string(), "x".to_string());
            assert_eq!(WeightsMetadata::from_map(m, "free").unwrap().0.other.len(), 1, "{free}");
        }
        let mut m = BTreeMap::new();
        m.insert("note.".to_string(), "x".to_string());
        assert!(WeightsMetadata::from_map(m, "empty note").is_err());
    }

    #[test]
    fn the_elman_loader_refuses_what_it_would_only_half_read() {
        let w = sample();
        let extra = Array2::<f64>::eye(4);
        let list = [
            ("weight_ih_l0", w.w_ih().into_dyn()),
            ("weight_hh_l0", w.w_hh().into_dyn()),
            ("weight_ih_l1", extra.view().into_dyn()),
            ("weight_hh_l1", extra.view().into_dyn()),
            ("weight", w.w_r().into_dyn()),
        ];
        let e = weights_from_safetensors(&tensors_to_safetensors(&list, &BTreeMap::new()).unwrap(), "two")
            .unwrap_err()
            .to_string();
        assert!(e.contains("2 layer"), "{e}");
        let no_readout = [("weight_ih_l0", w.w_ih().into_dyn()), ("weight_hh_l0", w.w_hh().into_dyn())];
        let e = weights_from_safetensors(&tensors_to_safetensors(&no_readout, &BTreeMap::new()).unwrap(), "bare")
            .unwrap_err()
            .to_string();
        assert!(e.contains("without a readout"), "{e}");
    }
}
