//! Task ids `(id1, id2, id3)`: a compact, shareable name for a variable-binding operator F.

use std::fmt;
use std::str::FromStr;

use emt_core::Error;

/// The id of a [`LinearVb`](crate::LinearVb) task (docs/EMT.md §2): `id1` picks which `d` of the
/// `s*d` window positions feed the outputs (its set bits), `id2` permutes them (base-`d`
/// swap digits), `id3` flips signs (bit `j` set = output `j` negated).
///
/// Written and parsed as `"id1,id2,id3"` (decimal, or `0x` hexadecimal per part):
///
/// ```
/// use emt_tasks::TaskId;
/// let id: TaskId = "0x8040201008040201, 262676, 189".parse()?;
/// assert_eq!(id, TaskId::new(9241421688590303745, 262676, 189));
/// assert_eq!(id.to_string(), "9241421688590303745,262676,189");
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId {
    /// Selection bits: exactly `d` set, all below bit `s*d`.
    pub id1: u128,
    /// Permutation swaps, base `d`, least significant digit first.
    pub id2: u128,
    /// Sign flips: bit `j` set means output `j` is negated (bits `< d` only).
    pub id3: u128,
}

impl TaskId {
    /// Builds an id from its three parts (validated when decoded by
    /// [`LinearVb::new`](crate::LinearVb::new)).
    pub const fn new(id1: u128, id2: u128, id3: u128) -> Self {
        TaskId { id1, id2, id3 }
    }

    /// Repeat copy for `d` bits: `(2^d - 1, 0, 0)`, each output copies its own bit from `s`
    /// steps back. `d` must be at most 128 for the id to exist.
    pub fn repeat_copy(d: usize) -> Self {
        TaskId::new(low_bits(d), 0, 0)
    }
}

/// `2^d - 1`, saturating at all ones for `d >= 128`.
pub(crate) fn low_bits(d: usize) -> u128 {
    if d >= 128 { u128::MAX } else { (1u128 << d) - 1 }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{},{}", self.id1, self.id2, self.id3)
    }
}

impl FromStr for TaskId {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        if parts.len() != 3 {
            return Err(Error::Parse {
                input: s.to_string(),
                reason: format!(
                    "a task id is three comma-separated integers id1,id2,id3; found {} part(s)",
                    parts.len()
                ),
            });
        }
        let parse = |p: &str| -> Result<u128, Error> {
            let digits = p.replace('_', "");
            let parsed = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
                Some(hex) => u128::from_str_radix(hex, 16),
                None => digits.parse::<u128>(),
            };
            parsed.map_err(|e| Error::Parse { input: s.to_string(), reason: format!("part {p:?} is not a u128: {e}") })
        };
        Ok(TaskId::new(parse(parts[0])?, parse(parts[1])?, parse(parts[2])?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_input() {
        for bad in ["", "1,2", "1,2,3,4", "a,0,0", "-1,0,0", "1,,0", "340282366920938463463374607431768211456,0,0"] {
            match bad.parse::<TaskId>() {
                Err(Error::Parse { input, .. }) => assert_eq!(input, bad),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn display_round_trips() {
        let id = TaskId::new(u128::MAX, 7, 0);
        assert_eq!(id.to_string().parse::<TaskId>().unwrap(), id);
        assert_eq!(TaskId::repeat_copy(8), TaskId::new(255, 0, 0));
    }
}
