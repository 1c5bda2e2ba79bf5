//! The linear variable-binding family (docs/EMT.md §2): `y(t) = w(t) F` on a sliding window.

use std::fmt;

use emt_core::{Episode, Error, Result, Task, check, rng};
use ndarray::{Array2, Array3, ArrayView2};
use rand::{Rng, RngCore};

use crate::TaskId;

/// Where one output bit reads from: `y(t)_j = sign * y(t - lag)_dim`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// How many steps back, `1..=s`.
    pub lag: usize,
    /// Which bit of that step, `0..d`.
    pub dim: usize,
    /// `+1` or `-1`.
    pub sign: i8,
}

/// A linear variable-binding task: `s` variables of `d` bits; after the input phase each
/// output is one signed bit of the last `s` outputs, as chosen by the operator
/// F `(s*d, d)`, decoded from a [`TaskId`].
///
/// Episodes: inputs `(s + H, B, d)` are uniform signs for `t < s` and 0 after;
/// targets `(s + H, B, d)` equal the inputs for `t < s` and `y(t) = w(t) F` for `t >= s`,
/// where the window `w(t)` flattens `y(t-s), ..., y(t-1)` oldest first. `first_scored = s`.
///
/// ```
/// use emt_core::{Task, rng};
/// use emt_tasks::{LinearVb, TaskId};
/// let task = LinearVb::new(TaskId::new(9241421688590303745, 0, 0), 8, 8)?; // compose copy
/// assert_eq!(task.sources()[3].lag, 5); // y(t)_3 = y(t-5)_3
/// let ep = task.sample(10, 2, &mut rng::seeded(0))?;
/// assert_eq!(ep.targets()[[8, 1, 3]], ep.targets()[[3, 1, 3]]);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinearVb {
    id: TaskId,
    s: usize,
    d: usize,
    /// `choice[j]`: window position (`k*d + i`) feeding output `j`.
    choice: Vec<usize>,
    /// `negate[j]`: output `j` is negated.
    negate: Vec<bool>,
}

fn check_sizes(s: usize, d: usize) -> Result<()> {
    check::positive("s", s)?;
    check::positive("d", d)?;
    match s.checked_mul(d) {
        Some(n) if n <= 128 => Ok(()),
        _ => Err(Error::param("s*d", format!("{s}*{d}"), "must be at most 128 (id1 is a u128 bit mask)")),
    }
}

impl LinearVb {
    /// Decodes `id` for `s` variables of `d` bits (docs/EMT.md §2, bit for bit).
    ///
    /// Errors: `s` or `d` zero, `s*d > 128`, `id1` with bits at or beyond `s*d` or without
    /// exactly `d` set bits, an `id2` digit out of range, `id3` bits at or beyond `d`.
    pub fn new(id: TaskId, s: usize, d: usize) -> Result<Self> {
        check_sizes(s, d)?;
        let n = s * d;
        let bad = |reason: String| Error::task_id(id.to_string(), reason);
        if n < 128 && id.id1 >> n != 0 {
            return Err(bad(format!("id1 has bits at positions >= s*d = {n}")));
        }
        if id.id1.count_ones() as usize != d {
            return Err(bad(format!("id1 must have exactly d = {d} set bits, has {}", id.id1.count_ones())));
        }
        let mut choice: Vec<usize> = (0..n).filter(|&p| (id.id1 >> p) & 1 == 1).collect();
        if d == 1 {
            // Base 1 has no digits: the only permutation of one element is the identity.
            if id.id2 != 0 {
                return Err(bad("id2 must be 0 when d = 1".into()));
            }
        } else {
            let base = d as u128;
            let mut rest = id.id2;
            let mut p = 0usize;
            while rest > 0 {
                let g = (rest % base) as usize;
                rest /= base;
                if g > 0 {
                    if p >= d || g >= d - p {
                        return Err(bad(format!("id2 digit {p} (base {d}) is {g}; it must be < d - {p}")));
                    }
                    choice.swap(p, p + g);
                }
                p += 1;
            }
        }
        if d < 128 && id.id3 >> d != 0 {
            return Err(bad(format!("id3 has sign bits at positions >= d = {d}")));
        }
        let negate = (0..d).map(|j| (id.id3 >> j) & 1 == 1).collect();
        Ok(LinearVb { id, s, d, choice, negate })
    }

    /// A uniformly random valid task for `(s, d)`: `d` distinct window positions, each
    /// permutation digit `g_p` uniform in `0..d-p`, each sign uniform; for sweeps over ids.
    ///
    /// ```
    /// let task = emt_tasks::LinearVb::random(5, 3, &mut emt_core::rng::seeded(1))?;
    /// assert_eq!(task.operator().iter().filter(|&&x| x != 0.0).count(), 3);
    /// # Ok::<(), emt_core::Error>(())
    /// ```
    pub fn random(s: usize, d: usize, rng: &mut dyn RngCore) -> Result<Self> {
        check_sizes(s, d)?;
        let n = s * d;
        let mut positions: Vec<usize> = (0..n).collect();
        for i in 0..d {
            let j = rng.random_range(i..n);
            positions.swap(i, j);
        }
        let id1 = positions[..d].iter().fold(0u128, |acc, &p| acc | 1 << p);
        // Digits most significant first, so digit p ends up at base-d place p.
        let id2 = (0..d).rev().fold(0u128, |acc, p| acc * d as u128 + rng.random_range(0..(d - p)) as u128);
        let id3 = (0..d).fold(0u128, |acc, j| acc | (u128::from(rng.random::<bool>()) << j));
        LinearVb::new(TaskId::new(id1, id2, id3), s, d)
    }

    /// The task whose operator is `f` `(s*d, d)`; see [`TaskId::from_operator`].
    pub fn from_operator(f: ArrayView2<'_, f64>, s: usize, d: usize) -> Result<Self> {
        LinearVb::new(TaskId::from_operator(f, s, d)?, s, d)
    }

    /// The id this task was decoded from.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Number of variables (window length) `s`.
    pub fn s(&self) -> usize {
        self.s
    }

    /// Bits per variable `d`.
    pub fn d(&self) -> usize {
        self.d
    }

    /// `choice()[j]`: the window position `k*d + i` that output `j` reads (`k = 0` oldest).
    pub fn choice(&self) -> &[usize] {
        &self.choice
    }

    /// `+1.0` or `-1.0` for each output `j`.
    pub fn signs(&self) -> Vec<f64> {
        self.negate.iter().map(|&n| if n { -1.0 } else { 1.0 }).collect()
    }

    /// The operator F `(s*d, d)`: `F[choice[j], j] = sign_j`, zero elsewhere.
    pub fn operator(&self) -> Array2<f64> {
        let mut f = Array2::zeros((self.s * self.d, self.d));
        for (j, (&c, sign)) in self.choice.iter().zip(self.signs()).enumerate() {
            f[[c, j]] = sign;
        }
        f
    }

    /// The rule in words: for each output bit `j`, `y(t)_j = sign * y(t - lag)_dim`.
    pub fn sources(&self) -> Vec<Source> {
        self.choice
            .iter()
            .zip(&self.negate)
            .map(|(&c, &neg)| Source { lag: self.s - c / self.d, dim: c % self.d, sign: if neg { -1 } else { 1 } })
            .collect()
    }

    /// Fills targets for `t >= s` from the already-filled earlier rows; `targets` is
    /// `(T, B, d)` in standard layout.
    fn roll_out(&self, targets: &mut Array3<f32>) {
        let (t_len, batch, d) = targets.dim();
        let s = self.s;
        let sources: Vec<(usize, usize, f32)> =
            self.sources().iter().map(|src| (src.lag, src.dim, src.sign as f32)).collect();
        for t in s..t_len {
            for b in 0..batch {
                for (j, &(lag, dim, sign)) in sources.iter().enumerate() {
                    targets[[t, b, j]] = sign * targets[[t - lag, b, dim]];
                }
            }
            debug_assert_eq!(d, sources.len());
        }
    }
}

impl Task for LinearVb {
    fn input_dim(&self) -> usize {
        self.d
    }

    fn output_dim(&self) -> usize {
        self.d
    }

    fn input_phase(&self) -> usize {
        self.s
    }

    /// Draws the input signs in `(t, b, i)` order, 64 per `u64` (see
    /// [`emt_core::rng::fill_signs`]), so tasks with the same `s` and `d` see the same
    /// inputs for the same stream.
    fn sample(&self, horizon: usize, batch: usize, rng: &mut dyn RngCore) -> Result<Episode> {
        check::positive("horizon", horizon)?;
        check::positive("batch", batch)?;
        let (s, d) = (self.s, self.d);
        let t_len = s + horizon;
        let mut inputs = Array3::<f32>::zeros((t_len, batch, d));
        if let Some(head) = inputs.as_slice_mut() {
            rng::fill_signs(&mut head[..s * batch * d], rng);
        }
        let mut targets = Array3::<f32>::zeros((t_len, batch, d));
        targets.slice_mut(ndarray::s![..s, .., ..]).assign(&inputs.slice(ndarray::s![..s, .., ..]));
        self.roll_out(&mut targets);
        Episode::new(inputs, targets, s)
    }
}

impl fmt::Display for LinearVb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LinearVb({}; s={}, d={})", self.id, self.s, self.d)
    }
}

impl TaskId {
    /// Encodes an operator F `(s*d, d)` as an id that decodes to exactly the same F.
    ///
    /// F must have exactly one nonzero per column, equal to `+1` or `-1`, in distinct rows.
    /// Errors also when the permutation needs an `id2` beyond `u128` (possible only for
    /// `d > 25`).
    ///
    /// ```
    /// use emt_tasks::{LinearVb, TaskId};
    /// let task = LinearVb::new(TaskId::new(0b1011_0000, 5, 2), 4, 3)?;
    /// assert_eq!(TaskId::from_operator(task.operator().view(), 4, 3)?, task.id());
    /// # Ok::<(), emt_core::Error>(())
    /// ```
    pub fn from_operator(f: ArrayView2<'_, f64>, s: usize, d: usize) -> Result<TaskId> {
        check_sizes(s, d)?;
        let n = s * d;
        check::shape("F", &f, &[n, d])?;
        check::finite("F", &f)?;
        let mut target = Vec::with_capacity(d);
        let mut id3 = 0u128;
        for (j, col) in f.columns().into_iter().enumerate() {
            let nonzero: Vec<(usize, f64)> = col.iter().copied().enumerate().filter(|&(_, x)| x != 0.0).collect();
            let (row, value) = match nonzero.as_slice() {
                [one] => *one,
                _ => {
                    return Err(Error::param(
                        format!("F column {j}"),
                        format!("{} nonzeros", nonzero.len()),
                        "each column needs exactly one nonzero",
                    ));
                }
            };
            if value == -1.0 {
                id3 |= 1 << j;
            } else if value != 1.0 {
                return Err(Error::param(format!("F[{row}, {j}]"), value, "nonzeros must be +1 or -1"));
            }
            if target.contains(&row) {
                return Err(Error::param(
                    format!("F row {row}"),
                    "used twice",
                    "each window position feeds at most one output",
                ));
            }
            target.push(row);
        }
        let id1 = target.iter().fold(0u128, |acc, &r| acc | (1u128 << r));
        // Replay the decoder's swaps: position p takes its target from wherever it now sits.
        let mut current = target.clone();
        current.sort_unstable();
        let overflow = || Error::param("F", format!("s={s}, d={d}"), "permutation id does not fit in a u128");
        let (mut id2, mut place) = (0u128, 1u128);
        for p in 0..d {
            let q = (p..d).find(|&q| current[q] == target[p]).ok_or_else(overflow)?;
            current.swap(p, q);
            if q > p {
                id2 = (q - p)
                    .try_into()
                    .ok()
                    .and_then(|g: u128| g.checked_mul(place))
                    .and_then(|v| id2.checked_add(v))
                    .ok_or_else(overflow)?;
            }
            if p + 1 < d {
                place = place.checked_mul(d as u128).unwrap_or(0);
                if place == 0 && (p + 1..d).any(|r| current[r] != target[r]) {
                    return Err(overflow());
                }
            }
        }
        Ok(TaskId::new(id1, id2, id3))
    }
}
