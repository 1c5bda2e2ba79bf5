//! Forward pass and backpropagation through time.
//!
//! Layout inside the kernels: time-major, batch-major rows, `(T*B, dim)` row-major buffers,
//! so that step `t` is the contiguous block of rows `t*B .. (t+1)*B`. Per chunk of the batch:
//!
//! - forward: `H = X W_ih^T (+ b)` for all steps in one GEMM; then per step
//!   `H_t += H_(t-1) W_hh^T` (one GEMM) and tanh in place; outputs only for scored steps, one GEMM.
//! - backward: `dH = dO W_r` (one GEMM); per step the fused tanh derivative and
//!   `dh = dPre_t W_hh` (one GEMM); the weight gradients `dPre^T H`, `dPre^T X`, `dO^T H` as
//!   three GEMMs after the sweep.
//!
//! Threads split the batch; each owns its buffers (allocated once, grown only when a longer
//! episode arrives) and its gradient, and gradients are summed in thread order, so a fixed
//! thread count gives bit-identical results.

use emt_core::{Episode, Error, Real, Result, check};
use ndarray::{Array3, ArrayView2, ArrayView3, ArrayViewMut2, Axis};

use crate::kernels::{EngineFloat, TanhMode, gemm, tanh_backward};
use crate::{ElmanParams, Layout};

/// Loss and accuracy of one batch (MSE and sign accuracy over scored steps, EMT.md §2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats {
    /// Mean squared error over scored elements.
    pub loss: f64,
    /// Fraction of scored elements with `sign(o) == sign(y)` (`sign(0) = +1`).
    pub accuracy: f64,
}

/// Per-thread buffers, sized for `(T, B_chunk)`.
#[derive(Debug)]
struct Worker<F: EngineFloat> {
    x: Vec<F>,
    y: Vec<F>,
    h: Vec<F>,
    dpre: Vec<F>,
    out: Vec<F>,
    dh: Vec<F>,
    grad: Option<ElmanParams<F>>,
}

impl<F: EngineFloat> Default for Worker<F> {
    fn default() -> Self {
        Worker {
            x: Vec::new(),
            y: Vec::new(),
            h: Vec::new(),
            dpre: Vec::new(),
            out: Vec::new(),
            dh: Vec::new(),
            grad: None,
        }
    }
}

fn grow<F: Copy + Default>(v: &mut Vec<F>, len: usize) {
    if v.len() < len {
        v.resize(len, F::default());
    }
}

/// What one chunk contributes: squared-error sum and correct-sign count.
#[derive(Debug, Clone, Copy, Default)]
struct Partial {
    sse: f64,
    correct: usize,
}

/// The training engine: forward, BPTT, and batch statistics, on `threads` threads.
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
    workers: Vec<Worker<F>>,
}

impl<F: EngineFloat> Engine<F> {
    /// An engine on `threads >= 1` threads.
    pub fn new(threads: usize, mode: TanhMode) -> Result<Self> {
        check::positive("threads", threads)?;
        Ok(Engine { threads, mode, workers: (0..threads).map(|_| Worker::default()).collect() })
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
    /// `params`) for one episode.
    pub fn loss_and_grad(
        &mut self,
        params: &ElmanParams<F>,
        episode: &Episode,
        grad: &mut ElmanParams<F>,
    ) -> Result<BatchStats> {
        self.loss_and_grad_arrays(params, episode.inputs(), episode.targets(), episode.first_scored(), grad)
    }

    /// [`loss_and_grad`](Self::loss_and_grad) on raw arrays of any float type: inputs
    /// `(T, B, d_in)`, targets `(T, B, d_out)`, scored from `first_scored` (e.g. `f64` data for
    /// gradient checks and PyTorch parity).
    pub fn loss_and_grad_arrays<S: Real>(
        &mut self,
        params: &ElmanParams<F>,
        inputs: ArrayView3<'_, S>,
        targets: ArrayView3<'_, S>,
        first_scored: usize,
        grad: &mut ElmanParams<F>,
    ) -> Result<BatchStats> {
        let batch = Batch::new(params.layout(), inputs, targets, first_scored)?;
        if grad.layout() != params.layout() {
            return Err(Error::shape("grad", format!("{:?}", params.layout()), format!("{:?}", grad.layout())));
        }
        let partials = self.run_chunks(params, &batch, true)?;
        // Fixed reduction order: thread 0, then 1, ...
        grad.fill_zero();
        let g = grad.as_mut_slice();
        for part in self.workers[..partials.len()].iter().filter_map(|w| w.grad.as_ref()) {
            for (a, &b) in g.iter_mut().zip(part.as_slice()) {
                *a += b;
            }
        }
        Ok(summarise(&partials, batch.count()))
    }

    /// Loss and accuracy without gradients.
    pub fn evaluate(&mut self, params: &ElmanParams<F>, episode: &Episode) -> Result<BatchStats> {
        let batch = Batch::new(params.layout(), episode.inputs(), episode.targets(), episode.first_scored())?;
        let partials = self.run_chunks(params, &batch, false)?;
        Ok(summarise(&partials, batch.count()))
    }

    /// Outputs `(T, B, d_out)` and hidden states `(T, B, N)` for inputs `(T, B, d_in)`
    /// (single-threaded; for inference and tests).
    pub fn forward<S: Real>(
        &mut self,
        params: &ElmanParams<F>,
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
        let w = &mut self.workers[0];
        load(&mut w.x, inputs, 0, batch);
        grow(&mut w.h, t_len * batch * l.hidden);
        forward_hidden(
            params,
            &w.x[..t_len * batch * d_in],
            &mut w.h[..t_len * batch * l.hidden],
            t_len,
            batch,
            self.mode,
        )?;
        let h = view(&w.h, t_len * batch, l.hidden)?;
        let mut out = ndarray::Array2::<F>::zeros((t_len * batch, l.output));
        gemm(F::one(), &h, &params.w_r().t(), F::zero(), &mut out.view_mut());
        if let Some(b) = params.b_r() {
            out += &b;
        }
        let hidden = h.to_owned().into_shape_with_order((t_len, batch, l.hidden)).map_err(shape_err)?;
        let outputs = out.into_shape_with_order((t_len, batch, l.output)).map_err(shape_err)?;
        Ok((outputs, hidden))
    }

    fn run_chunks<S: Real>(
        &mut self,
        params: &ElmanParams<F>,
        data: &Batch<'_, S>,
        backward: bool,
    ) -> Result<Vec<Partial>> {
        let batch = data.inputs.dim().1;
        let chunks = self.threads.min(batch);
        let bounds: Vec<(usize, usize)> = (0..chunks).map(|k| (k * batch / chunks, (k + 1) * batch / chunks)).collect();
        let mode = self.mode;
        let workers = &mut self.workers[..chunks];
        if chunks == 1 {
            return Ok(vec![run_chunk(params, data, bounds[0], &mut workers[0], backward, mode)?]);
        }
        // rayon's pool keeps its threads alive between steps (spawning two OS threads per
        // step cost measurable time at small N). Chunks and the reduction order are fixed, so
        // the result does not depend on which pool thread runs which chunk.
        let mut partials: Vec<Result<Partial>> = (0..chunks).map(|_| Ok(Partial::default())).collect();
        rayon::scope(|scope| {
            for ((w, &b), out) in workers.iter_mut().zip(&bounds).zip(partials.iter_mut()) {
                scope.spawn(move |_| *out = run_chunk(params, data, b, w, backward, mode));
            }
        });
        partials.into_iter().collect()
    }
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

fn summarise(partials: &[Partial], count: usize) -> BatchStats {
    let sse: f64 = partials.iter().map(|p| p.sse).sum();
    let correct: usize = partials.iter().map(|p| p.correct).sum();
    BatchStats { loss: sse / count as f64, accuracy: correct as f64 / count as f64 }
}

/// Validated training data for one call: inputs `(T, B, d_in)`, targets `(T, B, d_out)`.
struct Batch<'a, S: Real> {
    inputs: ArrayView3<'a, S>,
    targets: ArrayView3<'a, S>,
    first: usize,
}

impl<'a, S: Real> Batch<'a, S> {
    fn new(l: Layout, inputs: ArrayView3<'a, S>, targets: ArrayView3<'a, S>, first: usize) -> Result<Self> {
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
        if first >= t_len {
            return Err(Error::param("first_scored", first, format!("must be < T = {t_len}")));
        }
        check::finite("inputs", &inputs)?;
        check::finite("targets", &targets)?;
        Ok(Batch { inputs, targets, first })
    }

    /// Number of scored elements (the MSE denominator).
    fn count(&self) -> usize {
        let (t_len, batch, d_out) = self.targets.dim();
        (t_len - self.first) * batch * d_out
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

/// `h` `(T*B, N)` <- hidden states for inputs `x` `(T*B, d_in)`.
fn forward_hidden<F: EngineFloat>(
    p: &ElmanParams<F>,
    x: &[F],
    h: &mut [F],
    t_len: usize,
    batch: usize,
    mode: TanhMode,
) -> Result<()> {
    let l = p.layout();
    let (n, rows) = (l.hidden, t_len * batch);
    let xv = view(x, rows, l.input)?;
    {
        let mut hv = view_mut(h, rows, n)?;
        gemm(F::one(), &xv, &p.w_ih().t(), F::zero(), &mut hv);
        if let (Some(a), Some(b)) = (p.b_ih(), p.b_hh()) {
            let bias = &a + &b;
            hv += &bias;
        }
    }
    let step = batch * n;
    let w_hh_t = p.w_hh().reversed_axes();
    for t in 0..t_len {
        let (done, rest) = h.split_at_mut(t * step);
        let cur = &mut rest[..step];
        if t > 0 {
            let prev = view(&done[(t - 1) * step..], batch, n)?;
            let mut cv = view_mut(cur, batch, n)?;
            gemm(F::one(), &prev, &w_hh_t, F::one(), &mut cv);
        }
        F::tanh_in_place(cur, mode);
    }
    Ok(())
}

/// Forward (and, if `backward`, BPTT into `w.grad`) for batch rows `b0..b1`.
fn run_chunk<F: EngineFloat, S: Real>(
    p: &ElmanParams<F>,
    data: &Batch<'_, S>,
    (b0, b1): (usize, usize),
    w: &mut Worker<F>,
    backward: bool,
    mode: TanhMode,
) -> Result<Partial> {
    let l = p.layout();
    let (t_len, first, bc, n, d_out) = (data.inputs.dim().0, data.first, b1 - b0, l.hidden, l.output);
    let total = data.count();
    let Worker { x, y, h, dpre, out, dh, grad } = w;
    let rows = t_len * bc;
    let scored_rows = (t_len - first) * bc;
    load(x, data.inputs, b0, b1);
    load(y, data.targets, b0, b1);
    grow(h, rows * n);
    grow(out, scored_rows * d_out);
    forward_hidden(p, &x[..rows * l.input], &mut h[..rows * n], t_len, bc, mode)?;

    // Outputs for the scored steps only: (scored_rows, d_out).
    let hv = view(h, rows, n)?;
    let h_scored = hv.slice_axis(Axis(0), (first * bc..rows).into());
    let mut ov = view_mut(out, scored_rows, d_out)?;
    gemm(F::one(), &h_scored, &p.w_r().t(), F::zero(), &mut ov);
    if let Some(b) = p.b_r() {
        ov += &b;
    }
    // Loss, accuracy, and dO = 2 (o - y) / count in place of o.
    let scale = F::of(2.0 / total as f64);
    let y_scored = &y[first * bc * d_out..rows * d_out];
    let mut part = Partial::default();
    for (o, &t) in out[..scored_rows * d_out].iter_mut().zip(y_scored) {
        let diff = *o - t;
        part.sse += diff.f64() * diff.f64();
        part.correct += ((*o >= F::zero()) == (t >= F::zero())) as usize;
        *o = diff * scale;
    }
    if !backward {
        return Ok(part);
    }

    grow(dpre, rows * n);
    grow(dh, bc * n);
    if grad.as_ref().is_none_or(|g| g.layout() != l) {
        *grad = Some(ElmanParams::zeros(l));
    }
    let Some(g) = grad.as_mut() else { return Ok(part) };
    let dout = view(out, scored_rows, d_out)?;
    {
        // Readout gradients and the direct hidden gradient dH = dO W_r on scored rows.
        gemm(F::one(), &dout.t(), &h_scored, F::zero(), &mut g.w_r_mut());
        if let Some(mut gb) = g.b_r_mut() {
            gb.assign(&dout.sum_axis(Axis(0)));
        }
        let (unscored, scored) = dpre[..rows * n].split_at_mut(first * bc * n);
        unscored.iter_mut().for_each(|v| *v = F::zero());
        let mut dv = view_mut(scored, scored_rows, n)?;
        gemm(F::one(), &dout, &p.w_r(), F::zero(), &mut dv);
    }
    // The sweep: dPre_t = (dH_t + dh_next) (1 - h_t^2); dh_next = dPre_t W_hh.
    let step = bc * n;
    let w_hh = p.w_hh();
    for t in (0..t_len).rev() {
        let dp = &mut dpre[t * step..(t + 1) * step];
        let next = (t + 1 < t_len).then_some(&dh[..step]);
        tanh_backward(dp, next, &h[t * step..(t + 1) * step]);
        if t > 0 {
            let dpv = view(dp, bc, n)?;
            let mut dhv = view_mut(dh, bc, n)?;
            gemm(F::one(), &dpv, &w_hh, F::zero(), &mut dhv);
        }
    }
    // Weight gradients as three GEMMs over all steps.
    let dpre = view(dpre, rows, n)?;
    let xv = view(x, rows, l.input)?;
    gemm(F::one(), &dpre.t(), &xv, F::zero(), &mut g.w_ih_mut());
    if t_len > 1 {
        let dpre_late = dpre.slice_axis(Axis(0), (bc..rows).into());
        let h_early = hv.slice_axis(Axis(0), (0..rows - bc).into());
        gemm(F::one(), &dpre_late.t(), &h_early, F::zero(), &mut g.w_hh_mut());
    }
    if g.layout().bias {
        let db = dpre.sum_axis(Axis(0));
        if let Some(mut v) = g.b_ih_mut() {
            v.assign(&db);
        }
        if let Some(mut v) = g.b_hh_mut() {
            v.assign(&db);
        }
    }
    Ok(part)
}
