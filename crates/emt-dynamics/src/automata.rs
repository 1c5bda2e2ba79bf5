//! Finite-state automata read off labelled trajectories (docs/DYNAMICS.md §7), over any alphabet.
//!
//! A network's state, discretised into `states` labels (by clustering, by a decoder, ...), is
//! seen at the moments between the letters of a word; [`Automaton::tabulate`] builds the
//! transition table by majority with the share of runs that took each majority transition (its
//! determinism). [`Automaton::moore_classes`] merges states no output can tell apart (Moore's
//! partition refinement), [`Automaton::homomorphism`] tests a given map of the letters into
//! `Z_k` against the table, and [`Automaton::cyclic_group`] tests whether the table *is*
//! `Z_k` acting by translations.

use emt_core::{Error, Result};

/// A deterministic transition table tabulated by majority.
#[derive(Debug, Clone, PartialEq)]
pub struct Automaton {
    /// Number of states.
    pub states: usize,
    /// Alphabet size: letters are `0..letters`.
    pub letters: usize,
    /// The most common state at moment 0 (ties: the highest-numbered).
    pub start: usize,
    /// Majority successor per state and letter `[states][letters]`; `None` where no run went.
    pub delta: Vec<Vec<Option<usize>>>,
    /// Share of the runs through (state, letter) that took the majority successor
    /// `[states][letters]` (NaN where none went): 1 for a deterministic table.
    pub determinism: Vec<Vec<f64>>,
}

impl Automaton {
    /// Tabulates runs: `labels[b]` is run `b`'s state at moments `0..=T` (each `< states`), and
    /// `words[b]` its `T` letters (each `< letters`); runs may differ in length. The successor
    /// of (q, c) is the most common next state (ties: the highest-numbered).
    ///
    /// ```
    /// use emt_dynamics::Automaton;
    /// // The parity automaton: reading 1 flips the state, 0 keeps it.
    /// let words = vec![vec![1, 0, 1], vec![0, 1, 1], vec![1, 1, 0]];
    /// let labels: Vec<Vec<usize>> = words
    ///     .iter()
    ///     .map(|w: &Vec<usize>| std::iter::once(0).chain(w.iter().scan(0, |s, &c| { *s ^= c; Some(*s) })).collect())
    ///     .collect();
    /// let a = Automaton::tabulate(&labels, &words, 2, 2)?;
    /// assert_eq!(a.delta, vec![vec![Some(0), Some(1)], vec![Some(1), Some(0)]]);
    /// assert_eq!(a.homomorphism(&[0, 1], 2)?, Some(vec![Some(0), Some(1)]));
    /// assert!(a.cyclic_group(2)?.is_some());
    /// # Ok::<(), emt_core::Error>(())
    /// ```
    pub fn tabulate(labels: &[Vec<usize>], words: &[Vec<usize>], states: usize, letters: usize) -> Result<Automaton> {
        if labels.len() != words.len() {
            return Err(Error::shape(
                "labels",
                format!("{} runs (one per word)", words.len()),
                labels.len().to_string(),
            ));
        }
        if states == 0 || letters == 0 {
            return Err(Error::param("states / letters", format!("{states} / {letters}"), "must both be >= 1"));
        }
        for (b, (l, w)) in labels.iter().zip(words).enumerate() {
            if l.len() != w.len() + 1 {
                return Err(Error::shape(
                    format!("labels[{b}]"),
                    format!("{} states (one more than its word)", w.len() + 1),
                    l.len().to_string(),
                ));
            }
            if let Some(q) = l.iter().find(|&&q| q >= states) {
                return Err(Error::param(format!("labels[{b}]"), q, format!("states are 0..{states}")));
            }
            if let Some(c) = w.iter().find(|&&c| c >= letters) {
                return Err(Error::param(format!("words[{b}]"), c, format!("letters are 0..{letters}")));
            }
        }
        let mut counts = vec![0usize; states];
        labels.iter().filter_map(|l| l.first()).for_each(|&q| counts[q] += 1);
        let start = (0..states).max_by_key(|&q| counts[q]).unwrap_or(0);
        let mut hist = vec![vec![vec![0usize; states]; letters]; states];
        for (l, w) in labels.iter().zip(words) {
            for (t, &c) in w.iter().enumerate() {
                hist[l[t]][c][l[t + 1]] += 1;
            }
        }
        let mut delta = vec![vec![None; letters]; states];
        let mut determinism = vec![vec![f64::NAN; letters]; states];
        for q in 0..states {
            for c in 0..letters {
                let total: usize = hist[q][c].iter().sum();
                if total > 0 {
                    let (next, &hits) = hist[q][c].iter().enumerate().max_by_key(|x| *x.1).unwrap_or((0, &0));
                    delta[q][c] = Some(next);
                    determinism[q][c] = hits as f64 / total as f64;
                }
            }
        }
        Ok(Automaton { states, letters, start, delta, determinism })
    }

    /// The state a word leads to from the start, `None` where the table has no transition.
    pub fn run(&self, word: &[usize]) -> Option<usize> {
        word.iter().try_fold(self.start, |q, &c| self.delta[q].get(c).copied().flatten())
    }

    /// Moore's partition refinement: states with the same `output` (e.g. 1 = accept) whose
    /// transitions per letter land in the same classes are one class; a missing transition is
    /// its own value. Returns each state's class, numbered by first appearance; the number of
    /// classes is the minimal automaton's size.
    pub fn moore_classes(&self, output: &[usize]) -> Result<Vec<usize>> {
        if output.len() != self.states {
            return Err(Error::shape("output", format!("({})", self.states), format!("({})", output.len())));
        }
        let number = |sig: &[(usize, Vec<Option<usize>>)]| -> Vec<usize> {
            let mut distinct: Vec<&(usize, Vec<Option<usize>>)> = Vec::new();
            sig.iter()
                .map(|s| {
                    distinct.iter().position(|d| *d == s).unwrap_or_else(|| {
                        distinct.push(s);
                        distinct.len() - 1
                    })
                })
                .collect()
        };
        let first: Vec<(usize, Vec<Option<usize>>)> = output.iter().map(|&o| (o, Vec::new())).collect();
        let mut class = number(&first);
        loop {
            let sig: Vec<(usize, Vec<Option<usize>>)> = (0..self.states)
                .map(|q| (class[q], self.delta[q].iter().map(|nq| nq.map(|nq| class[nq])).collect()))
                .collect();
            let next = number(&sig);
            if next == class {
                return Ok(class);
            }
            class = next;
        }
    }

    /// The table with each state replaced by its class (`classes` from [`moore_classes`](Self::moore_classes)):
    /// the minimal automaton. Its determinism is the lowest of the merged transitions'.
    pub fn quotient(&self, classes: &[usize]) -> Result<Automaton> {
        if classes.len() != self.states {
            return Err(Error::shape("classes", format!("({})", self.states), format!("({})", classes.len())));
        }
        let k = classes.iter().max().map_or(0, |x| x + 1);
        let mut delta = vec![vec![None; self.letters]; k];
        let mut determinism = vec![vec![f64::NAN; self.letters]; k];
        for q in 0..self.states {
            for c in 0..self.letters {
                if let Some(nq) = self.delta[q][c] {
                    delta[classes[q]][c] = Some(classes[nq]);
                    let d: &mut f64 = &mut determinism[classes[q]][c];
                    *d = if d.is_nan() { self.determinism[q][c] } else { d.min(self.determinism[q][c]) };
                }
            }
        }
        Ok(Automaton { states: k, letters: self.letters, start: classes[self.start], delta, determinism })
    }

    /// Whether reading letter `c` adds `sigma[c]` in `Z_k` on every transition out of a state
    /// reachable from the start: returns the labelling `pi` (start -> 0, `None` for states the
    /// start does not reach) with `pi(delta(q, c)) = pi(q) + sigma(c) mod k`, or `None` if some
    /// transition contradicts it. With outputs, compare `pi` with them (e.g. accept iff `pi = 0`).
    /// Errors on a `sigma` that is not one element of `Z_k` per letter, or `k = 0`.
    pub fn homomorphism(&self, sigma: &[usize], k: usize) -> Result<Option<Vec<Option<usize>>>> {
        if k == 0 {
            return Err(Error::param("k", k, "must be >= 1"));
        }
        if sigma.len() != self.letters {
            return Err(Error::shape(
                "sigma",
                format!("({}) one per letter", self.letters),
                format!("({})", sigma.len()),
            ));
        }
        if let Some(v) = sigma.iter().find(|&&v| v >= k) {
            return Err(Error::param("sigma", v, format!("elements of Z_{k} are 0..{k}")));
        }
        Ok(self.labels_under(sigma, k))
    }

    fn labels_under(&self, sigma: &[usize], k: usize) -> Option<Vec<Option<usize>>> {
        let mut pi = vec![None; self.states];
        pi[self.start] = Some(0);
        let mut queue = vec![self.start];
        while let Some(q) = queue.pop() {
            let p = pi[q]?;
            for (c, next) in self.delta[q].iter().enumerate() {
                if let Some(nq) = *next {
                    let want = (p + sigma[c]) % k;
                    match pi[nq] {
                        None => {
                            pi[nq] = Some(want);
                            queue.push(nq);
                        }
                        Some(v) if v != want => return None,
                        Some(_) => {}
                    }
                }
            }
        }
        Some(pi)
    }

    /// Whether the table is `Z_k`'s: `k` states and a bijection `pi` onto `Z_k` (start -> 0)
    /// with letters acting as translations, `pi(delta(q, c)) = pi(q) + sigma(c)` wherever
    /// `delta` is defined. Returns `(pi, sigma)` (a letter with no transition gets `sigma = 0`),
    /// or `None` when no labelling works (or the table does not have `k` states). It tries the
    /// `(k - 1)!` labellings, so `k` is at most [`MAX_CYCLIC_ORDER`] (an error beyond).
    pub fn cyclic_group(&self, k: usize) -> Result<Option<(Vec<usize>, Vec<usize>)>> {
        self.cyclic_labelling(k, false)
    }

    /// As [`cyclic_group`](Self::cyclic_group), with `sigma` also a bijection of the `k`
    /// letters onto `Z_k` (the SET task's colours are the group's elements): a table where two
    /// letters act alike fails. A letter with no transition takes the smallest value no other
    /// letter has. Errors as `cyclic_group`, and when the alphabet does not have `k` letters.
    ///
    /// ```
    /// use emt_dynamics::Automaton;
    /// // Z_3 with letters 0, 1, 2 adding 0, 1, 2, and a table where letters 1 and 2 both add 1.
    /// let words = vec![vec![1, 2, 0, 1], vec![2, 2, 1], vec![0, 1, 2]];
    /// let run = |add: [usize; 3]| words.iter().map(|w| {
    ///     let mut q = 0; let mut labels = vec![0];
    ///     for &c in w { q = (q + add[c]) % 3; labels.push(q); }
    ///     labels
    /// }).collect::<Vec<_>>();
    /// let z3 = Automaton::tabulate(&run([0, 1, 2]), &words, 3, 3)?;
    /// assert_eq!(z3.cyclic_group_bijective(3)?, Some((vec![0, 1, 2], vec![0, 1, 2])));
    /// let alike = Automaton::tabulate(&run([0, 1, 1]), &words, 3, 3)?;
    /// assert!(alike.cyclic_group(3)?.is_some() && alike.cyclic_group_bijective(3)?.is_none());
    /// # Ok::<(), emt_core::Error>(())
    /// ```
    pub fn cyclic_group_bijective(&self, k: usize) -> Result<Option<(Vec<usize>, Vec<usize>)>> {
        if self.letters != k {
            return Err(Error::param(
                "k",
                k,
                format!("a bijection of the letters onto Z_k needs k letters; the alphabet has {}", self.letters),
            ));
        }
        self.cyclic_labelling(k, true)
    }

    fn cyclic_labelling(&self, k: usize, bijective: bool) -> Result<Option<(Vec<usize>, Vec<usize>)>> {
        if k == 0 || k > MAX_CYCLIC_ORDER {
            return Err(Error::param(
                "k",
                k,
                format!("the Z_k test tries (k - 1)! labellings: 1 <= k <= {MAX_CYCLIC_ORDER}"),
            ));
        }
        if self.states != k {
            return Ok(None);
        }
        let mut rest: Vec<usize> = (1..k).collect();
        let mut found = None;
        permutations(&mut rest, 0, &mut |perm| {
            // pi: the start gets 0, the other states (in order) the permutation's values.
            let mut pi = vec![0; k];
            let mut values = perm.iter();
            for (q, p) in pi.iter_mut().enumerate() {
                if q != self.start {
                    *p = values.next().copied().unwrap_or(0);
                }
            }
            let mut sigma = vec![None; self.letters];
            let consistent = (0..k).all(|q| {
                (0..self.letters).all(|c| match self.delta[q][c] {
                    None => true,
                    Some(nq) => {
                        let shift = (pi[nq] + k - pi[q]) % k;
                        *sigma[c].get_or_insert(shift) == shift
                    }
                })
            });
            if !consistent {
                return false;
            }
            let sigma = if bijective {
                complete_bijection(&sigma, k)
            } else {
                Some(sigma.iter().map(|s| s.unwrap_or(0)).collect())
            };
            found = sigma.map(|sigma| (pi, sigma));
            found.is_some()
        });
        Ok(found)
    }
}

/// Largest `k` [`Automaton::cyclic_group`] tests (8! = 40,320 labellings).
pub const MAX_CYCLIC_ORDER: usize = 9;

/// Every permutation of `v[i..]` in place (by swaps); `visit` returns true to stop.
/// `sigma` with its undefined letters given the unused values of `Z_k` in increasing order, if
/// the defined ones are distinct (so the whole is a bijection); `None` otherwise.
fn complete_bijection(sigma: &[Option<usize>], k: usize) -> Option<Vec<usize>> {
    let mut used = vec![false; k];
    for &s in sigma.iter().flatten() {
        if std::mem::replace(&mut used[s], true) {
            return None;
        }
    }
    let mut free = (0..k).filter(|&v| !used[v]);
    sigma.iter().map(|s| s.or_else(|| free.next())).collect()
}

fn permutations(v: &mut [usize], i: usize, visit: &mut dyn FnMut(&[usize]) -> bool) -> bool {
    if i + 1 >= v.len() {
        return visit(v);
    }
    for j in i..v.len() {
        v.swap(i, j);
        if permutations(v, i + 1, visit) {
            v.swap(i, j);
            return true;
        }
        v.swap(i, j);
    }
    false
}

/// Greedy clustering of `items` in order: each joins the first cluster whose centre (its first
/// item) it is `same` as, else starts a new one. Clusters with fewer than `min_size` items
/// (stragglers: states that had not settled yet) are then merged into the kept cluster whose
/// centre is nearest by `distance` (ties: the first). Returns each item's label in `0..k` and
/// `k` (the kept clusters, at least 1). The order of `items` decides the centres, so the result
/// is deterministic.
///
/// ```
/// use emt_dynamics::cluster_greedy;
/// let xs = [0.0f64, 0.05, 1.0, 1.02, 0.01, 5.0];
/// let (labels, k) = cluster_greedy(&xs, |a, b| (a - b).abs() < 0.1, |a, b| (a - b).abs(), 2);
/// // 5.0 is alone (1 < 2 items) and joins the nearest kept cluster, {1.0, 1.02}.
/// assert_eq!((labels, k), (vec![0, 0, 1, 1, 0, 1], 2));
/// ```
pub fn cluster_greedy<F>(
    items: &[F],
    same: impl Fn(&F, &F) -> bool,
    distance: impl Fn(&F, &F) -> f64,
    min_size: usize,
) -> (Vec<usize>, usize) {
    let mut centres: Vec<&F> = Vec::new();
    let raw: Vec<usize> = items
        .iter()
        .map(|x| match centres.iter().position(|c| same(c, x)) {
            Some(k) => k,
            None => {
                centres.push(x);
                centres.len() - 1
            }
        })
        .collect();
    let mut size = vec![0usize; centres.len()];
    raw.iter().for_each(|&c| size[c] += 1);
    let kept: Vec<usize> = (0..centres.len()).filter(|&c| size[c] >= min_size).collect();
    let remap: Vec<usize> = (0..centres.len())
        .map(|c| {
            kept.iter()
                .enumerate()
                .min_by(|(_, p), (_, q)| {
                    distance(centres[c], centres[**p]).total_cmp(&distance(centres[c], centres[**q]))
                })
                .map_or(0, |(i, _)| i)
        })
        .collect();
    (raw.iter().map(|&c| remap[c]).collect(), kept.len().max(1))
}

/// How [`Automaton::extract`] groups states into automaton states.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractParams {
    /// Two states are one when `|x - y| < tol (1 + |x|)` (`x` the cluster's first state).
    pub tol: f64,
    /// Clusters holding fewer than this share of all states are merged into the nearest kept
    /// one (stragglers that had not settled).
    pub min_share: f64,
}

impl Default for ExtractParams {
    fn default() -> Self {
        ExtractParams { tol: 1e-3, min_share: 0.05 }
    }
}

/// An automaton read off a system's states ([`Automaton::extract`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Extracted {
    /// The tabulated automaton.
    pub automaton: Automaton,
    /// Each run's automaton state at moments `0..=T`.
    pub labels: Vec<Vec<usize>>,
}

impl Automaton {
    /// The automaton a system implements, from its states at input-free moments:
    /// `states[b]` holds run `b`'s states `(n)` at moments `0..=T` (before each letter, and at
    /// the end; relaxed to where they settle, if the system moves without input), `words[b]` its
    /// `T` letters. States are clustered ([`cluster_greedy`] with [`ExtractParams`], in run
    /// order) and the runs tabulated ([`Automaton::tabulate`]). Errors name the run whose
    /// length, state shape or values are wrong.
    ///
    /// ```
    /// use emt_dynamics::{Automaton, ExtractParams};
    /// use ndarray::array;
    /// // A rotation by a third of a turn per letter 1 (letter 0: stay), read at the moments.
    /// let angle = |k: usize| 2.0 * std::f64::consts::PI * k as f64 / 3.0;
    /// let words = vec![vec![1, 1, 0], vec![0, 1, 1], vec![1, 0, 1], vec![1, 1, 1]];
    /// let states: Vec<Vec<ndarray::Array1<f64>>> = words
    ///     .iter()
    ///     .map(|w: &Vec<usize>| {
    ///         let mut k = 0;
    ///         let mut out = vec![array![1.0, 0.0]];
    ///         for &c in w {
    ///             k += c;
    ///             out.push(array![angle(k).cos(), angle(k).sin()]);
    ///         }
    ///         out
    ///     })
    ///     .collect();
    /// let e = Automaton::extract(&states, &words, 2, &ExtractParams { min_share: 0.0, ..Default::default() })?;
    /// assert_eq!(e.automaton.states, 3);
    /// assert!(e.automaton.cyclic_group(3)?.is_some()); // Z_3: letter 1 generates it
    /// # Ok::<(), emt_core::Error>(())
    /// ```
    pub fn extract(
        states: &[Vec<ndarray::Array1<f64>>],
        words: &[Vec<usize>],
        letters: usize,
        params: &ExtractParams,
    ) -> Result<Extracted> {
        if !(params.tol.is_finite() && params.tol > 0.0) {
            return Err(Error::param("tol", params.tol, "must be finite and > 0"));
        }
        if !(params.min_share.is_finite() && (0.0..1.0).contains(&params.min_share)) {
            return Err(Error::param("min_share", params.min_share, "must be in [0, 1)"));
        }
        if states.len() != words.len() {
            return Err(Error::shape(
                "states",
                format!("{} runs (one per word)", words.len()),
                states.len().to_string(),
            ));
        }
        let n = states.first().and_then(|r| r.first()).map_or(0, |x| x.len());
        for (b, (run, word)) in states.iter().zip(words).enumerate() {
            if run.len() != word.len() + 1 {
                return Err(Error::shape(
                    format!("states[{b}]"),
                    format!("{} moments", word.len() + 1),
                    run.len().to_string(),
                ));
            }
            if let Some((m, x)) = run.iter().enumerate().find(|(_, x)| x.len() != n || x.iter().any(|v| !v.is_finite()))
            {
                return Err(Error::param(
                    format!("states[{b}][{m}]"),
                    format!("{} values", x.len()),
                    format!("must be {n} finite values"),
                ));
            }
        }
        let flat: Vec<&ndarray::Array1<f64>> = states.iter().flatten().collect();
        let total = flat.len();
        // At least min_share of the states: a cluster of `size` is kept when size >= share * total.
        let min_size = (params.min_share * total as f64).ceil() as usize;
        let same = |a: &&ndarray::Array1<f64>, b: &&ndarray::Array1<f64>| {
            (*a - *b).mapv(|v| v * v).sum().sqrt() < params.tol * (1.0 + a.dot(*a).sqrt())
        };
        let distance = |a: &&ndarray::Array1<f64>, b: &&ndarray::Array1<f64>| (*a - *b).mapv(|v| v * v).sum().sqrt();
        let (flat_labels, k) = cluster_greedy(&flat, same, distance, min_size);
        let mut labels = Vec::with_capacity(states.len());
        let mut at = 0;
        for run in states {
            labels.push(flat_labels[at..at + run.len()].to_vec());
            at += run.len();
        }
        let automaton = Automaton::tabulate(&labels, words, k, letters)?;
        Ok(Extracted { automaton, labels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::Rng;

    /// Runs of a known table from random words (every run starts at 0).
    fn runs(
        delta: &[Vec<usize>],
        letters: usize,
        count: usize,
        len: usize,
        seed: u64,
    ) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
        let mut r = emt_core::rng::seeded(seed);
        let words: Vec<Vec<usize>> =
            (0..count).map(|_| (0..len).map(|_| r.random_range(0..letters)).collect()).collect();
        let labels = words
            .iter()
            .map(|w| {
                std::iter::once(0)
                    .chain(w.iter().scan(0, |q, &c| {
                        *q = delta[*q][c];
                        Some(*q)
                    }))
                    .collect()
            })
            .collect();
        (labels, words)
    }

    proptest! {
        #![proptest_config(emt_testkit::proptest_config(48))]

        /// A random automaton with every state duplicated (the copy behaves identically, and
        /// transitions go to either twin) minimises back to at most the original size, and
        /// exactly to it when the original is itself minimal.
        #[test]
        fn moore_merges_duplicated_states(seed in 0u64..10_000, k in 1usize..6, m in 1usize..4) {
            let mut r = emt_core::rng::seeded(seed);
            let base: Vec<Vec<usize>> = (0..k).map(|_| (0..m).map(|_| r.random_range(0..k)).collect()).collect();
            let out: Vec<usize> = (0..k).map(|_| r.random_range(0..2)).collect();
            // States 0..k and their twins k..2k.
            let twin = |q: usize, r: &mut emt_core::rng::EmtRng| if r.random::<bool>() { q + k } else { q };
            let delta: Vec<Vec<Option<usize>>> = (0..2 * k).map(|q| base[q % k].iter().map(|&nq| Some(twin(nq, &mut r))).collect()).collect();
            let big = Automaton { states: 2 * k, letters: m, start: 0, delta, determinism: vec![vec![1.0; m]; 2 * k] };
            let out2: Vec<usize> = (0..2 * k).map(|q| out[q % k]).collect();
            let classes = big.moore_classes(&out2).unwrap();
            let small = Automaton { states: k, letters: m, start: 0, delta: base.iter().map(|row| row.iter().map(|&q| Some(q)).collect()).collect(), determinism: vec![vec![1.0; m]; k] };
            let minimal = small.moore_classes(&out).unwrap().iter().max().unwrap() + 1;
            prop_assert_eq!(classes.iter().max().unwrap() + 1, minimal);
            for q in 0..k {
                prop_assert_eq!(classes[q], classes[q + k]);
            }
            let quotient = big.quotient(&classes).unwrap();
            prop_assert_eq!(quotient.states, minimal);
        }

        /// The running sum mod k of random words, as an automaton, is Z_k's table under the
        /// letter map it was built with, for k = 2..6; on a random table, the cyclic test's
        /// verdict agrees with a brute-force reading of the definition.
        #[test]
        fn sum_mod_k_passes_the_cyclic_test(seed in 0u64..10_000, k in 2usize..7, m in 1usize..4) {
            let mut r = emt_core::rng::seeded(seed);
            let mut sigma: Vec<usize> = (0..m).map(|_| r.random_range(0..k)).collect();
            sigma[0] = 1; // one letter generates Z_k, so every state is reached
            let delta: Vec<Vec<usize>> = (0..k).map(|q| sigma.iter().map(|&s| (q + s) % k).collect()).collect();
            let (labels, words) = runs(&delta, m, 200, 6, seed);
            let a = Automaton::tabulate(&labels, &words, k, m).unwrap();
            prop_assert!(a.determinism.iter().flatten().all(|d| d.is_nan() || *d == 1.0));
            let pi = a.homomorphism(&sigma, k).unwrap().unwrap();
            // Every state the runs visit is labelled by itself; one they never reach (possible:
            // with sigma = [1, 0, 0], k = 6, no word of 6 letters may have five 0s) has no label.
            let visited: Vec<bool> = (0..k).map(|q| labels.iter().flatten().any(|&l| l == q)).collect();
            prop_assert!(pi.iter().enumerate().all(|(q, p)| *p == visited[q].then_some(q)), "pi {:?}, visited {:?}", pi, visited);
            let (pi2, sigma2) = a.cyclic_group(k).unwrap().unwrap();
            prop_assert_eq!(pi2[a.start], 0);
            for (q, row) in a.delta.iter().enumerate() {
                for (next, shift) in row.iter().zip(&sigma2) {
                    if let Some(nq) = *next {
                        prop_assert_eq!(pi2[nq], (pi2[q] + shift) % k);
                    }
                }
            }
            // A random table on k >= 3 states: Z_k's only by chance; its verdict must agree
            // with a brute-force check of the definition.
            let random: Vec<Vec<usize>> = (0..k).map(|_| (0..m).map(|_| r.random_range(0..k)).collect()).collect();
            let (l2, w2) = runs(&random, m, 200, 6, seed + 1);
            let b = Automaton::tabulate(&l2, &w2, k, m).unwrap();
            let is_group = b.cyclic_group(k).unwrap().is_some();
            let brute = brute_cyclic(&b, k);
            prop_assert_eq!(is_group, brute);
        }
    }

    proptest! {
        #![proptest_config(emt_testkit::proptest_config(48))]

        /// With as many letters as states: the bijective test agrees with the definition read
        /// literally (sigma a permutation), on tables built as Z_k under a random permutation
        /// (which must pass, with that sigma up to the labelling) and on random tables.
        #[test]
        fn the_bijective_cyclic_test_agrees_with_brute_force(seed in 0u64..10_000, k in 2usize..5) {
            let mut r = emt_core::rng::seeded(seed);
            let mut perm: Vec<usize> = (0..k).collect();
            for i in (1..k).rev() {
                perm.swap(i, r.random_range(0..=i));
            }
            let group: Vec<Vec<usize>> = (0..k).map(|q| perm.iter().map(|&s| (q + s) % k).collect()).collect();
            let random: Vec<Vec<usize>> = (0..k).map(|_| (0..k).map(|_| r.random_range(0..k)).collect()).collect();
            for (table, must_pass) in [(group, true), (random, false)] {
                let (labels, words) = runs(&table, k, 200, 6, seed);
                let a = Automaton::tabulate(&labels, &words, k, k).unwrap();
                let found = a.cyclic_group_bijective(k).unwrap();
                if let Some((pi, sigma)) = &found {
                    let mut sorted = sigma.clone();
                    sorted.sort_unstable();
                    prop_assert_eq!(sorted, (0..k).collect::<Vec<_>>());
                    prop_assert_eq!(pi[a.start], 0);
                }
                prop_assert!(!must_pass || found.is_some() || a.states != k);
                if a.states == k {
                    prop_assert_eq!(found.is_some(), brute_cyclic_with(&a, k, true));
                }
            }
        }
    }

    proptest! {
        #![proptest_config(emt_testkit::proptest_config(24))]

        /// States on a circle that turn by a k-th of a turn per letter 1 (letter 0: stay), read
        /// with noise far below the tolerance (and a few stragglers far off): extraction finds k
        /// states, the stragglers merge, and the table is Z_k's.
        #[test]
        fn extraction_of_a_noisy_rotation_is_the_cyclic_group(seed in 0u64..10_000, k in 2usize..7) {
            let mut r = emt_core::rng::seeded(seed);
            let words: Vec<Vec<usize>> = (0..100).map(|_| (0..12).map(|_| r.random_range(0..2)).collect()).collect();
            let point = |turns: usize, noise: f64| {
                let a = std::f64::consts::TAU * (turns % k) as f64 / k as f64;
                ndarray::array![a.cos() + noise, a.sin() - noise]
            };
            let states: Vec<Vec<ndarray::Array1<f64>>> = words
                .iter()
                .enumerate()
                .map(|(b, w)| {
                    let mut at = 0;
                    let mut out = vec![point(0, 0.0)];
                    for (m, &c) in w.iter().enumerate() {
                        at += c;
                        // A straggler halfway between two states in 1 run of 20; tiny noise elsewhere.
                        let noise = if b % 20 == 7 && m == 2 { 0.3 / k as f64 } else { 1e-7 * r.random::<f64>() };
                        out.push(point(at, noise));
                    }
                    out
                })
                .collect();
            // Every true state is visited far more than 2% of the time (a rarer one would be
            // merged as a straggler: seed 470, k = 6, with 60 words of 8 letters and 5%).
            let e = Automaton::extract(&states, &words, 2, &ExtractParams { min_share: 0.02, ..Default::default() }).unwrap();
            prop_assert_eq!(e.automaton.states, k);
            prop_assert!(e.automaton.cyclic_group(k).unwrap().is_some());
            prop_assert_eq!(e.labels.len(), words.len());
        }
    }

    #[test]
    fn extraction_refuses_bad_runs_by_name() {
        let x = |v: f64| ndarray::array![v, 0.0];
        let words = vec![vec![0, 1]];
        let p = ExtractParams::default();
        let short = Automaton::extract(&[vec![x(0.0), x(1.0)]], &words, 2, &p).unwrap_err().to_string();
        assert!(short.contains("states[0]"), "{short}");
        let nan = Automaton::extract(&[vec![x(0.0), x(f64::NAN), x(1.0)]], &words, 2, &p).unwrap_err().to_string();
        assert!(nan.contains("states[0][1]"), "{nan}");
        let runs = Automaton::extract(&[], &words, 2, &p).unwrap_err().to_string();
        assert!(runs.contains("states"), "{runs}");
        let tol = ExtractParams { tol: 0.0, ..ExtractParams::default() };
        assert!(
            Automaton::extract(&[vec![x(0.0), x(0.0), x(1.0)]], &words, 2, &tol)
                .unwrap_err()
                .to_string()
                .contains("tol")
        );
    }

    /// Z_k by the definition, literally: some bijection pi (start -> 0) and some sigma in k^m
    /// with pi(delta(q, c)) = pi(q) + sigma(c) wherever delta is defined.
    fn brute_cyclic(a: &Automaton, k: usize) -> bool {
        brute_cyclic_with(a, k, false)
    }

    /// As [`brute_cyclic`], with sigma also required to be a permutation when `bijective`.
    fn brute_cyclic_with(a: &Automaton, k: usize, bijective: bool) -> bool {
        let m = a.letters;
        let pis: Vec<Vec<usize>> = (0..k.pow(k as u32))
            .map(|code| (0..k).map(|q| code / k.pow(q as u32) % k).collect::<Vec<usize>>())
            .filter(|pi| pi[a.start] == 0 && (0..k).all(|v| pi.contains(&v)))
            .collect();
        pis.iter().any(|pi| {
            (0..k.pow(m as u32)).any(|code| {
                let sigma: Vec<usize> = (0..m).map(|c| code / k.pow(c as u32) % k).collect();
                (!bijective || (0..k).all(|v| sigma.contains(&v)))
                    && (0..k).all(|q| (0..m).all(|c| a.delta[q][c].is_none_or(|nq| pi[nq] == (pi[q] + sigma[c]) % k)))
            })
        })
    }

    #[test]
    fn bad_runs_are_errors_and_majority_breaks_noise() {
        let words = vec![vec![0, 1], vec![0]];
        assert!(matches!(Automaton::tabulate(&[vec![0, 1, 1]], &words, 2, 2), Err(Error::Shape { .. })));
        assert!(matches!(Automaton::tabulate(&[vec![0, 1]], &[vec![0, 1]], 2, 2), Err(Error::Shape { .. })));
        assert!(matches!(Automaton::tabulate(&[vec![0, 5]], &[vec![0]], 2, 2), Err(Error::InvalidParameter { .. })));
        assert!(matches!(Automaton::tabulate(&[vec![0, 1]], &[vec![3]], 2, 2), Err(Error::InvalidParameter { .. })));
        // 3 of 4 runs go 0 -a-> 1: the majority, with determinism 0.75.
        let labels = vec![vec![0, 1], vec![0, 1], vec![0, 1], vec![0, 0]];
        let a = Automaton::tabulate(&labels, &[vec![0], vec![0], vec![0], vec![0]], 2, 1).unwrap();
        assert_eq!((a.delta[0][0], a.determinism[0][0], a.delta[1][0]), (Some(1), 0.75, None));
        assert_eq!((a.run(&[0]), a.run(&[0, 0])), (Some(1), None));
        assert!(a.moore_classes(&[0]).is_err());
        // Wrong sigma, k out of range: errors, not a 'no'.
        assert!(
            a.homomorphism(&[0, 1], 2).is_err() && a.homomorphism(&[5], 2).is_err() && a.homomorphism(&[0], 0).is_err()
        );
        assert!(a.cyclic_group(0).is_err() && a.cyclic_group(MAX_CYCLIC_ORDER + 1).is_err());
        assert_eq!(a.cyclic_group(3).unwrap(), None);
        // One letter cannot map one-to-one onto Z_2.
        assert!(matches!(a.cyclic_group_bijective(2), Err(Error::InvalidParameter { .. })));
    }
}
