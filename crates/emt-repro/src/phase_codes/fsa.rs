//! Finite-state automata read off a trained SET network (docs/DYNAMICS.md §7): the transition table
//! by majority with its determinism, Moore minimisation, the Z3 test, and for an automaton whose
//! states keep the prefix's layer (the count lattice of attractive solutions) its shape: states
//! per moment, whether colours commute, whether the sum mod 3 is a homomorphism of it.
//!
//! A trial is seen at four input-free moments (before each card, and at the end); `labels[b][k]`
//! is the state of trial `b` at moment `k`, and `cards[b]` its three colours.

use serde::{Deserialize, Serialize};

use emt_core::Result;
use emt_tasks::SetTask;

use super::Colours;

/// A SET task's transition table tabulated from labelled trials, and its minimal form.
pub struct SetAutomaton {
    /// Number of states.
    pub states: usize,
    /// The majority state at moment 0.
    pub start: usize,
    /// Majority successor per (state, colour); `None` where no trial went.
    pub delta: Vec<[Option<usize>; 3]>,
    /// Share of the trials that took the majority transition.
    determinism: Vec<[f64; 3]>,
    /// End states reached mostly by accepted trials.
    pub accept: Vec<usize>,
    /// How many of the 27 sequences the table classifies as the oracle does.
    pub verdicts: usize,
    /// Moore class of every state.
    class: Vec<usize>,
    /// Number of Moore classes.
    pub minimal: usize,
    /// Whether the minimal table is the Z3 group's (3 states, bijections pi and sigma).
    pub z3: bool,
    /// When it is: pi of every state (through its Moore class) and sigma of every colour.
    z3_maps: Option<(Vec<usize>, [usize; 3])>,
    /// Per state: the most common colour counts of the prefix read (letters sorted, "-" for
    /// none) and the most common prefix sum mod 3 (G = 0, P = 1, R = 2), with their shares.
    prefix: Vec<(String, f64, usize, f64)>,
    /// The library's table the fields above were read from.
    table: emt_dynamics::Automaton,
}

impl SetAutomaton {
    /// Tabulates `labels` (per trial: the state at moments 0..=3, each `< states`) with the
    /// library's [`emt_dynamics::Automaton`] (majority table, determinism, Moore classes); the
    /// SET oracle's verdicts, the Z3 test and the prefixes are this task's.
    pub fn tabulate(labels: &[[usize; 4]], states: usize, cards: &[[usize; 3]]) -> Result<SetAutomaton> {
        let k = states.max(1);
        let runs: Vec<Vec<usize>> = labels.iter().map(|l| l.to_vec()).collect();
        let words: Vec<Vec<usize>> = cards.iter().map(|c| c.to_vec()).collect();
        let table = emt_dynamics::Automaton::tabulate(&runs, &words, k, 3)?;
        let start = table.start;
        let delta: Vec<[Option<usize>; 3]> = table.delta.iter().map(|r| [r[0], r[1], r[2]]).collect();
        let determinism: Vec<[f64; 3]> = table.determinism.iter().map(|r| [r[0], r[1], r[2]]).collect();
        let mut end = vec![(0usize, 0usize); k];
        for (l, &c) in labels.iter().zip(cards) {
            if SetTask::accepts(c) {
                end[l[3]].0 += 1;
            } else {
                end[l[3]].1 += 1;
            }
        }
        let accept: Vec<usize> = (0..k).filter(|&q| end[q].0 > end[q].1).collect();
        let run = |seq: [usize; 3]| seq.iter().try_fold(start, |q, &c| delta[q][c]);
        let verdicts = SetTask::sequences()
            .into_iter()
            .filter(|&seq| run(seq).is_some_and(|q| accept.contains(&q)) == SetTask::accepts(seq))
            .count();
        let output: Vec<usize> = (0..k).map(|q| usize::from(accept.contains(&q))).collect();
        let class = table.moore_classes(&output)?;
        let minimal_table = table.quotient(&class)?;
        let minimal = minimal_table.states;
        // Z3 with the colours as its elements: a bijection of the colours, not only a labelling.
        let maps = if minimal == 3 { minimal_table.cyclic_group_bijective(3)? } else { None };
        let z3 = maps.is_some();
        let z3_maps = maps.map(|(pi, sigma)| (class.iter().map(|&c| pi[c]).collect(), [sigma[0], sigma[1], sigma[2]]));
        let prefix = majority_prefixes(labels, k, cards);
        Ok(SetAutomaton {
            states: k,
            start,
            delta,
            determinism,
            accept,
            verdicts,
            class,
            minimal,
            z3,
            z3_maps,
            prefix,
            table,
        })
    }

    /// The report of `emt reproduce phase-codes` (`fsa`).
    pub fn report(&self, trials: usize) -> AutomatonReport {
        let mut transitions = Vec::new();
        for q in 0..self.states {
            for c in 0..3 {
                if let Some(next) = self.delta[q][c] {
                    transitions.push((q, emt_tasks::COLOURS[c].to_string(), next, self.determinism[q][c]));
                }
            }
        }
        AutomatonReport {
            states: self.states,
            minimal_states: self.minimal,
            start: self.start,
            transitions,
            accept_states: self.accept.clone(),
            verdicts_match: self.verdicts,
            z3: self.z3,
            trials,
            minimal_class: self.class.clone(),
            state_counts: self.prefix.iter().map(|p| p.0.clone()).collect(),
            state_counts_share: self.prefix.iter().map(|p| p.1).collect(),
            state_sum: self.prefix.iter().map(|p| p.2).collect(),
            state_sum_share: self.prefix.iter().map(|p| p.3).collect(),
            z3_element: self.z3_maps.as_ref().map(|m| m.0.clone()),
            z3_sigma: self.z3_maps.as_ref().map(|m| Colours { g: m.1[0], p: m.1[1], r: m.1[2] }),
        }
    }

    /// The layered shape of the table (count lattice: 1, 3, 6, 10 states per moment; ordered
    /// tree: 1, 3, 9, 27; Z3 ring: 1, 3, 3, 3 sharing states). `commuting`: share of the
    /// (state, colour a != colour b) with both two-card paths defined that reach the same state
    /// (1 for counts, ~0 for an ordered memory). `sum_mod3_homomorphism`: a bijection sigma of
    /// the colours onto Z3 and a map pi (start -> 0) with pi(delta(q, c)) = pi(q) + sigma(c) on
    /// every transition, whose accept end states are exactly those with pi = 0.
    pub fn shape(&self, labels: &[[usize; 4]]) -> Shape {
        let mut per_moment = [0usize; 4];
        let mut moments_of = vec![[false; 4]; self.states];
        for l in labels {
            for (m, &q) in l.iter().enumerate() {
                moments_of[q][m] = true;
            }
        }
        for (m, count) in per_moment.iter_mut().enumerate() {
            *count = moments_of.iter().filter(|s| s[m]).count();
        }
        let shared = moments_of.iter().filter(|s| s.iter().filter(|&&x| x).count() > 1).count();
        let (mut same, mut pairs) = (0usize, 0usize);
        for q in 0..self.states {
            for a in 0..3 {
                for b in a + 1..3 {
                    let ab = self.delta[q][a].and_then(|p| self.delta[p][b]);
                    let ba = self.delta[q][b].and_then(|p| self.delta[p][a]);
                    if let (Some(x), Some(y)) = (ab, ba) {
                        pairs += 1;
                        same += usize::from(x == y);
                    }
                }
            }
        }
        let ends: Vec<usize> = (0..self.states).filter(|&q| moments_of[q][3]).collect();
        // Some bijection of the colours onto Z3 (PERMS are valid letter maps: no error to lose).
        let homomorphism = PERMS
            .iter()
            .find_map(|sigma| self.table.homomorphism(sigma, 3).ok().flatten())
            .is_some_and(|pi| ends.iter().all(|q| (pi[*q] == Some(0)) == self.accept.contains(q)));
        Shape {
            states_per_moment: per_moment,
            states_at_several_moments: shared,
            commuting: if pairs == 0 { f64::NAN } else { same as f64 / pairs as f64 },
            commuting_pairs: pairs,
            sum_mod3_homomorphism: homomorphism,
        }
    }
}

/// A SET automaton as reported (and as `emt plot fsa` reads it back).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AutomatonReport {
    /// States (clusters kept).
    pub states: usize,
    /// States of the minimal (Moore) table.
    pub minimal_states: usize,
    /// The majority start state.
    pub start: usize,
    /// `(state, colour letter, next state, determinism)` per defined transition.
    pub transitions: Vec<(usize, String, usize, f64)>,
    /// End states reached mostly by accepted trials.
    pub accept_states: Vec<usize>,
    /// Of the 27 sequences, how many the table classifies as the oracle does.
    pub verdicts_match: usize,
    /// Whether the minimal table is Z3's with the colours as its elements.
    pub z3: bool,
    /// Trials tabulated.
    pub trials: usize,
    /// Moore class of every state.
    pub minimal_class: Vec<usize>,
    /// Per state, the most common colour counts of the prefixes read (letters sorted, "-" for none).
    pub state_counts: Vec<String>,
    /// Their share of the state's visits (NaN, serialised null, for an unvisited state).
    pub state_counts_share: Vec<f64>,
    /// Per state, the most common prefix sum mod 3 (G = 0, P = 1, R = 2).
    pub state_sum: Vec<usize>,
    /// Its share.
    pub state_sum_share: Vec<f64>,
    /// When Z3: the group element of every state.
    pub z3_element: Option<Vec<usize>>,
    /// When Z3: the element of every colour.
    pub z3_sigma: Option<Colours<usize>>,
}

/// The layered shape of a table ([`SetAutomaton::shape`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shape {
    /// States seen at moments 0..=3 (count lattice: 1, 3, 6, 10; ordered tree 1, 3, 9, 27).
    pub states_per_moment: [usize; 4],
    /// States seen at more than one moment.
    pub states_at_several_moments: usize,
    /// Share of two-card detours (a then b vs b then a) that meet (NaN with none defined).
    pub commuting: f64,
    /// Detours checked.
    pub commuting_pairs: usize,
    /// Whether the sum mod 3 is a homomorphism of the table that decides acceptance.
    pub sum_mod3_homomorphism: bool,
}

/// What the automaton figure needs, read from a report or from its JSON (other keys ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AutomatonGraph {
    /// States.
    pub states: usize,
    /// Start state.
    pub start: usize,
    /// `(state, colour letter, next, determinism)`.
    pub transitions: Vec<(usize, String, usize, Option<f64>)>,
    /// Accepting end states.
    #[serde(default)]
    pub accept_states: Vec<usize>,
    /// Colour counts per state (labels of a layered figure).
    #[serde(default)]
    pub state_counts: Vec<String>,
    /// Z3 element per state.
    #[serde(default)]
    pub z3_element: Option<Vec<usize>>,
    /// Present for a count-lattice table: draw in layers by depth.
    #[serde(default)]
    pub shape: Option<serde::de::IgnoredAny>,
}

impl AutomatonGraph {
    /// The figure's input from a report (`layered` for a count-lattice table).
    pub fn of(report: &AutomatonReport, layered: bool) -> Self {
        AutomatonGraph {
            states: report.states,
            start: report.start,
            transitions: report.transitions.iter().map(|(q, c, n, d)| (*q, c.clone(), *n, Some(*d))).collect(),
            accept_states: report.accept_states.clone(),
            state_counts: report.state_counts.clone(),
            z3_element: report.z3_element.clone(),
            shape: layered.then_some(serde::de::IgnoredAny),
        }
    }
}

/// Per state, the most common colour counts (as sorted letters) and sum mod 3 of the prefixes
/// that reached it, with the share of visits each holds (NaN for a state no trial visits).
fn majority_prefixes(labels: &[[usize; 4]], k: usize, cards: &[[usize; 3]]) -> Vec<(String, f64, usize, f64)> {
    let mut counts: Vec<std::collections::BTreeMap<String, usize>> = vec![Default::default(); k];
    let mut sums = vec![[0usize; 3]; k];
    for (l, c) in labels.iter().zip(cards) {
        for m in 0..4 {
            let mut seen: Vec<usize> = c[..m].to_vec();
            seen.sort_unstable();
            let word: String = seen.iter().map(|&x| emt_tasks::COLOURS[x]).collect();
            *counts[l[m]].entry(if word.is_empty() { "-".into() } else { word }).or_default() += 1;
            sums[l[m]][c[..m].iter().sum::<usize>() % 3] += 1;
        }
    }
    counts
        .iter()
        .zip(&sums)
        .map(|(words, s)| {
            let total = s.iter().sum::<usize>() as f64;
            let (word, hits) = words.iter().max_by_key(|w| *w.1).map_or(("?".to_string(), 0), |(w, h)| (w.clone(), *h));
            let (sum, sum_hits) = s.iter().enumerate().max_by_key(|x| *x.1).map_or((0, 0), |(i, h)| (i, *h));
            (word, hits as f64 / total, sum, sum_hits as f64 / total)
        })
        .collect()
}

/// The six bijections of the three colours onto Z3.
const PERMS: [[usize; 3]; 6] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The count lattice's labels: a state per multiset of the cards seen, numbered
    /// 1 + 3 + 6 + 10 by first appearance.
    fn lattice_labels(cards: &[[usize; 3]]) -> (Vec<[usize; 4]>, usize) {
        let mut ids = std::collections::HashMap::new();
        let labels = cards
            .iter()
            .map(|c| {
                [0, 1, 2, 3].map(|m| {
                    let mut counts = [0usize; 3];
                    c[..m].iter().for_each(|&x| counts[x] += 1);
                    let next = ids.len();
                    *ids.entry((m, counts)).or_insert(next)
                })
            })
            .collect();
        (labels, ids.len())
    }

    #[test]
    fn the_count_lattice_commutes_and_maps_onto_z3() {
        let cards = SetTask::sequences();
        let (labels, k) = lattice_labels(&cards);
        let a = SetAutomaton::tabulate(&labels, k, &cards).unwrap();
        assert_eq!(a.verdicts, 27);
        assert!(!a.z3, "a layered lattice is not the 3-state ring");
        let s = a.shape(&labels);
        assert_eq!(s.states_per_moment, [1, 3, 6, 10]);
        assert_eq!(s.commuting, 1.0);
        assert!(s.sum_mod3_homomorphism);
    }

    #[test]
    fn an_ordered_tree_does_not_commute_and_the_z3_ring_is_z3() {
        let cards = SetTask::sequences();
        // Ordered memory: one state per prefix.
        let mut ids = std::collections::HashMap::new();
        let labels: Vec<[usize; 4]> = cards
            .iter()
            .map(|c| {
                [0, 1, 2, 3].map(|m| {
                    let next = ids.len();
                    *ids.entry(c[..m].to_vec()).or_insert(next)
                })
            })
            .collect();
        let tree = SetAutomaton::tabulate(&labels, ids.len(), &cards).unwrap();
        let s = tree.shape(&labels);
        assert_eq!(s.states_per_moment, [1, 3, 9, 27]);
        assert_eq!(s.commuting, 0.0);
        assert_eq!(tree.verdicts, 27);
        // The ring: the state is the running sum mod 3 (G = 1, P = 2, R = 0).
        let sigma = [1, 2, 0];
        let ring: Vec<[usize; 4]> =
            cards.iter().map(|c| [0, 1, 2, 3].map(|m| c[..m].iter().map(|&x| sigma[x]).sum::<usize>() % 3)).collect();
        let z = SetAutomaton::tabulate(&ring, 3, &cards).unwrap();
        assert!(z.z3 && z.minimal == 3 && z.verdicts == 27);
        let j = serde_json::to_value(z.report(27)).unwrap();
        assert_eq!(j["z3_sigma"], json!({"G": 1, "P": 2, "R": 0}));
        assert_eq!(j["z3_element"], json!([0, 1, 2]));
        assert!(z.shape(&ring).sum_mod3_homomorphism);
    }

    #[test]
    fn a_table_that_confuses_two_sums_fails_the_homomorphism() {
        let cards = SetTask::sequences();
        // Collapse G and P: the state counts only reds mod 3.
        let labels: Vec<[usize; 4]> =
            cards.iter().map(|c| [0, 1, 2, 3].map(|m| c[..m].iter().filter(|&&x| x == 2).count() % 3)).collect();
        let a = SetAutomaton::tabulate(&labels, 3, &cards).unwrap();
        assert!(a.verdicts < 27);
        assert!(!a.shape(&labels).sum_mod3_homomorphism);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
        /// Renaming the states changes nothing the automaton claims: verdicts, minimal size, Z3,
        /// shape. (Under the lattice and the ring, with states renumbered at random.)
        #[test]
        fn state_names_do_not_matter(perm_seed in 0u64..10_000, ring in proptest::bool::ANY) {
            use rand::seq::SliceRandom;
            let cards = SetTask::sequences();
            let (labels, k) = if ring {
                let sigma = [2, 0, 1];
                let l: Vec<[usize; 4]> = cards
                    .iter()
                    .map(|c| [0, 1, 2, 3].map(|m| c[..m].iter().map(|&x| sigma[x]).sum::<usize>() % 3))
                    .collect();
                (l, 3)
            } else {
                lattice_labels(&cards)
            };
            let mut perm: Vec<usize> = (0..k).collect();
            perm.shuffle(&mut emt_core::rng::seeded(perm_seed));
            let renamed: Vec<[usize; 4]> = labels.iter().map(|l| l.map(|q| perm[q])).collect();
            let (a, b) = (SetAutomaton::tabulate(&labels, k, &cards).unwrap(), SetAutomaton::tabulate(&renamed, k, &cards).unwrap());
            proptest::prop_assert_eq!((a.verdicts, a.minimal, a.z3), (b.verdicts, b.minimal, b.z3));
            proptest::prop_assert_eq!(a.shape(&labels), b.shape(&renamed));
            proptest::prop_assert_eq!(a.verdicts, 27);
        }
    }
}
