//! One scalar of a model file, addressed by name: a tensor element or a metadata constant.

use crate::io::Tensors;
use crate::{Error, Result};

/// Where a scalar of a model file lives: element `flat` (row-major) of tensor `name`, or a
/// metadata constant (`alpha`, `dt`, ...). Parsed from `weight_hh_l0[4,0]` (one index per
/// axis), `weight_hh_l0[17]` (flat index) or `alpha`; used to sweep or perturb one parameter.
///
/// ```
/// use emt_core::io::{ParamPath, Tensors, tensors_to_safetensors};
/// let w = ndarray::Array2::<f64>::zeros((2, 3)).into_dyn();
/// let meta = [("alpha".to_string(), "0.5".to_string())].into_iter().collect();
/// let t = Tensors::from_bytes(&tensors_to_safetensors(&[("w", w.view())], &meta)?, "memory")?;
/// let p = ParamPath::parse("w[1,2]", &t)?;
/// assert_eq!(p, ParamPath::Tensor { name: "w".into(), flat: 5 });
/// let moved = p.set(&t, 2.5)?;
/// assert_eq!((p.get(&t), p.get(&moved)), (Some(0.0), Some(2.5)));
/// assert_eq!(ParamPath::parse("alpha", &t)?.get(&t), Some(0.5));
/// assert!(ParamPath::parse("w[2,0]", &t).is_err());  // row 2 of 2
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamPath {
    /// Element `flat` (row-major) of tensor `name`.
    Tensor {
        /// The tensor's name in the file.
        name: String,
        /// Row-major index into it.
        flat: usize,
    },
    /// A metadata constant (any key but `cell`).
    Constant(String),
}

impl ParamPath {
    /// Parses `spec` against the file `t`: the tensor must exist and the index be in range (one
    /// index per axis, or one flat index); a constant takes no index. Errors name `spec` and
    /// say what the file has.
    pub fn parse(spec: &str, t: &Tensors) -> Result<ParamPath> {
        let bad = |why: String| Error::param("parameter", spec, why);
        let (name, index) = match spec.split_once('[') {
            Some((name, rest)) => {
                let inner = rest.strip_suffix(']').ok_or_else(|| bad("expected NAME[INDEX]".into()))?;
                let idx: std::result::Result<Vec<usize>, _> =
                    inner.split(',').map(|s| s.trim().parse::<usize>()).collect();
                (name, Some(idx.map_err(|_| bad(format!("index {inner:?} is not a list of integers")))?))
            }
            None => (spec, None),
        };
        if let Some(a) = t.tensors.get(name) {
            let index = index.ok_or_else(|| bad(format!("tensor {name} {:?} needs an index", a.shape())))?;
            let flat = match index.as_slice() {
                [k] => *k,
                ks if ks.len() == a.ndim() => {
                    if let Some((axis, (&k, &len))) =
                        ks.iter().zip(a.shape()).enumerate().find(|(_, (k, len))| **k >= **len)
                    {
                        return Err(bad(format!("index {k} on axis {axis} is out of range (length {len})")));
                    }
                    ks.iter().zip(a.shape()).fold(0, |acc, (&k, &len)| acc * len + k)
                }
                ks => return Err(bad(format!("{} indices for a {}-D tensor", ks.len(), a.ndim()))),
            };
            if flat >= a.len() {
                return Err(bad(format!("index {flat} is out of range: {name} has {} values", a.len())));
            }
            return Ok(ParamPath::Tensor { name: name.to_string(), flat });
        }
        if t.metadata.contains_key(name) && name != "cell" {
            if index.is_some() {
                return Err(bad(format!("{name} is a scalar constant: no index")));
            }
            return Ok(ParamPath::Constant(name.to_string()));
        }
        let mut known: Vec<&str> = t.tensors.keys().map(|s| s.as_str()).collect();
        known.extend(t.metadata.keys().map(|s| s.as_str()).filter(|k| *k != "cell"));
        Err(bad(format!("no tensor or constant {name:?} in the file (have: {})", known.join(", "))))
    }

    /// The value in `t` (`None` if `t` lacks it or the constant is not a number).
    pub fn get(&self, t: &Tensors) -> Option<f64> {
        match self {
            ParamPath::Tensor { name, flat } => t.tensors.get(name).and_then(|a| a.iter().nth(*flat).copied()),
            ParamPath::Constant(name) => t.metadata.get(name).and_then(|v| v.trim().parse().ok()),
        }
    }

    /// A copy of `t` with the value set to `value` (a constant is written as Rust's shortest
    /// round-trip form). Errors if `t` lacks it (a path parsed against another file).
    pub fn set(&self, t: &Tensors, value: f64) -> Result<Tensors> {
        let mut t = t.clone();
        let missing = || Error::param("parameter", self.to_string(), "not in this file");
        match self {
            ParamPath::Tensor { name, flat } => {
                let v = t.tensors.get_mut(name).and_then(|a| a.iter_mut().nth(*flat)).ok_or_else(missing)?;
                *v = value;
            }
            ParamPath::Constant(name) => {
                let v = t.metadata.get_mut(name).ok_or_else(missing)?;
                *v = format!("{value:?}");
            }
        }
        Ok(t)
    }
}

impl std::fmt::Display for ParamPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamPath::Tensor { name, flat } => write!(f, "{name}[{flat}]"),
            ParamPath::Constant(name) => write!(f, "{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> Tensors {
        let w = ndarray::Array2::<f64>::from_shape_fn((2, 3), |(i, j)| (3 * i + j) as f64).into_dyn();
        let meta =
            [("alpha".to_string(), "0.5".to_string()), ("cell".to_string(), "ctrnn".to_string())].into_iter().collect();
        Tensors::from_bytes(&crate::io::tensors_to_safetensors(&[("w", w.view())], &meta).unwrap(), "mem").unwrap()
    }

    #[test]
    fn paths_parse_against_the_file() {
        let t = file();
        assert_eq!(ParamPath::parse("w[1,2]", &t).unwrap(), ParamPath::Tensor { name: "w".into(), flat: 5 });
        assert_eq!(ParamPath::parse("w[4]", &t).unwrap(), ParamPath::Tensor { name: "w".into(), flat: 4 });
        assert_eq!(ParamPath::parse("alpha", &t).unwrap(), ParamPath::Constant("alpha".into()));
        for (bad, says) in [
            ("w[2,0]", "out of range"),
            ("w[6]", "out of range"),
            ("w", "needs an index"),
            ("w[1", "NAME[INDEX]"),
            ("w[a]", "integers"),
            ("alpha[0]", "no index"),
            ("beta", "have: w, alpha"),
            ("cell", "no tensor or constant"),
            ("w[0,0,0]", "3 indices"),
        ] {
            let e = ParamPath::parse(bad, &t).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(bad), "{bad}: {e}");
        }
    }

    proptest::proptest! {
        /// Every element addressed per axis is the one addressed flat, and set then get returns
        /// the value without touching any other element.
        #[test]
        fn set_then_get_round_trips(i in 0usize..2, j in 0usize..3, value in -1e6..1e6f64) {
            let t = file();
            let p = ParamPath::parse(&format!("w[{i},{j}]"), &t).unwrap();
            proptest::prop_assert_eq!(&p, &ParamPath::parse(&format!("w[{}]", 3 * i + j), &t).unwrap());
            let moved = p.set(&t, value).unwrap();
            proptest::prop_assert_eq!(p.get(&moved), Some(value));
            let changed = t.tensors["w"].iter().zip(moved.tensors["w"].iter()).filter(|(a, b)| a != b).count();
            proptest::prop_assert!(changed <= 1);
            let c = ParamPath::Constant("alpha".into());
            proptest::prop_assert_eq!(c.get(&c.set(&t, value).unwrap()), Some(value));
        }
    }
}
