//! Forward pass and backpropagation through time, written once for every cell.
//!
//! Layout inside the kernels: time-major, batch-major rows, `(T*B, dim)` row-major buffers,
//! so that step `t` is the contiguous block of rows `t*B .. (t+1)*B`. Per chunk of the batch:
//!
//! - forward: the input projections `X W_ih^T (+ b)` of all steps in one GEMM `(T*B, G N)`;
//!   then per step one GEMM with `W_hh` (the ctgru: two, its reset acts before the matmul)
//!   and the cell's pointwise update; outputs only for the scored window, one GEMM.
//! - backward: `dH = dO W_r` (one GEMM); per step the cell's fused pointwise derivative and
//!   one GEMM back through `W_hh` (ctgru: two); the weight gradients as GEMMs over all steps
//!   after the sweep.
//!
//! A cell ([`CellSpec`]) supplies only the pointwise parts and its parameter table; the
//! Elman path performs exactly the operations of the stage-1 engine (same numbers).
//!
//! Threads split the batch; each owns its buffers (allocated once, grown only when a longer
//! episode arrives) and its gradient, and gradients are summed in thread order, so a fixed
//! thread count gives bit-identical results. Training noise (ctrnn) is drawn per sequence
//! from a stream named by the seed, the call count and the sequence index, so it does not
//! depend on the thread count either.

use emt_core::{Episode, Error, Real, Result, check};
use ndarray::{Array3, ArrayView2, ArrayView3, ArrayViewMut2, Axis, s};
use rand::Rng;
use rand_distr::StandardNormal;

use crate::kernels::{EngineFloat, TanhMode, gemm, relu_backward, tanh_backward};
use crate::profile::{Clock, Phase, PhaseTimes};
use crate::{CellSpec, Layout, Params};

/// Loss and accuracy of one batch (MSE and sign accuracy over scored steps, docs/EMT.md §2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats {
    /// The objective: mean squared error over scored elements plus the rate penalty.
    pub loss: f64,
    /// Fraction of scored elements with `sign(o) == sign(y)` (`sign(0) = +1`).
    pub accuracy: f64,
    /// The rate penalty `c * mean(rate^2)` included in `loss` (0 without one).
    pub penalty: f64,
}

/// Per-thread buffers, sized for `(T, B_chunk)`.
#[derive(Debug)]
struct Worker<F: EngineFloat> {
    x: Vec<F>,
    y: Vec<F>,
    /// States `h_t` `(T*B, N)` (elman: the pre-activations until tanh is applied).
    h: Vec<F>,
    /// Per-cell `(T*B, N)`: ctrnn `tanh h_t`; gru `m_t = W_hn h_(t-1) + b_hn`; ctgru `r_t * h_(t-1)`;
    /// lstm the cell states `c_t`.
    a: Vec<F>,
    /// Gates `(T*B, G N)`: input projections, then the gate values (gru `[r, z, n]`, ctgru
    /// `[r, z, c]`, lstm `[i, f, g, o]`).
    g: Vec<F>,
    /// gru, lstm: the recurrent product of one step `(B, G N)`.
    rec: Vec<F>,
    /// lstm: `tanh(c_t)` `(T*B, N)` (the cell states `c_t` are in `a`).
    tc: Vec<F>,
    /// ctrnn training noise `(T*B, N)`.
    noise: Vec<F>,
    out: Vec<F>,
    /// Direct hidden-state gradients `(T*B, N)`, then (elman, ctrnn) the pre-activation gradients.
    dpre: Vec<F>,
    /// gru, ctgru: gate pre-activation gradients `(T*B, G N)`.
    dg: Vec<F>,
    /// gru: recurrent-product gradients `(T*B, 3N)`.
    drec: Vec<F>,
    /// Gradient flowing to the previous state `(B, N)`, and a scratch row block.
    dh: Vec<F>,
    tmp: Vec<F>,
    /// The fixed initial state `h_(-1)` repeated per sequence `(B, N)`, and its recurrent
    /// operand (`tanh h0` for the ctrnn, else `h0`); used only when `has_h0`.
    h0: Vec<F>,
    s0: Vec<F>,
    has_h0: bool,
    grad: Option<Params<F>>,
    clock: Clock,
}

impl<F: EngineFloat> Default for Worker<F> {
    fn default() -> Self {
        Worker {
            x: Vec::new(),
            y: Vec::new(),
            h: Vec::new(),
            a: Vec::new(),
            g: Vec::new(),
            rec: Vec::new(),
            tc: Vec::new(),
            noise: Vec::new(),
            out: Vec::new(),
            dpre: Vec::new(),
            dg: Vec::new(),
            drec: Vec::new(),
            dh: Vec::new(),
            tmp: Vec::new(),
            h0: Vec::new(),
            s0: Vec::new(),
            has_h0: false,
            grad: None,
            clock: Clock::default(),
        }
    }
}

fn grow<F: Copy + Default>(v: &mut Vec<F>, len: usize) {
    if v.len() < len {
        v.resize(len, F::default());
    }
}

/// What one chunk contributes: squared-error sum, correct-sign count, sum of squared rates.
#[derive(Debug, Clone, Copy, Default)]
struct Partial {
    sse: f64,
    correct: usize,
    rate_sq: f64,
}

/// Settings shared by every chunk of one call.
#[derive(Debug, Clone, Copy)]
struct Run {
    mode: TanhMode,
    backward: bool,
    /// Rate-penalty coefficient `c`.
    penalty: f64,
    /// Noise std and the stream seed of this call (None: no noise).
    noise: Option<(f64, u64)>,
}

/// The training engine: forward, BPTT, and batch statistics, on `threads` threads, for any
/// [`CellSpec`] (the cell comes with the parameters' [`Layout`]).
///
/// Options: a rate penalty `c * mean(rate^2)` over all steps, sequences and units (`rate` is
/// what the readout sees: `h`, or `tanh h` for the ctrnn), and for the ctrnn additive
/// Gaussian noise of std `sigma` inside the alpha term (training only: [`evaluate`](Self::evaluate)
/// and [`forward`](Self::forward) are noiseless).
///
/// ```
/// use emt_core::{Task, rng};
/// use emt_rnn::{ElmanParams, Engine, TanhMode};
/// let task = emt_tasks::RepeatCopy::new(3, 4, 2)?;
/// let ep = task.sample_classic(8, &mut rng::seeded(0))?;
/// let params = ElmanParams::<f32>::init(32, 3, 3, false, &mut rng::seeded(1))?;
/// let mut grad = ElmanParams::zeros(params.layout());
/// let mut engine = Engine::new(1, TanhMode::Fast)?;
/// let stats = engine.loss_and_grad(&params, &ep, &mut grad)?;
/// assert!(stats.loss > 0.0 && grad.as_slice().iter().any(|&g| g != 0.0));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Engine<F: EngineFloat> {
    threads: usize,
    mode: TanhMode,
    penalty: f64,
    noise: Option<(f64, u64)>,
    calls: u64,
    h0: Option<Vec<f64>>,
    workers: Vec<Worker<F>>,
    /// Caller-side phase times (reduction, total) when profiling.
    times: Option<PhaseTimes>,
}

impl<F: EngineFloat> Engine<F> {
    /// An engine on `threads >= 1` threads.
    pub fn new(threads: usize, mode: TanhMode) -> Result<Self> {
        check::positive("threads", threads)?;
        Ok(Engine {
            threads,
            mode,
            penalty: 0.0,
            noise: None,
            calls: 0,
            h0: None,
            workers: (0..threads).map(|_| Worker::default()).collect(),
            times: None,
        })
    }

    /// Measures the wall time of each phase of every [`loss_and_grad`](Self::loss_and_grad)
    /// call (off by default; [`phase_times`](Self::phase_times) reads them). Results are the
    /// same either way.
    pub fn with_phase_times(mut self, on: bool) -> Self {
        self.times = on.then(PhaseTimes::default);
        for w in &mut self.workers {
            w.clock = Clock::new(on);
        }
        self
    }

    /// The phase times summed since [`with_phase_times`](Self::with_phase_times) (zeros if off).
    pub fn phase_times(&self) -> PhaseTimes {
        let mut t = self.workers.first().map(|w| w.clock.times).unwrap_or_default();
        if let Some(own) = &self.times {
            (t.reduction, t.total, t.calls) = (own.reduction, own.total, own.calls);
        }
        t
    }

    /// Adds the rate penalty `c * mean(rate^2)` to the training loss (`c >= 0`, finite).
    pub fn with_rate_penalty(mut self, c: f64) -> Result<Self> {
        if !(c.is_finite() && c >= 0.0) {
            return Err(Error::param("rate_penalty", c, "must be finite and >= 0"));
        }
        self.penalty = c;
        Ok(self)
    }

    /// Training noise of std `sigma >= 0` (ctrnn only; other cells error at the first call),
    /// drawn from `seed`: call `k` (counted from 0 by [`loss_and_grad`](Self::loss_and_grad))
    /// and sequence `b` use their own stream, so runs are reproducible and independent of the
    /// thread count. `sigma = 0` is the noiseless path exactly.
    pub fn with_noise(mut self, sigma: f64, seed: u64) -> Result<Self> {
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(Error::param("noise", sigma, "must be finite and >= 0"));
        }
        self.noise = (sigma > 0.0).then_some((sigma, seed));
        Ok(self)
    }

    /// Starts every sequence from the fixed state `h0` `(N)` instead of zeros (not trained;
    /// the SET-task paper uses ones). Checked against the network at each call.
    pub fn with_h0(mut self, h0: Vec<f64>) -> Result<Self> {
        check::finite("h0", &ndarray::ArrayView1::from(&h0))?;
        self.h0 = Some(h0);
        Ok(self)
    }

    /// Thread count.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Tanh mode.
    pub fn mode(&self) -> TanhMode {
        self.mode
    }

    /// Loss, accuracy and the exact gradient of the loss (written into `grad`, same layout as
    /// `params`) for one episode, scored where the episode says.
    pub fn loss_and_grad(&mut self, params: &Params<F>, episode: &Episode, grad: &mut Params<F>) -> Result<BatchStats> {
        let mask = episode.scored_mask();
        self.loss_and_grad_masked(params, episode.inputs(), episode.targets(), &mask, grad)
    }

    /// [`loss_and_grad`](Self::loss_and_grad) on raw arrays of any float type: inputs
    /// `(T, B, d_in)`, targets `(T, B, d_out)`, scored from `first_scored` (e.g. `f64` data for
    /// gradient checks and PyTorch parity).
    pub fn loss_and_grad_arrays<S: Real>(
        &mut self,
        params: &Params<F>,
        inputs: ArrayView3<'_, S>,
        targets: ArrayView3<'_, S>,
        first_scored: usize,
        grad: &mut Params<F>,
    ) -> Result<BatchStats> {
        let t_len = inputs.dim().0;
        if first_scored >= t_len.max(1) {
            return Err(Error::param("first_scored", first_scored, format!("must be < T = {t_len}")));
        }
        let mask: Vec<bool> = (0..t_len).map(|t| t >= first_scored).collect();
        self.loss_and_grad_masked(params, inputs, targets, &mask, grad)
    }

    /// The general form: the MSE is over the steps `t` with `mask[t]` (length `T`, at least
    /// one `true`), any pattern.
    pub fn loss_and_grad_masked<S: Real>(
        &mut self,
        params: &Params<F>,
        inputs: ArrayView3<'_, S>,
        targets: ArrayView3<'_, S>,
        mask: &[bool],
        grad: &mut Params<F>,
    ) -> Result<BatchStats> {
        let batch = Batch::new(params.layout(), inputs, targets, mask)?;
        if grad.layout() != params.layout() {
            return Err(Error::shape("grad", format!("{:?}", params.layout()), format!("{:?}", grad.layout())));
        }
        let noise = self.noise_for_call(params.layout())?;
        let run = Run { mode: self.mode, backward: true, penalty: self.penalty, noise };
        let start = self.times.is_some().then(std::time::Instant::now);
        let partials = self.run_chunks(params, &batch, run)?;
        let reduce = self.times.is_some().then(std::time::Instant::now);
        // Fixed reduction order: thread 0, then 1, ...
        grad.fill_zero();
        let g = grad.as_mut_slice();
        for part in self.workers[..partials.len()].iter().filter_map(|w| w.grad.as_ref()) {
            for (a, &b) in g.iter_mut().zip(part.as_slice()) {
                *a += b;
            }
        }
        if let (Some(t), Some(start), Some(reduce)) = (self.times.as_mut(), start, reduce) {
            t.reduction += reduce.elapsed().as_secs_f64();
            t.total += start.elapsed().as_secs_f64();
            t.calls += 1;
        }
        Ok(self.summarise(&partials, &batch, params.layout()))
    }

    /// Loss and accuracy without gradients (and without noise).
    pub fn evaluate(&mut self, params: &Params<F>, episode: &Episode) -> Result<BatchStats> {
        let mask = episode.scored_mask();
        let batch = Batch::new(params.layout(), episode.inputs(), episode.targets(), &mask)?;
        let run = Run { mode: self.mode, backward: false, penalty: self.penalty, noise: None };
        let partials = self.run_chunks(params, &batch, run)?;
        Ok(self.summarise(&partials, &batch, params.layout()))
    }

    fn noise_for_call(&mut self, l: Layout) -> Result<Option<(f64, u64)>> {
        let Some((sigma, seed)) = self.noise else { return Ok(None) };
        if !matches!(l.cell, CellSpec::CtRnn { .. }) {
            return Err(Error::param("noise", sigma, format!("only the ctrnn takes noise, not {}", l.cell.name())));
        }
        // Distinct, well-mixed seeds per call.
        let z = splitmix(seed ^ splitmix(self.calls));
        self.calls += 1;
        Ok(Some((sigma, z)))
    }

    fn summarise<S: Real>(&self, partials: &[Partial], batch: &Batch<'_, S>, l: Layout) -> BatchStats {
        let sse: f64 = partials.iter().map(|p| p.sse).sum();
        let correct: usize = partials.iter().map(|p| p.correct).sum();
        let rate_sq: f64 = partials.iter().map(|p| p.rate_sq).sum();
        let count = batch.count();
        let penalty = if self.penalty > 0.0 { self.penalty * rate_sq / batch.state_count(l) as f64 } else { 0.0 };
        BatchStats { loss: sse / count as f64 + penalty, accuracy: correct as f64 / count as f64, penalty }
    }

    /// Outputs `(T, B, d_out)` and hidden states `(T, B, N)` for inputs `(T, B, d_in)`
    /// (single-threaded, noiseless; for inference and tests).
    pub fn forward<S: Real>(
        &mut self,
        params: &Params<F>,
        inputs: ArrayView3<'_, S>,
    ) -> Result<(Array3<F>, Array3<F>)> {
        let l = params.layout();
        let (t_len, batch, d_in) = inputs.dim();
        check::positive("T", t_len)?;
        check::positive("batch", batch)?;
        if d_in != l.input {
            return Err(Error::shape("inputs", format!("(T, B, {})", l.input), check::fmt_shape(inputs.shape())));
        }
        check::finite("inputs", &inputs)?;
        let mode = self.mode;
        self.prepare_h0(l, batch, mode)?;
        let w = &mut self.workers[0];
        load(&mut w.x, inputs, 0, batch);
        forward_hidden(params, w, t_len, batch, self.mode, None)?;
        let rows = t_len * batch;
        let h = view(&w.h, rows, l.hidden)?;
        let r = if l.cell.reads_tanh() { view(&w.a, rows, l.hidden)? } else { h.view() };
        let mut out = ndarray::Array2::<F>::zeros((rows, l.output));
        gemm(F::one(), &r, &params.w_r().t(), F::zero(), &mut out.view_mut());
        if let Some(b) = params.b_r() {
            out += &b;
        }
        let hidden = h.to_owned().into_shape_with_order((t_len, batch, l.hidden)).map_err(shape_err)?;
        let outputs = out.into_shape_with_order((t_len, batch, l.output)).map_err(shape_err)?;
        Ok((outputs, hidden))
    }

    /// Fills every worker's `h0` rows for chunks of up to `rows` sequences.
    fn prepare_h0(&mut self, l: Layout, rows: usize, mode: TanhMode) -> Result<()> {
        let Some(h0) = &self.h0 else {
            self.workers.iter_mut().for_each(|w| w.has_h0 = false);
            return Ok(());
        };
        if l.cell == CellSpec::Lstm {
            return Err(Error::param(
                "h0",
                "given",
                "the engine starts an lstm from h = c = 0 (a fixed h0 would need c0 too)",
            ));
        }
        if h0.len() != l.hidden {
            return Err(Error::shape("h0", format!("({})", l.hidden), format!("({})", h0.len())));
        }
        for w in &mut self.workers {
            w.h0.clear();
            for _ in 0..rows {
                w.h0.extend(h0.iter().map(|&v| F::of(v)));
            }
            w.s0.clone_from(&w.h0);
            if l.cell.reads_tanh() {
                F::tanh_in_place(&mut w.s0, mode);
            }
            w.has_h0 = true;
        }
        Ok(())
    }

    fn run_chunks<S: Real>(&mut self, params: &Params<F>, data: &Batch<'_, S>, run: Run) -> Result<Vec<Partial>> {
        let batch = data.inputs.dim().1;
        let chunks = self.threads.min(batch);
        self.prepare_h0(params.layout(), batch.div_ceil(chunks), run.mode)?;
        let bounds: Vec<(usize, usize)> = (0..chunks).map(|k| (k * batch / chunks, (k + 1) * batch / chunks)).collect();
        let workers = &mut self.workers[..chunks];
        if chunks == 1 {
            return Ok(vec![run_chunk(params, data, bounds[0], &mut workers[0], run)?]);
        }
        // rayon's pool keeps its threads alive between steps (spawning two OS threads per
        // step cost measurable time at small N). Chunks and the reduction order are fixed, so
        // the result does not depend on which pool thread runs which chunk.
        let mut partials: Vec<Result<Partial>> = (0..chunks).map(|_| Ok(Partial::default())).collect();
        rayon::scope(|scope| {
            for ((w, &b), out) in workers.iter_mut().zip(&bounds).zip(partials.iter_mut()) {
                scope.spawn(move |_| *out = run_chunk(params, data, b, w, run));
            }
        });
        partials.into_iter().collect()
    }
}

/// SplitMix64's output function of `x + golden`: a bijective mix for deriving seeds.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn shape_err(e: ndarray::ShapeError) -> Error {
    Error::shape("engine buffer", "consistent sizes", e.to_string())
}

/// `(rows, cols)` view of the front of a worker buffer. Buffers are grown to fit before use,
/// so this only fails if that invariant breaks, and then as an error, not a panic.
fn view<F>(buf: &[F], rows: usize, cols: usize) -> Result<ArrayView2<'_, F>> {
    let len = rows * cols;
    let front = buf
        .get(..len)
        .ok_or_else(|| Error::shape("engine buffer", format!("{len} values"), format!("{}", buf.len())))?;
    ArrayView2::from_shape((rows, cols), front).map_err(shape_err)
}

/// Mutable counterpart of [`view`].
fn view_mut<F>(buf: &mut [F], rows: usize, cols: usize) -> Result<ArrayViewMut2<'_, F>> {
    let (len, have) = (rows * cols, buf.len());
    let front =
        buf.get_mut(..len).ok_or_else(|| Error::shape("engine buffer", format!("{len} values"), format!("{have}")))?;
    ArrayViewMut2::from_shape((rows, cols), front).map_err(shape_err)
}

/// Validated training data for one call: inputs `(T, B, d_in)`, targets `(T, B, d_out)`,
/// scored steps `mask` (their span `first..=last`).
struct Batch<'a, S: Real> {
    inputs: ArrayView3<'a, S>,
    targets: ArrayView3<'a, S>,
    mask: Vec<bool>,
    first: usize,
    last: usize,
}

impl<'a, S: Real> Batch<'a, S> {
    fn new(l: Layout, inputs: ArrayView3<'a, S>, targets: ArrayView3<'a, S>, mask: &[bool]) -> Result<Self> {
        let (t_len, batch, d_in) = inputs.dim();
        check::positive("T", t_len)?;
        check::positive("batch", batch)?;
        if d_in != l.input {
            return Err(Error::shape(
                "inputs",
                format!("(T, B, d_in) with d_in = {} (the network's)", l.input),
                check::fmt_shape(inputs.shape()),
            ));
        }
        check::shape("targets", &targets, &[t_len, batch, l.output])?;
        if mask.len() != t_len {
            return Err(Error::shape("score mask", format!("{t_len} steps"), mask.len().to_string()));
        }
        let (Some(first), Some(last)) = (mask.iter().position(|&m| m), mask.iter().rposition(|&m| m)) else {
            return Err(Error::param("score mask", "all false", "must score at least one step"));
        };
        check::finite("inputs", &inputs)?;
        check::finite("targets", &targets)?;
        Ok(Batch { inputs, targets, mask: mask.to_vec(), first, last })
    }

    /// Number of scored elements (the MSE denominator).
    fn count(&self) -> usize {
        let (_, batch, d_out) = self.targets.dim();
        self.mask.iter().filter(|&&m| m).count() * batch * d_out
    }

    /// Number of rate values (the rate penalty's denominator): `T * B * N`.
    fn state_count(&self, l: Layout) -> usize {
        let (t_len, batch, _) = self.inputs.dim();
        t_len * batch * l.hidden
    }
}

/// Copies batch rows `b0..b1` of a `(T, B, d)` array into a `(T, b1-b0, d)` row-major buffer.
fn load<F: EngineFloat, S: Real>(buf: &mut Vec<F>, src: ArrayView3<'_, S>, b0: usize, b1: usize) {
    let (t_len, _, d) = src.dim();
    grow(buf, t_len * (b1 - b0) * d);
    let mut k = 0;
    for t in 0..t_len {
        for b in b0..b1 {
            for i in 0..d {
                buf[k] = F::of(src[[t, b, i]].f64());
                k += 1;
            }
        }
    }
}

/// Fills `w.noise` `(T, b1-b0, N)` with `sigma * xi`, sequence `b` from its own
/// Xoshiro256++ generator seeded by `(seed, b)` (platform-stable; ChaCha8 here made the noise
/// half of a ctrnn step).
fn draw_noise<F: EngineFloat>(
    buf: &mut Vec<F>,
    (sigma, seed): (f64, u64),
    t_len: usize,
    (b0, b1): (usize, usize),
    n: usize,
) {
    use rand::SeedableRng;
    let bc = b1 - b0;
    grow(buf, t_len * bc * n);
    for b in b0..b1 {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(splitmix(seed ^ splitmix(b as u64)));
        for t in 0..t_len {
            let row = (t * bc + b - b0) * n;
            for v in &mut buf[row..row + n] {
                let xi: f64 = r.sample(StandardNormal);
                *v = F::of(sigma * xi);
            }
        }
    }
}

/// Forward pass of one chunk: `w.x` `(T*B, d_in)` -> `w.h` `(T*B, N)` and the cell's caches.
fn forward_hidden<F: EngineFloat>(
    p: &Params<F>,
    w: &mut Worker<F>,
    t_len: usize,
    batch: usize,
    mode: TanhMode,
    noise: Option<&[F]>,
) -> Result<()> {
    let l = p.layout();
    let (n, gn, rows) = (l.hidden, l.gate_rows(), t_len * batch);
    grow(&mut w.h, rows * n);
    let xv = view(&w.x, rows, l.input)?;
    match l.cell {
        CellSpec::Elman | CellSpec::ElmanRelu => {
            let mut hv = view_mut(&mut w.h, rows, n)?;
            gemm(F::one(), &xv, &p.w_ih().t(), F::zero(), &mut hv);
            if let (Some(a), Some(b)) = (p.b_ih(), p.b_hh()) {
                let bias = &a + &b;
                hv += &bias;
            }
            w.clock.lap(Phase::Input);
            let h0 = w.has_h0.then(|| &w.h0[..batch * n]);
            elman_forward(p, &mut w.h[..rows * n], h0, (t_len, batch), mode, &mut w.clock)
        }
        CellSpec::CtRnn { alpha } => {
            grow(&mut w.a, rows * n);
            let mut hv = view_mut(&mut w.h, rows, n)?;
            gemm(F::one(), &xv, &p.w_ih().t(), F::zero(), &mut hv);
            if let Some(b) = p.b_hh() {
                hv += &b;
            }
            w.clock.lap(Phase::Input);
            ctrnn_forward(p, w, alpha, t_len, batch, mode, noise)
        }
        CellSpec::Gru | CellSpec::CtGru { .. } | CellSpec::Lstm => {
            grow(&mut w.a, rows * n);
            grow(&mut w.g, rows * gn);
            let mut gv = view_mut(&mut w.g, rows, gn)?;
            gemm(F::one(), &xv, &p.w_ih().t(), F::zero(), &mut gv);
            if let Some(b) = if l.cell.has_bias_ih() { p.b_ih() } else { p.b_hh() } {
                gv += &b;
            }
            if let (CellSpec::Lstm, Some(b)) = (l.cell, p.b_hh()) {
                // The LSTM's recurrent bias is outside any gate product: add it once here.
                gv += &b;
            }
            w.clock.lap(Phase::Input);
            match l.cell {
                CellSpec::CtGru { dt } => ctgru_forward(p, w, dt, t_len, batch, mode),
                CellSpec::Lstm => lstm_forward(p, w, t_len, batch, mode),
                _ => gru_forward(p, w, t_len, batch, mode),
            }
        }
    }
}

/// A row-major copy of `w^T`, made once per call and reused by every step's product: the
/// GEMM runs 10-20% faster on a contiguous right-hand side than on a transposed view (train_step
/// at N = 256, 2 threads: 2.879 -> 2.321 ms).
fn transposed<F: EngineFloat>(w: ArrayView2<'_, F>) -> ndarray::Array2<F> {
    w.t().as_standard_layout().into_owned()
}

/// Elman: `h` holds the input projections; per step add `h_(t-1) W_hh^T`, then tanh (or relu).
fn elman_forward<F: EngineFloat>(
    p: &Params<F>,
    h: &mut [F],
    h0: Option<&[F]>,
    (t_len, batch): (usize, usize),
    mode: TanhMode,
    clock: &mut Clock,
) -> Result<()> {
    let n = p.layout().hidden;
    let relu = p.layout().cell == CellSpec::ElmanRelu;
    let step = batch * n;
    let w_hh_t = transposed(p.w_hh());
    let w_hh_t = w_hh_t.view();
    for t in 0..t_len {
        let (done, rest) = h.split_at_mut(t * step);
        let cur = &mut rest[..step];
        let prev = if t > 0 { Some(&done[(t - 1) * step..]) } else { h0 };
        if let Some(prev) = prev {
            let prev = view(prev, batch, n)?;
            let mut cv = view_mut(cur, batch, n)?;
            gemm(F::one(), &prev, &w_hh_t, F::one(), &mut cv);
            clock.lap(Phase::RecurrentForward);
        }
        if relu {
            cur.iter_mut().for_each(|v| *v = v.max(F::zero()));
        } else {
            F::tanh_in_place(cur, mode);
        }
        clock.lap(Phase::ForwardPointwise);
    }
    Ok(())
}

/// CT-RNN: `h` holds `W_ih x + b`; `h_t = (1-alpha) h_(t-1) + alpha (h_t + tanh(h_(t-1)) W_hh^T + noise)`.
fn ctrnn_forward<F: EngineFloat>(
    p: &Params<F>,
    w: &mut Worker<F>,
    alpha: f64,
    t_len: usize,
    batch: usize,
    mode: TanhMode,
    noise: Option<&[F]>,
) -> Result<()> {
    let n = p.layout().hidden;
    let step = batch * n;
    let (al, keep) = (F::of(alpha), F::of(1.0 - alpha));
    let w_hh_t = transposed(p.w_hh());
    let w_hh_t = w_hh_t.view();
    for t in 0..t_len {
        let (done, rest) = w.h.split_at_mut(t * step);
        let cur = &mut rest[..step];
        let (a_prev, h_prev) = match (t, w.has_h0) {
            (0, false) => (None, None),
            (0, true) => (Some(&w.s0[..step]), Some(&w.h0[..step])),
            _ => (Some(&w.a[(t - 1) * step..t * step]), Some(&done[(t - 1) * step..])),
        };
        if let Some(a_prev) = a_prev {
            let a_prev = view(a_prev, batch, n)?;
            let mut cv = view_mut(cur, batch, n)?;
            gemm(F::one(), &a_prev, &w_hh_t, F::one(), &mut cv);
            w.clock.lap(Phase::RecurrentForward);
        }
        if let Some(xi) = noise {
            cur.iter_mut().zip(&xi[t * step..(t + 1) * step]).for_each(|(c, &e)| *c += e);
        }
        match h_prev {
            Some(prev) => cur.iter_mut().zip(prev).for_each(|(c, &h)| *c = keep * h + al * *c),
            None => cur.iter_mut().for_each(|c| *c *= al),
        }
        let a = &mut w.a[t * step..(t + 1) * step];
        a.copy_from_slice(cur);
        F::tanh_in_place(a, mode);
        w.clock.lap(Phase::ForwardPointwise);
    }
    Ok(())
}

/// GRU (PyTorch): `g` holds `W_ih x + b_ih`; per step `rec = b_hh + h_(t-1) W_hh^T`, then
/// `r, z = s(g + rec)`, `m = rec_n`, `n = tanh(g_n + r m)`, `h = (1-z) n + z h_(t-1)`.
/// Leaves `g_t = [r, z, n]` and `a_t = m`.
fn gru_forward<F: EngineFloat>(
    p: &Params<F>,
    w: &mut Worker<F>,
    t_len: usize,
    batch: usize,
    mode: TanhMode,
) -> Result<()> {
    let n = p.layout().hidden;
    let (step, gstep) = (batch * n, batch * 3 * n);
    let w_hh_t = transposed(p.w_hh());
    let w_hh_t = w_hh_t.view();
    grow(&mut w.rec, gstep);
    for t in 0..t_len {
        {
            w.clock.lap(Phase::ForwardPointwise);
            let mut rv = view_mut(&mut w.rec, batch, 3 * n)?;
            match p.b_hh() {
                Some(b) => rv.rows_mut().into_iter().for_each(|mut r| r.assign(&b)),
                None => rv.fill(F::zero()),
            }
            let prev = if t > 0 { Some(&w.h[(t - 1) * step..t * step]) } else { w.has_h0.then(|| &w.h0[..step]) };
            if let Some(prev) = prev {
                let prev = view(prev, batch, n)?;
                gemm(F::one(), &prev, &w_hh_t, F::one(), &mut rv);
            }
            w.clock.lap(Phase::RecurrentForward);
        }
        let (done, rest) = w.h.split_at_mut(t * step);
        let cur = &mut rest[..step];
        // h_(t-1) for the whole step (None: zeros), sliced per row below so that the element
        // loops are plain zips the compiler vectorises.
        let prev: Option<&[F]> = if t > 0 { Some(&done[(t - 1) * step..]) } else { w.has_h0.then(|| &w.h0[..step]) };
        let g = &mut w.g[t * gstep..(t + 1) * gstep];
        let m = &mut w.a[t * step..(t + 1) * step];
        for b in 0..batch {
            let gr = &mut g[b * 3 * n..(b + 1) * 3 * n];
            let rr = &w.rec[b * 3 * n..(b + 1) * 3 * n];
            gr[..2 * n].iter_mut().zip(&rr[..2 * n]).for_each(|(x, &y)| *x += y);
            F::sigmoid_in_place(&mut gr[..2 * n], mode);
            let mb = &mut m[b * n..(b + 1) * n];
            mb.copy_from_slice(&rr[2 * n..]);
            let (rz, gn) = gr.split_at_mut(2 * n);
            gn.iter_mut().zip(&rz[..n]).zip(mb.iter()).for_each(|((x, &r), &mm)| *x += r * mm);
            F::tanh_in_place(gn, mode);
            let hb = &mut cur[b * n..(b + 1) * n];
            let zs = &rz[n..2 * n];
            match prev {
                Some(pv) => {
                    let hp = &pv[b * n..(b + 1) * n];
                    for (((h, &z), &nn), &hp) in hb.iter_mut().zip(zs).zip(gn.iter()).zip(hp) {
                        *h = (F::one() - z) * nn + z * hp;
                    }
                }
                None => {
                    for ((h, &z), &nn) in hb.iter_mut().zip(zs).zip(gn.iter()) {
                        *h = (F::one() - z) * nn + z * F::zero();
                    }
                }
            }
        }
    }
    w.clock.lap(Phase::ForwardPointwise);
    Ok(())
}

/// LSTM: `g` holds `W_ih x + b_ih + b_hh`; per step `g_t += h_(t-1) W_hh^T`, `[i, f, o] = s(.)`,
/// `g = tanh(.)`, `c_t = f c_(t-1) + i g`, `h_t = o tanh(c_t)`. Leaves `g_t = [i, f, g, o]`,
/// `a_t = c_t`, `tc_t = tanh(c_t)` (from `h = c = 0`).
fn lstm_forward<F: EngineFloat>(
    p: &Params<F>,
    w: &mut Worker<F>,
    t_len: usize,
    batch: usize,
    mode: TanhMode,
) -> Result<()> {
    let n = p.layout().hidden;
    let (step, gstep) = (batch * n, batch * 4 * n);
    let w_hh_t = transposed(p.w_hh());
    let w_hh_t = w_hh_t.view();
    grow(&mut w.tc, t_len * step);
    for t in 0..t_len {
        w.clock.lap(Phase::ForwardPointwise);
        if t > 0 {
            // The recurrent product goes straight onto the input projections (both biases are
            // already there): no per-step buffer to fill and add.
            let prev = view(&w.h[(t - 1) * step..t * step], batch, n)?;
            let mut gv = view_mut(&mut w.g[t * gstep..(t + 1) * gstep], batch, 4 * n)?;
            gemm(F::one(), &prev, &w_hh_t, F::one(), &mut gv);
        }
        w.clock.lap(Phase::RecurrentForward);
        let (c_done, c_rest) = w.a.split_at_mut(t * step);
        let c_prev: Option<&[F]> = (t > 0).then(|| &c_done[(t - 1) * step..]);
        let c_cur = &mut c_rest[..step];
        let g = &mut w.g[t * gstep..(t + 1) * gstep];
        let h = &mut w.h[t * step..(t + 1) * step];
        let tc = &mut w.tc[t * step..(t + 1) * step];
        for b in 0..batch {
            let gr = &mut g[b * 4 * n..(b + 1) * 4 * n];
            let (ifg, o) = gr.split_at_mut(3 * n);
            let (i_f, gg) = ifg.split_at_mut(2 * n);
            F::sigmoid_in_place(i_f, mode);
            F::tanh_in_place(gg, mode);
            F::sigmoid_in_place(o, mode);
            let (i, f) = i_f.split_at(n);
            let cb = &mut c_cur[b * n..(b + 1) * n];
            match c_prev {
                Some(cp) => {
                    let cp = &cp[b * n..(b + 1) * n];
                    for ((((c, &i), &f), &g), &cp) in cb.iter_mut().zip(i).zip(f).zip(gg.iter()).zip(cp) {
                        *c = f * cp + i * g;
                    }
                }
                None => cb.iter_mut().zip(i).zip(gg.iter()).for_each(|((c, &i), &g)| *c = i * g),
            }
            let tcb = &mut tc[b * n..(b + 1) * n];
            tcb.copy_from_slice(cb);
            F::tanh_in_place(tcb, mode);
            let hb = &mut h[b * n..(b + 1) * n];
            hb.iter_mut().zip(o.iter()).zip(tcb.iter()).for_each(|((h, &o), &tc)| *h = o * tc);
        }
    }
    w.clock.lap(Phase::ForwardPointwise);
    Ok(())
}

/// CT-GRU (Euler step `dt`): `g` holds `W_ih x + b`; per step `[g_r, g_z] += h_(t-1) [U_r; U_z]^T`,
/// `r, z = s(.)`, `a = r h_(t-1)`, `g_c += a U_h^T`, `c = tanh`, `h = h_(t-1) + dt (1-z)(c - h_(t-1))`.
/// Leaves `g_t = [r, z, c]`.
fn ctgru_forward<F: EngineFloat>(
    p: &Params<F>,
    w: &mut Worker<F>,
    dt: f64,
    t_len: usize,
    batch: usize,
    mode: TanhMode,
) -> Result<()> {
    let n = p.layout().hidden;
    let (step, gstep, dt) = (batch * n, batch * 3 * n, F::of(dt));
    let u = p.w_hh();
    let (u_rz_t, u_h_t) = (transposed(u.slice(s![..2 * n, ..])), transposed(u.slice(s![2 * n.., ..])));
    let (u_rz_t, u_h_t) = (u_rz_t.view(), u_h_t.view());
    for t in 0..t_len {
        let g = &mut w.g[t * gstep..(t + 1) * gstep];
        // h_(t-1): the previous state, or the fixed h0 at t = 0 (None: zeros).
        let prev: Option<&[F]> =
            if t > 0 { Some(&w.h[(t - 1) * step..t * step]) } else { w.has_h0.then(|| &w.h0[..step]) };
        if let Some(prev) = prev {
            let pv = view(prev, batch, n)?;
            let mut gv = view_mut(g, batch, 3 * n)?;
            gemm(F::one(), &pv, &u_rz_t, F::one(), &mut gv.slice_mut(s![.., ..2 * n]));
        }
        w.clock.lap(Phase::RecurrentForward);
        let a = &mut w.a[t * step..(t + 1) * step];
        for b in 0..batch {
            let gr = &mut g[b * 3 * n..(b + 1) * 3 * n];
            F::sigmoid_in_place(&mut gr[..2 * n], mode);
            for i in 0..n {
                a[b * n + i] = prev.map_or(F::zero(), |pv| gr[i] * pv[b * n + i]);
            }
        }
        w.clock.lap(Phase::ForwardPointwise);
        if prev.is_some() {
            let av = view(a, batch, n)?;
            let mut gv = view_mut(g, batch, 3 * n)?;
            gemm(F::one(), &av, &u_h_t, F::one(), &mut gv.slice_mut(s![.., 2 * n..]));
        }
        w.clock.lap(Phase::RecurrentForward);
        let (done, rest) = w.h.split_at_mut(t * step);
        let cur = &mut rest[..step];
        for b in 0..batch {
            let gr = &mut g[b * 3 * n..(b + 1) * 3 * n];
            F::tanh_in_place(&mut gr[2 * n..], mode);
            for i in 0..n {
                let (z, c) = (gr[n + i], gr[2 * n + i]);
                let hp = match (t, w.has_h0) {
                    (0, false) => F::zero(),
                    (0, true) => w.h0[b * n + i],
                    _ => done[(t - 1) * step + b * n + i],
                };
                cur[b * n + i] = hp + dt * (F::one() - z) * (c - hp);
            }
        }
        w.clock.lap(Phase::ForwardPointwise);
    }
    Ok(())
}

/// Forward (and, if `run.backward`, BPTT into `w.grad`) for batch rows `b0..b1`.
fn run_chunk<F: EngineFloat, S: Real>(
    p: &Params<F>,
    data: &Batch<'_, S>,
    (b0, b1): (usize, usize),
    w: &mut Worker<F>,
    run: Run,
) -> Result<Partial> {
    let l = p.layout();
    let (t_len, bc, n, d_out) = (data.inputs.dim().0, b1 - b0, l.hidden, l.output);
    let (first, last) = (data.first, data.last);
    let total = data.count();
    let rows = t_len * bc;
    let (r0, r1) = (first * bc, (last + 1) * bc);
    let out_rows = r1 - r0;
    w.clock.start();
    load(&mut w.x, data.inputs, b0, b1);
    load(&mut w.y, data.targets, b0, b1);
    grow(&mut w.out, out_rows * d_out);
    // The noise buffer is taken out of the worker while the forward pass borrows the rest.
    let mut noise = std::mem::take(&mut w.noise);
    if let Some(spec) = run.noise {
        draw_noise(&mut noise, spec, t_len, (b0, b1), n);
    }
    w.clock.lap(Phase::Load);
    let done = forward_hidden(p, w, t_len, bc, run.mode, run.noise.map(|_| &noise[..rows * n]));
    w.noise = noise;
    done?;

    // The readout sees `rate`: h, or tanh h (ctrnn, in `w.a`).
    let reads_tanh = l.cell.reads_tanh();
    let rate_buf: &[F] = if reads_tanh { &w.a } else { &w.h };
    let mut part = Partial::default();
    if run.penalty > 0.0 {
        part.rate_sq = rate_buf[..rows * n].iter().map(|v| v.f64() * v.f64()).sum();
    }
    // Outputs for the scored span only: (out_rows, d_out).
    let rv = view(rate_buf, rows, n)?;
    let r_scored = rv.slice_axis(Axis(0), (r0..r1).into());
    {
        let mut ov = view_mut(&mut w.out, out_rows, d_out)?;
        gemm(F::one(), &r_scored, &p.w_r().t(), F::zero(), &mut ov);
        if let Some(b) = p.b_r() {
            ov += &b;
        }
    }
    // Loss, accuracy, and dO = 2 (o - y) / count in place of o (0 on unscored steps).
    let scale = F::of(2.0 / total as f64);
    let row_len = bc * d_out;
    for (k, t) in (first..=last).enumerate() {
        let o = &mut w.out[k * row_len..(k + 1) * row_len];
        if !data.mask[t] {
            o.iter_mut().for_each(|v| *v = F::zero());
            continue;
        }
        for (o, &y) in o.iter_mut().zip(&w.y[t * row_len..(t + 1) * row_len]) {
            let diff = *o - y;
            part.sse += diff.f64() * diff.f64();
            part.correct += ((*o >= F::zero()) == (y >= F::zero())) as usize;
            *o = diff * scale;
        }
    }
    if !run.backward {
        return Ok(part);
    }
    backward(p, data, w, run, (t_len, bc), (r0, r1))?;
    w.clock.lap(Phase::WeightGrads);
    Ok(part)
}

/// BPTT of one chunk after [`run_chunk`]'s forward pass; `w.out` holds dO on rows `r0..r1`.
fn backward<F: EngineFloat, S: Real>(
    p: &Params<F>,
    data: &Batch<'_, S>,
    w: &mut Worker<F>,
    run: Run,
    steps: (usize, usize),
    span: (usize, usize),
) -> Result<()> {
    let l = p.layout();
    let mut g = match w.grad.take() {
        Some(g) if g.layout() == l => g,
        _ => Params::zeros(l),
    };
    let done = backward_into(p, data, w, &mut g, run, steps, span);
    w.grad = Some(g);
    done
}

fn backward_into<F: EngineFloat, S: Real>(
    p: &Params<F>,
    data: &Batch<'_, S>,
    w: &mut Worker<F>,
    g: &mut Params<F>,
    run: Run,
    (t_len, bc): (usize, usize),
    (r0, r1): (usize, usize),
) -> Result<()> {
    let l = p.layout();
    let (n, d_out, gn) = (l.hidden, l.output, l.gate_rows());
    let rows = t_len * bc;
    let out_rows = r1 - r0;
    let reads_tanh = l.cell.reads_tanh();
    grow(&mut w.dpre, rows * n);
    grow(&mut w.dh, bc * n);
    let rate_buf: &[F] = if reads_tanh { &w.a } else { &w.h };
    let rv = view(rate_buf, rows, n)?;
    let dout = view(&w.out, out_rows, d_out)?;
    {
        // Readout gradients and the direct gradient dRate = dO W_r on the scored span.
        let r_scored = rv.slice_axis(Axis(0), (r0..r1).into());
        gemm(F::one(), &dout.t(), &r_scored, F::zero(), &mut g.w_r_mut());
        if let Some(mut gb) = g.b_r_mut() {
            gb.assign(&dout.sum_axis(Axis(0)));
        }
        let d = &mut w.dpre[..rows * n];
        d[..r0 * n].iter_mut().for_each(|v| *v = F::zero());
        d[r1 * n..].iter_mut().for_each(|v| *v = F::zero());
        let mut dv = view_mut(&mut d[r0 * n..r1 * n], out_rows, n)?;
        gemm(F::one(), &dout, &p.w_r(), F::zero(), &mut dv);
    }
    if run.penalty > 0.0 {
        // d/d rate of c * mean(rate^2).
        let k = F::of(2.0 * run.penalty / data.state_count(l) as f64);
        w.dpre[..rows * n].iter_mut().zip(&rate_buf[..rows * n]).for_each(|(d, &r)| *d += k * r);
    }
    if reads_tanh {
        // dh = dRate * (1 - tanh^2 h).
        w.dpre[..rows * n].iter_mut().zip(&w.a[..rows * n]).for_each(|(d, &a)| *d *= F::one() - a * a);
    }
    w.clock.lap(Phase::Readout);
    let xv = view(&w.x, rows, l.input)?;
    let step = bc * n;
    match l.cell {
        CellSpec::Elman | CellSpec::ElmanRelu => {
            // The sweep: dPre_t = (dH_t + dh_next) act'(h_t); dh_next = dPre_t W_hh.
            let w_hh = p.w_hh();
            let relu = l.cell == CellSpec::ElmanRelu;
            for t in (0..t_len).rev() {
                let dp = &mut w.dpre[t * step..(t + 1) * step];
                let next = (t + 1 < t_len).then_some(&w.dh[..step]);
                if relu {
                    relu_backward(dp, next, &w.h[t * step..(t + 1) * step]);
                } else {
                    tanh_backward(dp, next, &w.h[t * step..(t + 1) * step]);
                }
                w.clock.lap(Phase::BackwardPointwise);
                if t > 0 {
                    let dpv = view(dp, bc, n)?;
                    let mut dhv = view_mut(&mut w.dh, bc, n)?;
                    gemm(F::one(), &dpv, &w_hh, F::zero(), &mut dhv);
                    w.clock.lap(Phase::RecurrentBackward);
                }
            }
            let s0 = if w.has_h0 { Some(view(&w.h0, bc, n)?) } else { None };
            simple_weight_grads(g, &w.dpre, &xv, &view(&w.h, rows, n)?, s0, (t_len, bc), true)
        }
        CellSpec::CtRnn { alpha } => {
            // dh_t = dH_t + dnext; dPre_t = alpha dh_t;
            // dnext = (1-alpha) dh_t + (dPre_t W_hh) * (1 - a_(t-1)^2).
            let (al, keep) = (F::of(alpha), F::of(1.0 - alpha));
            let w_hh = p.w_hh();
            grow(&mut w.tmp, step);
            for t in (0..t_len).rev() {
                let dp = &mut w.dpre[t * step..(t + 1) * step];
                if t + 1 < t_len {
                    dp.iter_mut().zip(&w.dh[..step]).for_each(|(d, &x)| *d += x);
                }
                if t > 0 {
                    // Keep (1-alpha) dh_t before dp becomes dPre_t.
                    w.tmp[..step].iter_mut().zip(dp.iter()).for_each(|(s, &d)| *s = keep * d);
                }
                dp.iter_mut().for_each(|d| *d *= al);
                w.clock.lap(Phase::BackwardPointwise);
                if t > 0 {
                    let dpv = view(dp, bc, n)?;
                    let mut dhv = view_mut(&mut w.dh, bc, n)?;
                    gemm(F::one(), &dpv, &w_hh, F::zero(), &mut dhv);
                    w.clock.lap(Phase::RecurrentBackward);
                    let a_prev = &w.a[(t - 1) * step..t * step];
                    for ((d, &s), &a) in w.dh[..step].iter_mut().zip(&w.tmp[..step]).zip(a_prev) {
                        *d = *d * (F::one() - a * a) + s;
                    }
                    w.clock.lap(Phase::BackwardPointwise);
                }
            }
            let s0 = if w.has_h0 { Some(view(&w.s0, bc, n)?) } else { None };
            simple_weight_grads(g, &w.dpre, &xv, &view(&w.a, rows, n)?, s0, (t_len, bc), false)
        }
        CellSpec::Gru => gru_backward(p, g, w, (t_len, bc), gn),
        CellSpec::CtGru { dt } => ctgru_backward(p, g, w, dt, (t_len, bc), gn),
        CellSpec::Lstm => lstm_backward(p, g, w, (t_len, bc), gn),
    }
}

/// LSTM sweep. With `dh` the total gradient at `h_t` and `dc` the one carried to `c_t`:
/// `dc += dh o (1 - tanh^2 c_t)`, `dao = dh tanh(c_t) o(1-o)`, `dai = dc g i(1-i)`,
/// `daf = dc c_(t-1) f(1-f)`, `dag = dc i (1-g^2)`; the carried `dc_(t-1) = dc f` and
/// `dh_(t-1) = [dai, daf, dag, dao] W_hh`. Both biases get the same gate gradients.
fn lstm_backward<F: EngineFloat>(
    p: &Params<F>,
    g: &mut Params<F>,
    w: &mut Worker<F>,
    (t_len, bc): (usize, usize),
    gn: usize,
) -> Result<()> {
    let n = gn / 4;
    let rows = t_len * bc;
    let (step, gstep) = (bc * n, bc * gn);
    grow(&mut w.dg, rows * gn);
    grow(&mut w.tmp, step);
    w.tmp[..step].iter_mut().for_each(|v| *v = F::zero());
    let w_hh = p.w_hh();
    let one = F::one();
    for t in (0..t_len).rev() {
        for b in 0..bc {
            let (k0, gk) = (t * step + b * n, t * gstep + b * gn);
            let dpre = &w.dpre[k0..k0 + n];
            let next = (t + 1 < t_len).then(|| &w.dh[b * n..(b + 1) * n]);
            let gates = &w.g[gk..gk + gn];
            let (gi, gf, gg, go) = (&gates[..n], &gates[n..2 * n], &gates[2 * n..3 * n], &gates[3 * n..]);
            let tc = &w.tc[k0..k0 + n];
            let c_prev: Option<&[F]> = (t > 0).then(|| &w.a[k0 - step..k0 - step + n]);
            let dc_carry = &mut w.tmp[b * n..(b + 1) * n];
            let dg = &mut w.dg[gk..gk + gn];
            let (dg_i, rest) = dg.split_at_mut(n);
            let (dg_f, rest) = rest.split_at_mut(n);
            let (dg_g, dg_o) = rest.split_at_mut(n);
            for k in 0..n {
                let mut dh = dpre[k];
                if let Some(next) = next {
                    dh += next[k];
                }
                let (i, f, gv, o, tck) = (gi[k], gf[k], gg[k], go[k], tc[k]);
                let dc = dc_carry[k] + dh * o * (one - tck * tck);
                dg_o[k] = dh * tck * o * (one - o);
                dg_i[k] = dc * gv * i * (one - i);
                dg_f[k] = c_prev.map_or(F::zero(), |c| dc * c[k] * f * (one - f));
                dg_g[k] = dc * i * (one - gv * gv);
                dc_carry[k] = dc * f;
            }
        }
        w.clock.lap(Phase::BackwardPointwise);
        if t > 0 {
            let dgv = view(&w.dg[t * gstep..], bc, gn)?;
            let mut dhv = view_mut(&mut w.dh, bc, n)?;
            gemm(F::one(), &dgv, &w_hh, F::zero(), &mut dhv);
            w.clock.lap(Phase::RecurrentBackward);
        }
    }
    let xv = view(&w.x, rows, g.layout().input)?;
    let dgv = view(&w.dg, rows, gn)?;
    gemm(F::one(), &dgv.t(), &xv, F::zero(), &mut g.w_ih_mut());
    if t_len > 1 {
        let hv = view(&w.h, rows, n)?;
        let late = dgv.slice_axis(Axis(0), (bc..rows).into());
        gemm(F::one(), &late.t(), &hv.slice_axis(Axis(0), (0..rows - bc).into()), F::zero(), &mut g.w_hh_mut());
    } else {
        g.w_hh_mut().fill(F::zero());
    }
    let db = dgv.sum_axis(Axis(0));
    if let Some(mut v) = g.b_ih_mut() {
        v.assign(&db);
    }
    if let Some(mut v) = g.b_hh_mut() {
        v.assign(&db);
    }
    Ok(())
}

/// Elman and CT-RNN weight gradients from `dPre` `(T*B, N)`: `dW_ih = dPre^T X`,
/// `dW_hh = dPre_(1..)^T S_(..T-1)` (`S` the recurrent operand), biases the column sums.
fn simple_weight_grads<F: EngineFloat>(
    g: &mut Params<F>,
    dpre: &[F],
    xv: &ArrayView2<'_, F>,
    sv: &ArrayView2<'_, F>,
    s0: Option<ArrayView2<'_, F>>,
    (t_len, bc): (usize, usize),
    both_biases: bool,
) -> Result<()> {
    let (rows, n) = sv.dim();
    let dpre = view(dpre, rows, n)?;
    gemm(F::one(), &dpre.t(), xv, F::zero(), &mut g.w_ih_mut());
    if t_len > 1 {
        let dpre_late = dpre.slice_axis(Axis(0), (bc..rows).into());
        let s_early = sv.slice_axis(Axis(0), (0..rows - bc).into());
        gemm(F::one(), &dpre_late.t(), &s_early, F::zero(), &mut g.w_hh_mut());
    } else {
        g.w_hh_mut().fill(F::zero());
    }
    if let Some(s0) = s0 {
        // Step 0 read the fixed initial state.
        let dpre_first = dpre.slice_axis(Axis(0), (0..bc).into());
        gemm(F::one(), &dpre_first.t(), &s0, F::one(), &mut g.w_hh_mut());
    }
    if g.layout().bias {
        let db = dpre.sum_axis(Axis(0));
        if both_biases {
            if let Some(mut v) = g.b_ih_mut() {
                v.assign(&db);
            }
        }
        if let Some(mut v) = g.b_hh_mut() {
            v.assign(&db);
        }
    }
    Ok(())
}

/// GRU sweep. With `dh` the total gradient at `h_t` and `[r, z, n] = g_t`, `m = a_t`:
/// `dn = dh (1-z)`, `dan = dn (1-n^2)`, `dar = dan m r(1-r)`, `daz = dh (h_(t-1) - n) z(1-z)`;
/// input-side gate gradients `[dar, daz, dan]`, recurrent-side `[dar, daz, dan r]`;
/// `dh_(t-1) = dh z + drec W_hh`.
fn gru_backward<F: EngineFloat>(
    p: &Params<F>,
    g: &mut Params<F>,
    w: &mut Worker<F>,
    (t_len, bc): (usize, usize),
    gn: usize,
) -> Result<()> {
    let n = gn / 3;
    let rows = t_len * bc;
    let (step, gstep) = (bc * n, bc * gn);
    grow(&mut w.dg, rows * gn);
    grow(&mut w.drec, rows * gn);
    let w_hh = p.w_hh();
    let one = F::one();
    for t in (0..t_len).rev() {
        for b in 0..bc {
            let (k0, gk) = (t * step + b * n, t * gstep + b * gn);
            // Rows of length n, so the element loop below runs without bounds checks.
            let dpre = &mut w.dpre[k0..k0 + n];
            let next = (t + 1 < t_len).then(|| &w.dh[b * n..(b + 1) * n]);
            let (gr, gz, gnn) = (&w.g[gk..gk + n], &w.g[gk + n..gk + 2 * n], &w.g[gk + 2 * n..gk + 3 * n]);
            let m = &w.a[k0..k0 + n];
            let hp: Option<&[F]> = match (t, w.has_h0) {
                (0, false) => None,
                (0, true) => Some(&w.h0[b * n..(b + 1) * n]),
                _ => Some(&w.h[k0 - step..k0 - step + n]),
            };
            let (dg, drec) = (&mut w.dg[gk..gk + gn], &mut w.drec[gk..gk + gn]);
            let (dg_r, rest) = dg.split_at_mut(n);
            let (dg_z, dg_n) = rest.split_at_mut(n);
            let (dr_r, rest) = drec.split_at_mut(n);
            let (dr_z, dr_n) = rest.split_at_mut(n);
            for i in 0..n {
                let mut dh = dpre[i];
                if let Some(next) = next {
                    dh += next[i];
                }
                let (r, z, nn) = (gr[i], gz[i], gnn[i]);
                let hp = hp.map_or(F::zero(), |h| h[i]);
                let dan = dh * (one - z) * (one - nn * nn);
                let dar = dan * m[i] * r * (one - r);
                let daz = dh * (hp - nn) * z * (one - z);
                dg_r[i] = dar;
                dg_z[i] = daz;
                dg_n[i] = dan;
                dr_r[i] = dar;
                dr_z[i] = daz;
                dr_n[i] = dan * r;
                // Direct part of dh_(t-1); the GEMM below adds the rest.
                dpre[i] = dh * z;
            }
        }
        w.clock.lap(Phase::BackwardPointwise);
        if t > 0 {
            let dr = view(&w.drec[t * gstep..], bc, gn)?;
            let mut dhv = view_mut(&mut w.dh, bc, n)?;
            dhv.assign(&view(&w.dpre[t * step..], bc, n)?);
            gemm(F::one(), &dr, &w_hh, F::one(), &mut dhv);
            w.clock.lap(Phase::RecurrentBackward);
        }
    }
    let xv = view(&w.x, rows, g.layout().input)?;
    let dgv = view(&w.dg, rows, gn)?;
    let drv = view(&w.drec, rows, gn)?;
    gemm(F::one(), &dgv.t(), &xv, F::zero(), &mut g.w_ih_mut());
    if t_len > 1 {
        let hv = view(&w.h, rows, n)?;
        let late = drv.slice_axis(Axis(0), (bc..rows).into());
        gemm(F::one(), &late.t(), &hv.slice_axis(Axis(0), (0..rows - bc).into()), F::zero(), &mut g.w_hh_mut());
    } else {
        g.w_hh_mut().fill(F::zero());
    }
    if w.has_h0 {
        let first = drv.slice_axis(Axis(0), (0..bc).into());
        gemm(F::one(), &first.t(), &view(&w.h0, bc, n)?, F::one(), &mut g.w_hh_mut());
    }
    if let Some(mut v) = g.b_ih_mut() {
        v.assign(&dgv.sum_axis(Axis(0)));
    }
    if let Some(mut v) = g.b_hh_mut() {
        v.assign(&drv.sum_axis(Axis(0)));
    }
    Ok(())
}

/// CT-GRU sweep (Euler step `dt`). With `dh` the total gradient at `h_t`, `[r, z, c] = g_t`:
/// `dac = dh dt (1-z)(1-c^2)`, `daz = -dh dt (c - h_(t-1)) z(1-z)`, `d(rh) = dac U_h`,
/// `dar = d(rh) h_(t-1) r(1-r)`; `dh_(t-1) = dh (1 - dt(1-z)) + d(rh) r + [dar, daz] [U_r; U_z]`.
fn ctgru_backward<F: EngineFloat>(
    p: &Params<F>,
    g: &mut Params<F>,
    w: &mut Worker<F>,
    dt: f64,
    (t_len, bc): (usize, usize),
    gn: usize,
) -> Result<()> {
    let n = gn / 3;
    let rows = t_len * bc;
    let (step, gstep) = (bc * n, bc * gn);
    grow(&mut w.dg, rows * gn);
    grow(&mut w.tmp, step);
    let u = p.w_hh();
    let (u_rz, u_h) = (u.slice(s![..2 * n, ..]), u.slice(s![2 * n.., ..]));
    let (one, dt) = (F::one(), F::of(dt));
    for t in (0..t_len).rev() {
        // Pass 1: dac, daz and the direct part of dh_(t-1). Rows are sliced to length n so the
        // element loop runs without bounds checks.
        for b in 0..bc {
            let (k0, gk) = (t * step + b * n, t * gstep + b * gn);
            let dpre = &mut w.dpre[k0..k0 + n];
            let next = (t + 1 < t_len).then(|| &w.dh[b * n..(b + 1) * n]);
            let (gz, gc) = (&w.g[gk + n..gk + 2 * n], &w.g[gk + 2 * n..gk + 3 * n]);
            let hp: Option<&[F]> = match (t, w.has_h0) {
                (0, false) => None,
                (0, true) => Some(&w.h0[b * n..(b + 1) * n]),
                _ => Some(&w.h[k0 - step..k0 - step + n]),
            };
            let (dg_z, dg_c) = w.dg[gk + n..gk + 3 * n].split_at_mut(n);
            for i in 0..n {
                let mut dh = dpre[i];
                if let Some(next) = next {
                    dh += next[i];
                }
                let (z, c) = (gz[i], gc[i]);
                let hp = hp.map_or(F::zero(), |h| h[i]);
                dg_c[i] = dh * dt * (one - z) * (one - c * c);
                dg_z[i] = -dh * dt * (c - hp) * z * (one - z);
                dpre[i] = dh * (one - dt * (one - z));
            }
        }
        w.clock.lap(Phase::BackwardPointwise);
        if t == 0 && !w.has_h0 {
            // h_(-1) = 0: no reset gradient, nothing flows further back.
            w.dg[..bc * gn].chunks_mut(gn).for_each(|row| row[..n].iter_mut().for_each(|v| *v = F::zero()));
            break;
        }
        // Pass 2: d(rh) = dac U_h into tmp; then dar and the reset path of dh_(t-1).
        {
            let dgv = view(&w.dg[t * gstep..], bc, gn)?;
            let mut tv = view_mut(&mut w.tmp, bc, n)?;
            gemm(F::one(), &dgv.slice(s![.., 2 * n..]), &u_h, F::zero(), &mut tv);
        }
        w.clock.lap(Phase::RecurrentBackward);
        for b in 0..bc {
            let (k0, gk) = (t * step + b * n, t * gstep + b * gn);
            let dpre = &mut w.dpre[k0..k0 + n];
            let gr = &w.g[gk..gk + n];
            let drh = &w.tmp[b * n..(b + 1) * n];
            let hp = if t > 0 { &w.h[k0 - step..k0 - step + n] } else { &w.h0[b * n..(b + 1) * n] };
            let dg_r = &mut w.dg[gk..gk + n];
            for i in 0..n {
                let r = gr[i];
                dg_r[i] = drh[i] * hp[i] * r * (one - r);
                dpre[i] += drh[i] * r;
            }
        }
        w.clock.lap(Phase::BackwardPointwise);
        if t == 0 {
            break; // the fixed h0 takes no gradient
        }
        let dgv = view(&w.dg[t * gstep..], bc, gn)?;
        let mut dhv = view_mut(&mut w.dh, bc, n)?;
        dhv.assign(&view(&w.dpre[t * step..], bc, n)?);
        gemm(F::one(), &dgv.slice(s![.., ..2 * n]), &u_rz, F::one(), &mut dhv);
        w.clock.lap(Phase::RecurrentBackward);
    }
    let xv = view(&w.x, rows, g.layout().input)?;
    let dgv = view(&w.dg, rows, gn)?;
    gemm(F::one(), &dgv.t(), &xv, F::zero(), &mut g.w_ih_mut());
    let av = view(&w.a, rows, n)?;
    let mut gw = g.w_hh_mut();
    gemm(F::one(), &dgv.slice(s![.., 2 * n..]).t(), &av, F::zero(), &mut gw.slice_mut(s![2 * n.., ..]));
    if t_len > 1 {
        let hv = view(&w.h, rows, n)?;
        let late = dgv.slice(s![bc..rows, ..2 * n]);
        gemm(
            F::one(),
            &late.t(),
            &hv.slice_axis(Axis(0), (0..rows - bc).into()),
            F::zero(),
            &mut gw.slice_mut(s![..2 * n, ..]),
        );
    } else {
        gw.slice_mut(s![..2 * n, ..]).fill(F::zero());
    }
    if w.has_h0 {
        let first = dgv.slice(s![..bc, ..2 * n]);
        gemm(F::one(), &first.t(), &view(&w.h0, bc, n)?, F::one(), &mut gw.slice_mut(s![..2 * n, ..]));
    }
    if let Some(mut v) = g.b_hh_mut() {
        v.assign(&dgv.sum_axis(Axis(0)));
    }
    Ok(())
}
