//! A seeded, structure-aware mutator of safetensors files, for fuzzing emt's loaders and the
//! analyses behind them on the stable toolchain (no cargo-fuzz): every case is reproducible
//! from `(seed, case index)`.
//!
//! Besides blind byte flips and truncations it edits what a file *means*: the header's dtype,
//! shape and offsets, duplicate keys, metadata of the wrong type, range or name, tensors
//! dropped, emptied or filled with NaN / inf / huge values, and weights scaled by 1e6 (the
//! files that made `emt cycle` run for a minute). Mutations that keep the container valid
//! re-serialise the header with its correct length, so they reach the model reader instead of
//! stopping at the container check.
//!
//! ```
//! use emt_testkit::fuzz::Mutator;
//! let file = emt_core::io::tensors_to_safetensors(
//!     &[("weight_hh_l0", ndarray::Array2::<f64>::eye(2).view().into_dyn())],
//!     &Default::default(),
//! )?;
//! let mut m = Mutator::new(7);
//! let (what, bytes) = m.mutate(&file);
//! assert!(!what.is_empty());
//! assert_eq!(Mutator::new(7).mutate(&file), (what, bytes)); // reproducible
//! # Ok::<(), emt_core::Error>(())
//! ```

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

/// Values written into tensors: non-finite, huge, tiny and negative-zero.
const NASTY: [f64; 8] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300, 1e-310, -0.0, 3e38];

/// Metadata values of the wrong type or range.
const BAD_VALUES: [&str; 10] =
    ["", "nan", "inf", "-1", "0", "1e308", "abc", "elman", "3.5e-400", "18446744073709551616"];

/// Keys emt knows (to be edited) and keys it does not (to be added).
const KEYS: [&str; 14] = [
    "cell",
    "activation",
    "nonlinearity",
    "alpha",
    "dt",
    "num_layers",
    "omega",
    "kappa",
    "tau_z",
    "step",
    "activatiom",
    "epoch",
    "note.x",
    "planted_basis",
];

/// The kind of a mutation from its description (for tallies): `flip`, `truncate`,
/// `header-length`, `dtype`, `shape`, `offsets`, `duplicate`, `metadata`, `value`, `scale`,
/// `drop`, `empty`.
pub fn kind_of(description: &str) -> &'static str {
    const KINDS: [(&str, &str); 12] = [
        ("flip", "flip"),
        ("truncate", "truncate"),
        ("header length", "header-length"),
        ("empty", "empty"),
        ("dtype", "dtype"),
        ("shape", "shape"),
        ("offsets", "offsets"),
        ("duplicate", "duplicate"),
        ("metadata", "metadata"),
        ("drop", "drop"),
        (" scaled ", "scale"),
        ("] = ", "value"),
    ];
    KINDS.iter().find(|(needle, _)| description.contains(needle)).map_or("other", |(_, k)| k)
}

/// A safetensors file taken apart: header entries in order, and the data section.
struct Parts {
    header: Map<String, Value>,
    data: Vec<u8>,
}

fn split(bytes: &[u8]) -> Option<Parts> {
    let n = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?) as usize;
    let json = bytes.get(8..8usize.checked_add(n)?)?;
    let header: Map<String, Value> = serde_json::from_slice(json).ok()?;
    Some(Parts { header, data: bytes[8 + n..].to_vec() })
}

fn join(header_text: &str, data: &[u8]) -> Vec<u8> {
    let mut text = header_text.as_bytes().to_vec();
    while text.len() % 8 != 0 {
        text.push(b' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&text);
    out.extend_from_slice(data);
    out
}

/// The seeded mutator; one instance yields a reproducible stream of cases.
pub struct Mutator {
    rng: ChaCha8Rng,
}

impl Mutator {
    /// A mutator whose stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Mutator { rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// One mutation of `file`: its name (with its parameters) and the mutated bytes.
    pub fn mutate(&mut self, file: &[u8]) -> (String, Vec<u8>) {
        let kind = self.rng.random_range(0..14u32);
        let structured = match split(file) {
            Some(parts) if kind >= 3 => self.structured(kind, parts),
            _ => None,
        };
        structured.unwrap_or_else(|| self.blind(kind, file))
    }

    /// Byte flips, truncations, a wrong header length.
    fn blind(&mut self, kind: u32, file: &[u8]) -> (String, Vec<u8>) {
        let mut out = file.to_vec();
        if out.is_empty() {
            return ("empty".into(), out);
        }
        match kind % 3 {
            0 => {
                let flips = self.rng.random_range(1..=4);
                let mut at = Vec::new();
                for _ in 0..flips {
                    // Half the flips land in the header, where they change meaning most.
                    let limit = if self.rng.random_bool(0.5) { out.len().min(512) } else { out.len() };
                    let i = self.rng.random_range(0..limit);
                    out[i] ^= 1 << self.rng.random_range(0..8);
                    at.push(i);
                }
                (format!("flip bytes {at:?}"), out)
            }
            1 => {
                let len = self.rng.random_range(0..out.len());
                out.truncate(len);
                (format!("truncate to {len}"), out)
            }
            _ => {
                let n: u64 = match self.rng.random_range(0..4) {
                    0 => u64::MAX,
                    1 => 1 << 40,
                    2 => 0,
                    _ => self.rng.random_range(0..(file.len() as u64 * 2)),
                };
                out.resize(out.len().max(8), 0);
                out[..8].copy_from_slice(&n.to_le_bytes());
                (format!("header length {n}"), out)
            }
        }
    }

    fn pick_tensor(&mut self, header: &Map<String, Value>) -> Option<String> {
        let names: Vec<&String> = header.keys().filter(|k| *k != "__metadata__").collect();
        (!names.is_empty()).then(|| names[self.rng.random_range(0..names.len())].clone())
    }

    /// Edits that keep (or deliberately break) the header's structure.
    fn structured(&mut self, kind: u32, mut p: Parts) -> Option<(String, Vec<u8>)> {
        let text = |h: &Map<String, Value>| Value::Object(h.clone()).to_string();
        let what = match kind {
            3 => {
                let t = self.pick_tensor(&p.header)?;
                let to = ["F16", "BF16", "I32", "I64", "U8", "BOOL", "F8_E4M3", "X"][self.rng.random_range(0..8)];
                p.header[&t]["dtype"] = Value::from(to);
                format!("dtype of {t} -> {to}")
            }
            4 => {
                let t = self.pick_tensor(&p.header)?;
                let shape = p.header[&t]["shape"].as_array()?.clone();
                let mut shape: Vec<u64> = shape.iter().filter_map(Value::as_u64).collect();
                match self.rng.random_range(0..5) {
                    0 if !shape.is_empty() => {
                        let i = self.rng.random_range(0..shape.len());
                        shape[i] = shape[i].wrapping_add(1);
                    }
                    1 => shape.push(1),
                    2 if !shape.is_empty() => {
                        shape.pop();
                    }
                    3 if !shape.is_empty() => shape.reverse(),
                    _ => shape = vec![1 << 32, 1 << 32],
                }
                p.header[&t]["shape"] = Value::from(shape.clone());
                format!("shape of {t} -> {shape:?}")
            }
            5 => {
                let t = self.pick_tensor(&p.header)?;
                let b = self.rng.random_range(0..(p.data.len() as u64 + 16));
                let e = if self.rng.random_bool(0.2) {
                    u64::MAX
                } else {
                    self.rng.random_range(0..(p.data.len() as u64 + 16))
                };
                p.header[&t]["data_offsets"] = Value::from(vec![b, e]);
                format!("offsets of {t} -> [{b}, {e}]")
            }
            6 => {
                // A duplicate key: JSON text with one entry twice (the second wins in most readers).
                let t = self.pick_tensor(&p.header)?;
                let entry = p.header[&t].to_string();
                let body = text(&p.header);
                let doubled = format!("{},\"{t}\":{entry}}}", &body[..body.len() - 1]);
                return Some((format!("duplicate entry {t}"), join(&doubled, &p.data)));
            }
            7 => {
                let key = KEYS[self.rng.random_range(0..KEYS.len())];
                let body = text(&p.header);
                let doubled = match p.header.get("__metadata__") {
                    Some(_) => body.replacen("\"__metadata__\":{", &format!("\"__metadata__\":{{\"{key}\":\"1\","), 1),
                    None => return None,
                };
                return Some((format!("metadata key {key} added twice or first"), join(&doubled, &p.data)));
            }
            8 => {
                let key = KEYS[self.rng.random_range(0..KEYS.len())];
                let value = BAD_VALUES[self.rng.random_range(0..BAD_VALUES.len())];
                let meta = p.header.entry("__metadata__").or_insert_with(|| Value::Object(Map::new()));
                meta.as_object_mut()?.insert(key.to_string(), Value::from(value));
                format!("metadata {key} = {value:?}")
            }
            9 => {
                let meta = p.header.entry("__metadata__").or_insert_with(|| Value::Object(Map::new()));
                let key = KEYS[self.rng.random_range(0..KEYS.len())];
                meta.as_object_mut()?.insert(key.to_string(), Value::from(0.5));
                format!("metadata {key} as a number")
            }
            10 | 11 => {
                let t = self.pick_tensor(&p.header)?;
                let dtype = p.header[&t]["dtype"].as_str()?.to_string();
                let offsets = p.header[&t]["data_offsets"].as_array()?;
                let (b, e) = (offsets[0].as_u64()? as usize, offsets[1].as_u64()? as usize);
                let width = match dtype.as_str() {
                    "F64" => 8,
                    "F32" => 4,
                    _ => return None,
                };
                let count = (e.checked_sub(b)?) / width;
                if count == 0 || e > p.data.len() {
                    return None;
                }
                let write = |data: &mut [u8], i: usize, v: f64| {
                    let at = b + i * width;
                    if width == 8 {
                        data[at..at + 8].copy_from_slice(&v.to_le_bytes());
                    } else {
                        data[at..at + 4].copy_from_slice(&(v as f32).to_le_bytes());
                    }
                };
                let read = |data: &[u8], i: usize| -> f64 {
                    let at = b + i * width;
                    if width == 8 {
                        f64::from_le_bytes(data[at..at + 8].try_into().unwrap_or([0; 8]))
                    } else {
                        f32::from_le_bytes(data[at..at + 4].try_into().unwrap_or([0; 4])) as f64
                    }
                };
                if kind == 10 {
                    let v = NASTY[self.rng.random_range(0..NASTY.len())];
                    let i = self.rng.random_range(0..count);
                    write(&mut p.data, i, v);
                    return Some((format!("{t}[{i}] = {v:e}"), join(&text(&p.header), &p.data)));
                }
                let scale = [1e6, -1e6, 1e-6, 1e30][self.rng.random_range(0..4)];
                for i in 0..count {
                    let v = read(&p.data, i) * scale;
                    write(&mut p.data, i, v);
                }
                return Some((format!("{t} scaled by {scale:e}"), join(&text(&p.header), &p.data)));
            }
            12 => {
                // Drop a tensor (its bytes go too, so the file stays a valid container).
                let t = self.pick_tensor(&p.header)?;
                return Some(drop_tensor(p, &t, false));
            }
            _ => {
                // Empty a tensor: shape with a 0, no bytes.
                let t = self.pick_tensor(&p.header)?;
                return Some(drop_tensor(p, &t, true));
            }
        };
        Some((what, join(&text(&p.header), &p.data)))
    }
}

/// Removes tensor `t` (or keeps it with a zero-size shape) and its bytes, shifting the others.
fn drop_tensor(mut p: Parts, t: &str, keep_empty: bool) -> (String, Vec<u8>) {
    let span = p.header[t]["data_offsets"].as_array().and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)));
    let Some((b, e)) = span.filter(|(b, e)| b <= e && *e as usize <= p.data.len()) else {
        return (format!("drop {t} (offsets invalid, unchanged)"), join(&Value::Object(p.header).to_string(), &p.data));
    };
    p.data.drain(b as usize..e as usize);
    let len = e - b;
    for (_, v) in p.header.iter_mut() {
        if let Some(o) = v.get_mut("data_offsets").and_then(Value::as_array_mut) {
            for x in o.iter_mut() {
                if let Some(at) = x.as_u64().filter(|at| *at >= e) {
                    *x = Value::from(at - len);
                }
            }
        }
    }
    let what = if keep_empty {
        let rank = p.header[t]["shape"].as_array().map_or(1, Vec::len).max(1);
        let mut shape = vec![Value::from(1); rank];
        shape[0] = Value::from(0);
        p.header[t]["shape"] = Value::from(shape);
        p.header[t]["data_offsets"] = Value::from(vec![b, b]);
        format!("empty {t}")
    } else {
        p.header.remove(t);
        format!("drop {t}")
    };
    (what, join(&Value::Object(p.header).to_string(), &p.data))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut meta = std::collections::BTreeMap::new();
        meta.insert("cell".to_string(), "elman".to_string());
        let w = ndarray::Array2::<f64>::eye(3);
        let v = ndarray::Array2::<f64>::ones((3, 2));
        emt_core::io::tensors_to_safetensors(
            &[("weight_hh_l0", w.view().into_dyn()), ("weight_ih_l0", v.view().into_dyn())],
            &meta,
        )
        .unwrap()
    }

    #[test]
    fn every_kind_of_mutation_occurs_and_the_stream_is_reproducible() {
        let file = sample();
        let mut m = Mutator::new(1);
        let names: Vec<String> = (0..400).map(|_| m.mutate(&file).0).collect();
        for needle in [
            "flip",
            "truncate",
            "header length",
            "dtype",
            "shape",
            "offsets",
            "duplicate",
            "metadata",
            "scaled",
            "drop",
            "empty",
        ] {
            assert!(names.iter().any(|n| n.contains(needle)), "{needle} never occurs");
        }
        let mut again = Mutator::new(1);
        let second: Vec<String> = (0..400).map(|_| again.mutate(&file).0).collect();
        assert_eq!(names, second);
    }

    #[test]
    fn structure_keeping_mutations_leave_a_valid_container() {
        // Dropping a tensor or filling it with NaN keeps the container readable, so the case
        // reaches the model reader (that is what makes the mutation worth running).
        let file = sample();
        let mut m = Mutator::new(2);
        let mut reached = 0;
        for _ in 0..300 {
            let (what, bytes) = m.mutate(&file);
            if what.starts_with("drop") || what.starts_with("empty") || what.contains("] = ") || what.contains("scaled")
            {
                emt_core::io::Tensors::from_bytes(&bytes, &what).unwrap_or_else(|e| panic!("{what}: {e}"));
                reached += 1;
            }
        }
        assert!(reached > 40, "{reached}");
    }
}
