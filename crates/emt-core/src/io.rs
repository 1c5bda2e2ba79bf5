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

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ndarray::{Array1, Array2, ArrayD, ArrayViewD, IxDyn};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

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
    /// Errors on a truncated or corrupt header, offsets outside the buffer, or a dtype other
    /// than F32/F64.
    pub fn from_bytes(bytes: &[u8], source: &str) -> Result<Self> {
        let st = SafeTensors::deserialize(bytes)
            .map_err(|e| format_err(source, format!("not a valid safetensors file: {e}")))?;
        let (_, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| format_err(source, format!("invalid header: {e}")))?;
        let metadata: BTreeMap<String, String> = header.metadata().clone().unwrap_or_default().into_iter().collect();
        let mut tensors = BTreeMap::new();
        let mut dtypes = BTreeMap::new();
        for (name, view) in st.tensors() {
            let (values, dtype) =
                decode(&view).map_err(|reason| format_err(source, format!("tensor {name}: {reason}")))?;
            let array = ArrayD::from_shape_vec(IxDyn(view.shape()), values)
                .map_err(|e| format_err(source, format!("tensor {name}: {e}")))?;
            dtypes.insert(name.clone(), dtype);
            tensors.insert(name, array);
        }
        Ok(Tensors { tensors, dtypes, metadata, source: source.to_string() })
    }

    /// Reads a safetensors file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
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

fn decode(view: &TensorView<'_>) -> std::result::Result<(Vec<f64>, &'static str), String> {
    let data = view.data();
    match view.dtype() {
        Dtype::F64 => {
            Ok((data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect(), "f64"))
        }
        Dtype::F32 => Ok((
            data.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as f64).collect(),
            "f32",
        )),
        other => Err(format!("unsupported dtype {other:?} (emt reads F32 and F64)")),
    }
}

/// Little-endian bytes of `array` in logical row-major order.
fn encode<F: Real>(array: &ArrayViewD<'_, F>) -> (Dtype, Vec<u8>) {
    if F::NAME == "f32" {
        (Dtype::F32, array.iter().flat_map(|x| (x.f64() as f32).to_le_bytes()).collect())
    } else {
        (Dtype::F64, array.iter().flat_map(|x| x.f64().to_le_bytes()).collect())
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
    let encoded: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, a)| {
            let (dtype, bytes) = encode(a);
            (name.to_string(), dtype, a.shape().to_vec(), bytes)
        })
        .collect();
    let mut views = Vec::with_capacity(encoded.len());
    for (name, dtype, shape, bytes) in &encoded {
        let view = TensorView::new(*dtype, shape.clone(), bytes)
            .map_err(|e| format_err(name, format!("cannot encode: {e}")))?;
        views.push((name.clone(), view));
    }
    let meta: HashMap<String, String> = metadata.clone().into_iter().collect();
    safetensors::serialize(views, if meta.is_empty() { None } else { Some(meta) })
        .map_err(|e| format_err("output", format!("cannot serialise: {e}")))
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
    /// Any other metadata.
    pub other: BTreeMap<String, String>,
}

impl WeightsMetadata {
    /// The metadata as written (`activation` only for Elman weights).
    pub(crate) fn to_map(&self, activation: Option<Activation>) -> BTreeMap<String, String> {
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
        m
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
    let mut map = meta.to_map(Some(w.activation()));
    map.insert("cell".into(), "elman".into());
    tensors_to_safetensors(&list, &map)
}

/// Reads Elman weights (F32 or F64) saved by emt or by PyTorch; analysis runs in `f64`.
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
    let b_ih = t.vector_optional("bias_ih_l0")?;
    let b_hh = t.vector_optional("bias_hh_l0")?;
    let b_h = match (b_ih, b_hh) {
        (Some(a), Some(b)) if a.len() == b.len() => Some(a + b),
        (Some(a), Some(b)) => {
            return Err(Error::shape("bias_hh_l0", check::fmt_shape(&[a.len()]), check::fmt_shape(&[b.len()])));
        }
        (Some(a), None) | (None, Some(a)) => Some(a),
        (None, None) => None,
    };
    let mut map = t.metadata.clone();
    map.remove("cell");
    let (meta, activation) = WeightsMetadata::from_map(map, source)?;
    let w = ElmanWeights::new(t.matrix("weight_hh_l0")?, t.matrix("weight_ih_l0")?, t.matrix("weight")?)?
        .with_biases(b_h, t.vector_optional("bias")?)?
        .with_activation(activation);
    Ok((w, meta))
}

/// Writes Elman weights to a safetensors file.
pub fn save_weights<F: Real>(path: impl AsRef<Path>, w: &ElmanWeights<F>, meta: &WeightsMetadata) -> Result<()> {
    let path = path.as_ref();
    std::fs::write(path, weights_to_safetensors(w, meta)?).map_err(|e| Error::file(path, e))
}

/// Reads Elman weights from a safetensors file.
pub fn load_weights(path: impl AsRef<Path>) -> Result<(ElmanWeights<f64>, WeightsMetadata)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    weights_from_safetensors(&bytes, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, array};

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
        meta.other.insert("note".into(), "planted".into());
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
        let view = TensorView::new(Dtype::I32, vec![2], &raw).unwrap();
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
}
