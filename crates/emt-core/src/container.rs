//! The safetensors container, read and written by emt itself, so that
//!
//! - a file is checked before anything is allocated from it: the 8-byte header length, the
//!   header's size against the file's, then every tensor's dtype, shape and offsets against the
//!   bytes really present (a corrupt header can never make us allocate more than the file holds,
//!   and a 2 GB file that is no safetensors file is refused after reading 8 bytes);
//! - duplicate names (tensors, or metadata keys) are an error naming them: JSON readers keep the
//!   last of two equal keys, so a duplicate would otherwise silently pick one of two meanings;
//! - writing is byte-for-byte deterministic: metadata keys and tensors in sorted order (the
//!   `safetensors` crate writes metadata in hash order, so two identical runs gave different
//!   files).
//!
//! The layout is the format's own: `u64` little-endian header length `n`, `n` bytes of JSON
//! (`{"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}}`,
//! padded with spaces to a multiple of 8), then the data, each tensor little-endian row-major.
//! Files written here are read by `safetensors`/PyTorch and the other way round (tested).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::{Error, Result};

/// The largest header read (the `safetensors` crate's own limit).
const MAX_HEADER: u64 = 100_000_000;

fn format_err(source: &str, reason: impl Into<String>) -> Error {
    Error::Format { path: source.to_string(), reason: reason.into() }
}

/// A stored element type emt reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem {
    F32,
    F64,
}

impl Elem {
    fn width(self) -> u64 {
        match self {
            Elem::F32 => 4,
            Elem::F64 => 8,
        }
    }

    /// The header's spelling.
    fn tag(self) -> &'static str {
        match self {
            Elem::F32 => "F32",
            Elem::F64 => "F64",
        }
    }

    /// emt's short name (`"f32"`, `"f64"`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Elem::F32 => "f32",
            Elem::F64 => "f64",
        }
    }
}

/// One tensor's entry in a checked header.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub name: String,
    pub elem: Elem,
    pub shape: Vec<usize>,
    /// Byte range in the data section.
    pub begin: usize,
    pub end: usize,
}

/// A header whose every entry has been checked against the data section's length.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub metadata: BTreeMap<String, String>,
    /// Sorted by `begin`.
    pub entries: Vec<Entry>,
}

/// The raw header as JSON says it, with duplicates refused while parsing.
struct RawHeader {
    metadata: BTreeMap<String, String>,
    tensors: Vec<(String, RawEntry)>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

struct HeaderVisitor;

impl<'de> Visitor<'de> for HeaderVisitor {
    type Value = RawHeader;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of tensor entries and __metadata__")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<RawHeader, A::Error> {
        let mut seen = BTreeSet::new();
        let mut metadata = None;
        let mut tensors = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("duplicate entry {key:?} in the header")));
            }
            if key == "__metadata__" {
                metadata = Some(map.next_value::<MetadataMap>()?.0);
            } else {
                let entry =
                    map.next_value::<RawEntry>().map_err(|e| de::Error::custom(format!("tensor {key}: {e}")))?;
                tensors.push((key, entry));
            }
        }
        Ok(RawHeader { metadata: metadata.unwrap_or_default(), tensors })
    }
}

impl<'de> serde::Deserialize<'de> for RawHeader {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(HeaderVisitor)
    }
}

/// `__metadata__`: string keys to string values, no key twice.
struct MetadataMap(BTreeMap<String, String>);

impl<'de> serde::Deserialize<'de> for MetadataMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MetadataMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("__metadata__ as an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<MetadataMap, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(de::Error::custom(format!("duplicate metadata key {key:?}")));
                    }
                    let value = map.next_value::<serde_json::Value>()?;
                    let serde_json::Value::String(value) = value else {
                        return Err(de::Error::custom(format!("metadata {key} = {value} is not a string")));
                    };
                    out.insert(key, value);
                }
                Ok(MetadataMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Checks the first 8 bytes: the header length, within the limit and within the file.
fn header_len(first: &[u8], total: u64, source: &str) -> Result<u64> {
    let Some(prefix) = first.get(..8) else {
        return Err(format_err(source, format!("{total} bytes: too short for a safetensors header length (8 bytes)")));
    };
    let mut le = [0u8; 8];
    le.copy_from_slice(prefix);
    let n = u64::from_le_bytes(le);
    if n > MAX_HEADER {
        return Err(format_err(source, format!("header length {n} bytes is over the limit of {MAX_HEADER}")));
    }
    if n > total - 8 {
        return Err(format_err(source, format!("header length {n} bytes, but only {} bytes follow", total - 8)));
    }
    Ok(n)
}

/// Parses and checks a header against a data section of `data_len` bytes.
fn parse_header(json: &[u8], data_len: u64, source: &str) -> Result<Header> {
    let raw: RawHeader =
        serde_json::from_slice(json).map_err(|e| format_err(source, format!("invalid header: {e}")))?;
    let mut entries = Vec::with_capacity(raw.tensors.len());
    for (name, e) in raw.tensors {
        let bad = |reason: String| format_err(source, format!("tensor {name}: {reason}"));
        let elem = match e.dtype.as_str() {
            "F32" => Elem::F32,
            "F64" => Elem::F64,
            other => return Err(bad(format!("unsupported dtype {other} (emt reads F32 and F64)"))),
        };
        let count = e.shape.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
        let bytes = count.and_then(|c| c.checked_mul(elem.width()));
        let (begin, end) = e.data_offsets;
        match bytes {
            Some(b) if end >= begin && end - begin == b && end <= data_len => {}
            _ => {
                return Err(bad(format!(
                    "shape {:?} of {} needs {} bytes, but data_offsets are [{begin}, {end}] in a data section of {data_len} bytes",
                    e.shape,
                    e.dtype,
                    bytes.map_or("more than 2^64".into(), |b| b.to_string()),
                )));
            }
        }
        let shape: Vec<usize> = e
            .shape
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad(format!("shape {:?} does not fit this machine's address space", e.shape)))?;
        // end <= data_len, which is at most the length of a buffer in memory.
        entries.push(Entry { name, elem, shape, begin: begin as usize, end: end as usize });
    }
    entries.sort_by_key(|e| (e.begin, e.end));
    // The data section must be exactly the tensors, back to back: a gap or an overlap means
    // two tensors share bytes or bytes belong to none, neither of which a writer produces.
    let mut at = 0usize;
    for e in &entries {
        if e.begin != at {
            return Err(format_err(
                source,
                format!("tensor {}: data starts at byte {} but the previous tensor ends at {at}", e.name, e.begin),
            ));
        }
        at = e.end;
    }
    if at as u64 != data_len {
        return Err(format_err(source, format!("tensors cover {at} bytes of a data section of {data_len} bytes")));
    }
    Ok(Header { metadata: raw.metadata, entries })
}

/// Splits safetensors bytes into a checked header and the data section.
pub(crate) fn parse<'a>(bytes: &'a [u8], source: &str) -> Result<(Header, &'a [u8])> {
    let n = header_len(bytes, bytes.len() as u64, source)? as usize;
    let data = &bytes[8 + n..];
    let header = parse_header(&bytes[8..8 + n], data.len() as u64, source)?;
    Ok((header, data))
}

/// Reads a file, checking its header before reading (and allocating for) the data.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    let source = path.display().to_string();
    let mut file = std::fs::File::open(path).map_err(|e| Error::file(path, e))?;
    let meta = file.metadata().map_err(|e| Error::file(path, e))?;
    if !meta.is_file() {
        return Err(format_err(&source, "is not a regular file"));
    }
    let total = meta.len();
    let mut first = Vec::with_capacity(8);
    (&mut file).take(8).read_to_end(&mut first).map_err(|e| Error::file(path, e))?;
    let n = header_len(&first, total, &source)?;
    let mut json = Vec::with_capacity(n as usize);
    (&mut file).take(n).read_to_end(&mut json).map_err(|e| Error::file(path, e))?;
    parse_header(&json, total - 8 - n, &source)?;
    let mut bytes = Vec::with_capacity(total as usize);
    bytes.extend_from_slice(&first);
    bytes.extend_from_slice(&json);
    file.take(total - 8 - n).read_to_end(&mut bytes).map_err(|e| Error::file(path, e))?;
    if bytes.len() as u64 != total {
        return Err(format_err(&source, format!("changed while read: {} bytes, then {}", total, bytes.len())));
    }
    Ok(bytes)
}

/// Decodes one checked entry to `f64` (F32 widens exactly).
pub(crate) fn decode(entry: &Entry, data: &[u8]) -> Vec<f64> {
    let raw = &data[entry.begin..entry.end];
    match entry.elem {
        Elem::F64 => {
            raw.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect()
        }
        Elem::F32 => raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect(),
    }
}

/// Writes tensors (name, element type, shape, little-endian bytes) and metadata: sorted names,
/// no name twice, no name `__metadata__`.
pub(crate) fn encode(
    mut tensors: Vec<(String, Elem, Vec<usize>, Vec<u8>)>,
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>> {
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    for pair in tensors.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(Error::param("tensor name", &pair[0].0, "is given twice"));
        }
    }
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        let m: serde_json::Map<String, serde_json::Value> =
            metadata.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
        header.insert("__metadata__".into(), m.into());
    }
    let mut at = 0usize;
    for (name, elem, shape, bytes) in &tensors {
        if name == "__metadata__" {
            return Err(Error::param("tensor name", name, "is reserved for the metadata"));
        }
        let count: usize = shape.iter().product();
        if count * elem.width() as usize != bytes.len() {
            return Err(Error::param("tensor", name, format!("{} bytes for shape {shape:?}", bytes.len())));
        }
        let entry = serde_json::json!({"dtype": elem.tag(), "shape": shape, "data_offsets": [at, at + bytes.len()]});
        header.insert(name.clone(), entry);
        at += bytes.len();
    }
    // serde_json's map is ordered by key (no `preserve_order`), so the text is deterministic.
    let mut json = serde_json::to_vec(&serde_json::Value::Object(header))
        .map_err(|e| format_err("output", format!("cannot serialise the header: {e}")))?;
    while json.len() % 8 != 0 {
        json.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + at);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for (_, _, _, bytes) in &tensors {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// The bytes' metadata keys as the header lists them, any duplicates included (for tests).
#[cfg(test)]
pub(crate) fn raw_keys(bytes: &[u8]) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        map.next_value::<de::IgnoredAny>()?;
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice::<Keys>(&bytes[8..8 + n]).unwrap().0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64_bytes(v: &[f64]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// A file from a raw header text and data (for hand-made corruptions).
    fn raw_file(json: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (json.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(json.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn writing_is_deterministic_and_the_safetensors_crate_reads_it() {
        let mut meta = BTreeMap::new();
        for k in ["zeta", "alpha", "cell", "mid", "b", "a"] {
            meta.insert(k.to_string(), format!("v{k}"));
        }
        let tensors = vec![
            ("w".to_string(), Elem::F64, vec![2], f64_bytes(&[1.0, 2.0])),
            ("a".to_string(), Elem::F32, vec![1], 3.5f32.to_le_bytes().to_vec()),
        ];
        let one = encode(tensors.clone(), &meta).unwrap();
        let mut reversed = tensors.clone();
        reversed.reverse();
        assert_eq!(one, encode(reversed, &meta).unwrap(), "byte identity whatever the call order");
        assert_eq!(raw_keys(&one), ["__metadata__", "a", "w"]);
        let st = safetensors::SafeTensors::deserialize(&one).unwrap();
        assert_eq!(st.tensor("w").unwrap().data(), f64_bytes(&[1.0, 2.0]).as_slice());
        let (_, header) = safetensors::SafeTensors::read_metadata(&one).unwrap();
        assert_eq!(header.metadata().as_ref().unwrap().len(), 6);
        let (h, data) = parse(&one, "mem").unwrap();
        assert_eq!(h.metadata, meta);
        assert_eq!(decode(&h.entries[1], data), [1.0, 2.0]);
        assert_eq!(decode(&h.entries[0], data), [3.5]);
    }

    #[test]
    fn duplicate_names_are_refused_both_ways() {
        let dup = raw_file(
            r#"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"w":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}"#,
            &f64_bytes(&[1.0, 2.0]),
        );
        let e = parse(&dup, "dup").unwrap_err().to_string();
        assert!(e.contains("duplicate entry \"w\""), "{e}");
        let dup_meta = raw_file(r#"{"__metadata__":{"cell":"gru","cell":"elman"}}"#, &[]);
        let e = parse(&dup_meta, "dupm").unwrap_err().to_string();
        assert!(e.contains("duplicate metadata key \"cell\""), "{e}");
        let t = ("x".to_string(), Elem::F64, vec![1], f64_bytes(&[0.0]));
        let e = encode(vec![t.clone(), t], &BTreeMap::new()).unwrap_err().to_string();
        assert!(e.contains("given twice"), "{e}");
    }

    #[test]
    fn headers_that_claim_more_than_the_file_holds_are_refused_before_allocating() {
        let cases: [(&str, Vec<u8>, &str); 7] = [
            ("short", vec![1, 2, 3], "too short"),
            ("huge length", u64::MAX.to_le_bytes().to_vec(), "over the limit"),
            ("past the end", raw_file("{}", &[])[..9].to_vec(), "follow"),
            (
                "overflowing shape",
                raw_file(r#"{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, &[0; 8]),
                "more than 2^64",
            ),
            ("gap", raw_file(r#"{"w":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}"#, &[0; 16]), "previous"),
            ("tail", raw_file(r#"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, &[0; 12]), "cover 8"),
            ("dtype", raw_file(r#"{"w":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, &[0; 8]), "I64"),
        ];
        for (what, bytes, needle) in cases {
            let e = parse(&bytes, what).map(|_| ()).unwrap_err().to_string();
            assert!(e.contains(needle), "{what}: {e}");
        }
        let e = parse(&raw_file(r#"{"__metadata__":{"alpha":0.5}}"#, &[]), "num").unwrap_err().to_string();
        assert!(e.contains("metadata alpha = 0.5 is not a string"), "{e}");
        let e = parse(&raw_file(r#"{"w":{"dtype":"F64","shape":[0],"data_offsets":[0,0],"extra":1}}"#, &[]), "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("tensor w") && e.contains("extra"), "{e}");
    }

    #[test]
    fn a_large_file_that_is_not_safetensors_is_refused_after_its_first_bytes() {
        let dir = std::env::temp_dir().join(format!("emt-container-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.bin");
        // A sparse 4 GiB file: costs no disk, and reading it whole would take seconds and 4 GiB.
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(4 << 30).unwrap();
        drop(f);
        let e = read_file(&path).unwrap_err().to_string();
        assert!(e.contains("invalid header") || e.contains("over the limit"), "{e}");
        let e = read_file(&dir).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
