//! The SET / mod-3 task of the phase-code paper (Murray, arXiv 2310.07908 v1), exactly as the
//! author's code (docs/DYNAMICS.md §7).

use std::sync::Mutex;

use emt_core::{Episode, Error, Result, Task, rng};
use ndarray::{Array2, Array3, ArrayView2};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};
use rand_distr::StandardNormal;

/// Colour names, index = colour (the Z3 value by our bijection G = 0, P = 1, R = 2).
pub const COLOURS: [char; 3] = ['G', 'P', 'R'];

/// How a card is presented.
#[derive(Debug, Clone, PartialEq)]
pub enum SetEncoding {
    /// One fixed vector per colour, `(3, dim)`, rows G, P, R (the paper: N(0, I_100) from the
    /// run's seed).
    Vectors(Array2<f64>),
    /// Three channels, one per colour (the author's later version).
    OneHot,
}

/// The timing of a trial (docs/DYNAMICS.md §7); [`Default`] is the paper's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetTiming {
    /// Trial length (50).
    pub steps: usize,
    /// Onsets are drawn uniformly from `first_onset..onset_bound` (3..40).
    pub first_onset: usize,
    /// Exclusive upper bound of the onsets (40).
    pub onset_bound: usize,
    /// Consecutive onsets are at least this far apart (5); drawn again until they are.
    pub min_gap: usize,
    /// Steps a card is held (2: its onset and the next).
    pub pulse: usize,
    /// Scored steps at the end of the trial (5).
    pub response: usize,
}

impl Default for SetTiming {
    fn default() -> Self {
        SetTiming { steps: 50, first_onset: 3, onset_bound: 40, min_gap: 5, pulse: 2, response: 5 }
    }
}

/// A trial's three cards, oldest first, colours `0..3`.
pub type Cards = [usize; 3];

/// The SET / mod-3 task: three cards, each one of three colours, shown at random onsets; the
/// target is `+1` on the last `response` steps if the three are all equal or all different
/// (9 of the 27 sequences: with colours as Z3 values, `a + b + c = 0 mod 3`), else `-1`.
///
/// As a [`Task`], `sample(5, B, rng)` draws `B` independent trials from the balanced training
/// distribution (each accepted sequence twice as likely as each rejected one, so the classes
/// are even), skipping held-out sequences; [`SetTask::training_set`] is the author's fixed
/// 900 + 900 set, [`SetEpochs`] serves it in reshuffled batches, [`SetTask::test_set`] is one
/// trial per sequence.
///
/// ```
/// use emt_core::Task;
/// let task = emt_tasks::SetTask::random(100, 0)?;
/// assert_eq!(emt_tasks::SetTask::sequences().iter().filter(|c| emt_tasks::SetTask::accepts(**c)).count(), 9);
/// let ep = task.sample(5, 8, &mut emt_core::rng::seeded(1))?;
/// assert_eq!((ep.inputs().dim(), ep.first_scored()), ((50, 8, 100), 45));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SetTask {
    encoding: SetEncoding,
    timing: SetTiming,
    held_out: Vec<usize>,
}

impl SetTask {
    /// Colour vectors `N(0, I_dim)` drawn from `seed` (stream 4), the paper's encoding.
    pub fn random(dim: usize, seed: u64) -> Result<Self> {
        emt_core::check::positive("dim", dim)?;
        let mut r = rng::stream(seed, 4);
        let v = Array2::from_shape_simple_fn((3, dim), || r.sample(StandardNormal));
        SetTask::new(SetEncoding::Vectors(v), SetTiming::default())
    }

    /// Any encoding and timing; errors on an inconsistent timing (onsets that cannot fit with
    /// their gaps, a response window overlapping the last possible card).
    pub fn new(encoding: SetEncoding, timing: SetTiming) -> Result<Self> {
        let t = timing;
        if t.pulse == 0 || t.response == 0 || t.first_onset >= t.onset_bound {
            return Err(Error::param(
                "timing",
                format!("{t:?}"),
                "needs pulse, response >= 1 and first_onset < onset_bound",
            ));
        }
        if t.first_onset + 2 * t.min_gap >= t.onset_bound {
            return Err(Error::param("timing", format!("{t:?}"), "three onsets with these gaps do not fit"));
        }
        if t.onset_bound - 1 + t.pulse > t.steps - t.response {
            return Err(Error::param("timing", format!("{t:?}"), "the last card would overlap the response window"));
        }
        if let SetEncoding::Vectors(v) = &encoding {
            if v.nrows() != 3 || v.ncols() == 0 {
                return Err(Error::shape("colour vectors", "(3, dim)", emt_core::check::fmt_shape(v.shape())));
            }
            emt_core::check::finite("colour vectors", v)?;
        }
        Ok(SetTask { encoding, timing, held_out: Vec::new() })
    }

    /// Leaves these sequences (indices `9 a + 3 b + c`) out of training, for generalisation.
    pub fn holding_out(mut self, sequences: &[usize]) -> Result<Self> {
        if let Some(&bad) = sequences.iter().find(|&&s| s >= 27) {
            return Err(Error::param("held-out sequence", bad, "must be < 27"));
        }
        self.held_out = sequences.to_vec();
        self.held_out.sort_unstable();
        self.held_out.dedup();
        let left: Vec<Cards> = Self::sequences()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !self.held_out.contains(i))
            .map(|x| x.1)
            .collect();
        if !left.iter().any(|c| Self::accepts(*c)) || left.iter().all(|c| Self::accepts(*c)) {
            return Err(Error::param("held-out sequences", format!("{sequences:?}"), "training needs both classes"));
        }
        Ok(self)
    }

    /// The 27 sequences, index `9 a + 3 b + c`.
    pub fn sequences() -> Vec<Cards> {
        (0..27).map(|i| [i / 9, (i / 3) % 3, i % 3]).collect()
    }

    /// All equal or all different, i.e. `a + b + c = 0 mod 3`.
    pub fn accepts(c: Cards) -> bool {
        (c[0] + c[1] + c[2]) % 3 == 0
    }

    /// `"GPR"` for `[0, 1, 2]`.
    pub fn name(c: Cards) -> String {
        c.iter().map(|&k| COLOURS[k]).collect()
    }

    /// Input size: the vectors' dimension, or 3 for one-hot.
    pub fn dim(&self) -> usize {
        match &self.encoding {
            SetEncoding::Vectors(v) => v.ncols(),
            SetEncoding::OneHot => 3,
        }
    }

    /// The colour vectors `(3, dim)` (one-hot: the identity).
    pub fn colour_vectors(&self) -> Array2<f64> {
        match &self.encoding {
            SetEncoding::Vectors(v) => v.clone(),
            SetEncoding::OneHot => Array2::eye(3),
        }
    }

    /// The timing.
    pub fn timing(&self) -> SetTiming {
        self.timing
    }

    /// Held-out sequences.
    pub fn held_out(&self) -> &[usize] {
        &self.held_out
    }

    /// Three sorted onsets with the paper's rule: uniform, redrawn until gaps are >= min_gap.
    pub fn onsets(&self, rng: &mut dyn RngCore) -> [usize; 3] {
        let t = self.timing;
        loop {
            let mut o = [0usize; 3];
            for v in &mut o {
                *v = rng.random_range(t.first_onset..t.onset_bound);
            }
            o.sort_unstable();
            if o[1] - o[0] >= t.min_gap && o[2] - o[1] >= t.min_gap {
                return o;
            }
        }
    }

    /// Writes one trial of `cards` at `onsets` into `inputs` `(T, d)` (zeroed first).
    fn write_trial(&self, cards: Cards, onsets: [usize; 3], mut inputs: ndarray::ArrayViewMut2<'_, f32>) {
        inputs.fill(0.0);
        let v = self.colour_vectors();
        for (&c, &o) in cards.iter().zip(&onsets) {
            for step in o..o + self.timing.pulse {
                for (x, &val) in inputs.row_mut(step).iter_mut().zip(v.row(c)) {
                    *x += val as f32;
                }
            }
        }
    }

    /// An episode of the given trials: inputs `(T, B, dim)`, targets `(T, B, 1)` (the label on
    /// the response steps, 0 before), scored from `T - response`.
    pub fn episode(&self, trials: &[(Cards, [usize; 3])]) -> Result<Episode> {
        emt_core::check::positive("trials", trials.len())?;
        let t = self.timing;
        let mut x = Array3::<f32>::zeros((t.steps, trials.len(), self.dim()));
        let mut y = Array3::<f32>::zeros((t.steps, trials.len(), 1));
        for (b, &(cards, onsets)) in trials.iter().enumerate() {
            self.write_trial(cards, onsets, x.slice_mut(ndarray::s![.., b, ..]));
            let label = if Self::accepts(cards) { 1.0 } else { -1.0 };
            for step in t.steps - t.response..t.steps {
                y[[step, b, 0]] = label;
            }
        }
        Episode::new(x, y, t.steps - t.response)
    }

    /// The author's training set: 50 trials per rejected sequence, `round(18 * 50 / 9) = 100`
    /// per accepted one (900 + 900 with nothing held out), timings drawn once; held-out
    /// sequences are skipped (their share is not redistributed).
    pub fn training_set(&self, rng: &mut dyn RngCore) -> Vec<(Cards, [usize; 3])> {
        let mut out = Vec::new();
        for (i, c) in Self::sequences().into_iter().enumerate() {
            if self.held_out.contains(&i) {
                continue;
            }
            let n = if Self::accepts(c) { 100 } else { 50 };
            for _ in 0..n {
                out.push((c, self.onsets(rng)));
            }
        }
        out
    }

    /// One trial per sequence (27, in index order), timings from `rng`.
    pub fn test_set(&self, rng: &mut dyn RngCore) -> Result<Episode> {
        let trials: Vec<(Cards, [usize; 3])> = Self::sequences().into_iter().map(|c| (c, self.onsets(rng))).collect();
        self.episode(&trials)
    }

    /// The paper's accuracy: the last step's output counts `+1` above 0.5, `-1` below -0.5, and
    /// is wrong in between. `outputs` `(T, B, 1)`, `targets` likewise.
    pub fn accuracy(outputs: ArrayView2<'_, f64>, labels: &[f32]) -> Result<f64> {
        if outputs.nrows() != labels.len() || outputs.ncols() != 1 {
            return Err(Error::shape(
                "outputs",
                format!("({}, 1)", labels.len()),
                emt_core::check::fmt_shape(outputs.shape()),
            ));
        }
        let hits = outputs
            .column(0)
            .iter()
            .zip(labels)
            .filter(|&(&o, &l)| (o > 0.5 && l > 0.0) || (o < -0.5 && l < 0.0))
            .count();
        Ok(hits as f64 / labels.len() as f64)
    }

    /// Sequences available for training, with their sampling weights (accepted twice).
    fn training_pool(&self) -> Vec<(Cards, u32)> {
        Self::sequences()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !self.held_out.contains(i))
            .map(|(_, c)| (c, if Self::accepts(c) { 2 } else { 1 }))
            .collect()
    }
}

impl Task for SetTask {
    fn input_dim(&self) -> usize {
        self.dim()
    }

    fn output_dim(&self) -> usize {
        1
    }

    fn input_phase(&self) -> usize {
        self.timing.steps - self.timing.response
    }

    /// `horizon` must be the response window (5 by default).
    fn sample(&self, horizon: usize, batch: usize, rng: &mut dyn RngCore) -> Result<Episode> {
        if horizon != self.timing.response {
            return Err(Error::param(
                "horizon",
                horizon,
                format!("the SET task scores its last {} steps", self.timing.response),
            ));
        }
        emt_core::check::positive("batch", batch)?;
        let pool = self.training_pool();
        let total: u32 = pool.iter().map(|p| p.1).sum();
        let trials: Vec<(Cards, [usize; 3])> = (0..batch)
            .map(|_| {
                let mut k = rng.random_range(0..total);
                let cards = pool.iter().find(|p| {
                    if k < p.1 {
                        true
                    } else {
                        k -= p.1;
                        false
                    }
                });
                let cards = cards.map_or([0, 0, 0], |p| p.0);
                (cards, self.onsets(rng))
            })
            .collect();
        self.episode(&trials)
    }
}

/// The author's training loop's data: the fixed training set, reshuffled every epoch and cut
/// into batches (the remainder dropped). As a [`Task`], each `sample` returns the next batch
/// (its `batch` must stay the same); the epoch counter is shared state behind a mutex.
#[derive(Debug)]
pub struct SetEpochs {
    task: SetTask,
    trials: Vec<(Cards, [usize; 3])>,
    state: Mutex<(Vec<usize>, usize, u64)>,
}

impl SetEpochs {
    /// The training set of `task` drawn from `rng`.
    pub fn new(task: SetTask, rng: &mut dyn RngCore) -> Self {
        let trials = task.training_set(rng);
        SetEpochs { task, trials, state: Mutex::new((Vec::new(), 0, 0)) }
    }

    /// Trials in the training set.
    pub fn len(&self) -> usize {
        self.trials.len()
    }

    /// True if nothing is left to train on (everything held out).
    pub fn is_empty(&self) -> bool {
        self.trials.is_empty()
    }

    /// Epochs started so far.
    pub fn epochs(&self) -> u64 {
        self.state.lock().map_or(0, |s| s.2)
    }

    /// The task.
    pub fn task(&self) -> &SetTask {
        &self.task
    }
}

impl Task for SetEpochs {
    fn input_dim(&self) -> usize {
        self.task.dim()
    }

    fn output_dim(&self) -> usize {
        1
    }

    fn input_phase(&self) -> usize {
        self.task.input_phase()
    }

    /// The next `batch` trials of the current epoch's order; a new shuffle (from `rng`) when
    /// fewer than `batch` remain.
    fn sample(&self, horizon: usize, batch: usize, rng: &mut dyn RngCore) -> Result<Episode> {
        if horizon != self.task.timing.response {
            return Err(Error::param(
                "horizon",
                horizon,
                format!("the SET task scores its last {} steps", self.task.timing.response),
            ));
        }
        if batch == 0 || batch > self.trials.len() {
            return Err(Error::param("batch", batch, format!("must be in 1..={}", self.trials.len())));
        }
        let mut st =
            self.state.lock().map_err(|_| Error::param("SetEpochs", "poisoned", "a sampling thread panicked"))?;
        if st.0.len() < st.1 + batch {
            let mut order: Vec<usize> = (0..self.trials.len()).collect();
            order.shuffle(rng);
            *st = (order, 0, st.2 + 1);
        }
        let picked: Vec<(Cards, [usize; 3])> = st.0[st.1..st.1 + batch].iter().map(|&i| self.trials[i]).collect();
        st.1 += batch;
        drop(st);
        self.task.episode(&picked)
    }
}

/// The label of a sequence as `+-1`.
pub fn set_label(c: Cards) -> f32 {
    if SetTask::accepts(c) { 1.0 } else { -1.0 }
}

/// Labels `(B)` of an episode built by [`SetTask::episode`] (its last target step).
pub fn set_labels(ep: &Episode) -> Vec<f32> {
    let t = ep.len() - 1;
    (0..ep.batch()).map(|b| ep.targets()[[t, b, 0]]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_27_sequences_and_their_labels() {
        let seqs = SetTask::sequences();
        assert_eq!(seqs.len(), 27);
        let accepted: Vec<String> = seqs.iter().filter(|c| SetTask::accepts(**c)).map(|c| SetTask::name(*c)).collect();
        assert_eq!(accepted.len(), 9);
        for c in &seqs {
            let all_equal = c[0] == c[1] && c[1] == c[2];
            let all_different = c[0] != c[1] && c[1] != c[2] && c[0] != c[2];
            assert_eq!(SetTask::accepts(*c), all_equal || all_different, "{}", SetTask::name(*c));
        }
        assert!(accepted.contains(&"GGG".to_string()) && accepted.contains(&"RPG".to_string()));
    }

    #[test]
    fn timing_balancing_and_determinism() {
        let task = SetTask::random(100, 3).unwrap();
        let mut r = rng::seeded(0);
        for _ in 0..2000 {
            let o = task.onsets(&mut r);
            assert!(o[0] >= 3 && o[2] < 40 && o[1] - o[0] >= 5 && o[2] - o[1] >= 5, "{o:?}");
        }
        let train = task.training_set(&mut rng::seeded(1));
        let acc = train.iter().filter(|t| SetTask::accepts(t.0)).count();
        assert_eq!((train.len(), acc), (1800, 900));
        assert_eq!(train, task.training_set(&mut rng::seeded(1)), "same seed, same data");
        assert_eq!(SetTask::random(100, 3).unwrap(), task, "same seed, same colours");
        assert_ne!(SetTask::random(100, 4).unwrap(), task);
        // A trial: the card's vector at its onset and the next step, zero elsewhere.
        let (cards, onsets) = train[0];
        let ep = task.episode(&[(cards, onsets)]).unwrap();
        let v = task.colour_vectors();
        for t in 0..50 {
            let expect: Vec<f32> = (0..100)
                .map(|i| {
                    (0..3)
                        .filter(|&k| t == onsets[k] || t == onsets[k] + 1)
                        .map(|k| v[[cards[k], i]] as f32)
                        .sum::<f32>()
                })
                .collect();
            let got: Vec<f32> = ep.inputs().slice(ndarray::s![t, 0, ..]).to_vec();
            assert_eq!(got, expect, "step {t}");
        }
        assert_eq!(ep.first_scored(), 45);
        assert!(ep.targets().slice(ndarray::s![45.., 0, 0]).iter().all(|&y| y == set_label(cards)));
        // Sampling is balanced too.
        let ep = task.sample(5, 4000, &mut rng::seeded(2)).unwrap();
        let pos = set_labels(&ep).iter().filter(|&&l| l > 0.0).count() as f64 / 4000.0;
        assert!((pos - 0.5).abs() < 0.03, "{pos}");
        assert!(task.sample(10, 4, &mut rng::seeded(2)).is_err());
    }

    #[test]
    fn hold_out_and_epochs() {
        let task = SetTask::random(10, 0).unwrap().holding_out(&[0, 1]).unwrap();
        let train = task.training_set(&mut rng::seeded(1));
        assert_eq!(train.len(), 1800 - 100 - 50, "GGG (accept) and GGP (reject) left out");
        assert!(SetTask::random(10, 0).unwrap().holding_out(&[27]).is_err());
        let all_accept: Vec<usize> = (0..27).filter(|&i| SetTask::accepts(SetTask::sequences()[i])).collect();
        assert!(SetTask::random(10, 0).unwrap().holding_out(&all_accept).is_err());
        let epochs = SetEpochs::new(SetTask::random(10, 0).unwrap(), &mut rng::seeded(0));
        let mut r = rng::seeded(5);
        for _ in 0..14 {
            epochs.sample(5, 128, &mut r).unwrap();
        }
        assert_eq!(epochs.epochs(), 1, "14 batches of 128 fit in 1800");
        epochs.sample(5, 128, &mut r).unwrap();
        assert_eq!(epochs.epochs(), 2, "the remainder (8) is dropped");
        let test = SetTask::random(10, 0).unwrap().test_set(&mut rng::seeded(3)).unwrap();
        assert_eq!(test.batch(), 27);
    }

    #[test]
    fn paper_accuracy_needs_a_margin() {
        let out = ndarray::array![[0.9], [0.4], [-0.7], [-0.2]];
        assert_eq!(SetTask::accuracy(out.view(), &[1.0, 1.0, -1.0, -1.0]).unwrap(), 0.5);
    }
}
