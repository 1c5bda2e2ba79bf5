//! Elman parameters in one flat buffer, in PyTorch's state-dict order.

use std::ops::Range;

use emt_core::{ElmanWeights, Error, Real, Result, check};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};
use rand::{Rng, RngCore};

/// Sizes of an Elman RNN and where each tensor lives in the flat buffer.
///
/// Order (PyTorch's): `weight_ih_l0 (N, d_in)`, `weight_hh_l0 (N, N)`, then if biased
/// `bias_ih_l0 (N)`, `bias_hh_l0 (N)`, then the readout `weight (d_out, N)` and, if biased,
/// `bias (d_out)`. PyTorch keeps two hidden biases; we do too, so Adam and clipping match it
/// exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Hidden size `N`.
    pub hidden: usize,
    /// Input size `d_in`.
    pub input: usize,
    /// Output size `d_out`.
    pub output: usize,
    /// Whether the biases exist.
    pub bias: bool,
}

impl Layout {
    /// Checks that every size is positive.
    pub fn new(hidden: usize, input: usize, output: usize, bias: bool) -> Result<Self> {
        check::positive("hidden", hidden)?;
        check::positive("input dim", input)?;
        check::positive("output dim", output)?;
        Ok(Layout { hidden, input, output, bias })
    }

    fn sizes(&self) -> [usize; 6] {
        let (n, b) = (self.hidden, self.bias as usize);
        [n * self.input, n * n, b * n, b * n, self.output * n, b * self.output]
    }

    fn range(&self, k: usize) -> Range<usize> {
        let sizes = self.sizes();
        let start: usize = sizes[..k].iter().sum();
        start..start + sizes[k]
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.sizes().iter().sum()
    }

    /// Always false (every size is positive).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// PyTorch names of the tensors present, with their ranges and shapes.
    pub fn tensors(&self) -> Vec<(&'static str, Range<usize>, Vec<usize>)> {
        let (n, i, o) = (self.hidden, self.input, self.output);
        let all = [
            ("weight_ih_l0", vec![n, i]),
            ("weight_hh_l0", vec![n, n]),
            ("bias_ih_l0", vec![n]),
            ("bias_hh_l0", vec![n]),
            ("weight", vec![o, n]),
            ("bias", vec![o]),
        ];
        all.into_iter()
            .enumerate()
            .filter(|(k, _)| self.sizes()[*k] > 0)
            .map(|(k, (name, shape))| (name, self.range(k), shape))
            .collect()
    }
}

/// Elman parameters (or their gradients) as one flat buffer; see [`Layout`].
///
/// ```
/// use emt_rnn::ElmanParams;
/// let p = ElmanParams::<f32>::init(16, 3, 2, false, &mut emt_core::rng::seeded(0))?;
/// assert_eq!(p.w_hh().dim(), (16, 16));
/// assert!(p.as_slice().iter().all(|x| x.abs() <= 0.25)); // U(-1/sqrt(N), 1/sqrt(N))
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ElmanParams<F: Real> {
    layout: Layout,
    data: Vec<F>,
}

// The `expect`s below cannot fire: `data.len() == layout.len()` holds from construction on
// (only `&mut [F]` is handed out, which cannot change the length), and each range is cut
// from that layout.
macro_rules! view2 {
    ($get:ident, $get_mut:ident, $k:expr, $rows:expr, $cols:expr, $doc:literal) => {
        #[doc = $doc]
        pub fn $get(&self) -> ArrayView2<'_, F> {
            let l = self.layout;
            ArrayView2::from_shape(($rows(l), $cols(l)), &self.data[l.range($k)]).expect("layout sizes match")
        }
        #[doc = $doc]
        pub fn $get_mut(&mut self) -> ArrayViewMut2<'_, F> {
            let l = self.layout;
            ArrayViewMut2::from_shape(($rows(l), $cols(l)), &mut self.data[l.range($k)]).expect("layout sizes match")
        }
    };
}

macro_rules! view1 {
    ($get:ident, $get_mut:ident, $k:expr, $doc:literal) => {
        #[doc = $doc]
        pub fn $get(&self) -> Option<ArrayView1<'_, F>> {
            let r = self.layout.range($k);
            (!r.is_empty()).then(|| ArrayView1::from(&self.data[r]))
        }
        #[doc = $doc]
        pub fn $get_mut(&mut self) -> Option<ArrayViewMut1<'_, F>> {
            let r = self.layout.range($k);
            (!r.is_empty()).then(|| ArrayViewMut1::from(&mut self.data[r]))
        }
    };
}

impl<F: Real> ElmanParams<F> {
    /// All zeros (e.g. a gradient buffer).
    pub fn zeros(layout: Layout) -> Self {
        ElmanParams { layout, data: vec![F::zero(); layout.len()] }
    }

    /// PyTorch's default initialisation: every tensor `U(-1/sqrt(N), 1/sqrt(N))` (nn.RNN's
    /// rule, and nn.Linear's for fan-in `N`), drawn in layout order.
    pub fn init(hidden: usize, input: usize, output: usize, bias: bool, rng: &mut dyn RngCore) -> Result<Self> {
        let layout = Layout::new(hidden, input, output, bias)?;
        let k = 1.0 / (hidden as f64).sqrt();
        let data = (0..layout.len()).map(|_| F::of(rng.random_range(-k..k))).collect();
        Ok(ElmanParams { layout, data })
    }

    /// From checked weights: `b_h` goes to `bias_ih_l0`, `bias_hh_l0 = 0`. The engine is
    /// tanh-only, so an identity-activation network is an error.
    pub fn from_weights(w: &ElmanWeights<F>) -> Result<Self> {
        if w.activation() != emt_core::Activation::Tanh {
            return Err(Error::param("activation", format!("{:?}", w.activation()), "emt-rnn trains tanh networks"));
        }
        let bias = w.b_h().is_some() || w.b_r().is_some();
        let layout = Layout::new(w.hidden_dim(), w.input_dim(), w.output_dim(), bias)?;
        let mut p = ElmanParams::zeros(layout);
        p.w_ih_mut().assign(&w.w_ih());
        p.w_hh_mut().assign(&w.w_hh());
        p.w_r_mut().assign(&w.w_r());
        if let (Some(mut dst), Some(src)) = (p.b_ih_mut(), w.b_h()) {
            dst.assign(&src);
        }
        if let (Some(mut dst), Some(src)) = (p.b_r_mut(), w.b_r()) {
            dst.assign(&src);
        }
        Ok(p)
    }

    /// From PyTorch tensors (state-dict order); biases all present or all absent.
    pub fn from_pytorch(
        w_ih: Array2<F>,
        w_hh: Array2<F>,
        biases: Option<(Array1<F>, Array1<F>, Array1<F>)>,
        w_r: Array2<F>,
    ) -> Result<Self> {
        let mut w = ElmanWeights::new(w_hh, w_ih, w_r)?;
        if let Some((b_ih, _, b_r)) = &biases {
            w = w.with_biases(Some(b_ih.clone()), Some(b_r.clone()))?;
        }
        let mut p = ElmanParams::from_weights(&w)?;
        if let Some((_, b_hh, _)) = biases {
            check::shape("bias_hh_l0", &b_hh, &[p.layout.hidden])?;
            check::finite("bias_hh_l0", &b_hh)?;
            if let Some(mut dst) = p.b_hh_mut() {
                dst.assign(&b_hh);
            }
        }
        Ok(p)
    }

    /// Checked weights for analysis or saving (`b_h = bias_ih + bias_hh`). Errors if any
    /// value is non-finite.
    pub fn to_weights(&self) -> Result<ElmanWeights<F>> {
        let w = ElmanWeights::new(self.w_hh().to_owned(), self.w_ih().to_owned(), self.w_r().to_owned())?;
        match (self.b_ih(), self.b_hh(), self.b_r()) {
            (Some(a), Some(b), b_r) => w.with_biases(Some(&a + &b), b_r.map(|v| v.to_owned())),
            _ => Ok(w),
        }
    }

    /// Sizes.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The flat buffer.
    pub fn as_slice(&self) -> &[F] {
        &self.data
    }

    /// The flat buffer, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [F] {
        &mut self.data
    }

    /// Sets every value to zero.
    pub fn fill_zero(&mut self) {
        self.data.iter_mut().for_each(|x| *x = F::zero());
    }

    /// Converts to another float type.
    pub fn cast<G: Real>(&self) -> ElmanParams<G> {
        ElmanParams { layout: self.layout, data: self.data.iter().map(|x| G::of(x.f64())).collect() }
    }

    view2!(w_ih, w_ih_mut, 0, |l: Layout| l.hidden, |l: Layout| l.input, "`weight_ih_l0` `(N, d_in)`.");
    view2!(w_hh, w_hh_mut, 1, |l: Layout| l.hidden, |l: Layout| l.hidden, "`weight_hh_l0` `(N, N)`.");
    view2!(w_r, w_r_mut, 4, |l: Layout| l.output, |l: Layout| l.hidden, "Readout `weight` `(d_out, N)`.");
    view1!(b_ih, b_ih_mut, 2, "`bias_ih_l0` `(N)`, if biased.");
    view1!(b_hh, b_hh_mut, 3, "`bias_hh_l0` `(N)`, if biased.");
    view1!(b_r, b_r_mut, 5, "Readout `bias` `(d_out)`, if biased.");
}
