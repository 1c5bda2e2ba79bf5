//! Elman RNN weights, their reference simulator, and their [`DiscreteMap`] (step + Jacobians).
//!
//! The model (docs/EMT.md §1), with optional biases and a choice of activation:
//!
//! ```text
//! h(t) = act(W_hh h(t-1) + W_ih u(t) + b_h),   h(-1) = h0 (default 0)
//! o(t) = W_r h(t) + b_r
//! ```

use ndarray::linalg::general_mat_vec_mul;
use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, ArrayView3, ArrayViewMut1, ArrayViewMut2, Axis, s};

use crate::cells::Cell;
use crate::maps::check_into;
use crate::{DiscreteMap, Error, Real, Result, check};

/// The hidden-state nonlinearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// `tanh`, the trained Elman RNN (PyTorch's `nonlinearity="tanh"`).
    #[default]
    Tanh,
    /// The identity: a linear RNN, as in EMT's linear circuit.
    Identity,
    /// `max(0, x)`, PyTorch's `nonlinearity="relu"`. Its derivative at the kink is taken as 0,
    /// as PyTorch's backward does (`grad * (x > 0)`).
    Relu,
}

impl Activation {
    /// Applies the activation to one value.
    #[inline]
    pub fn apply<F: Real>(self, x: F) -> F {
        match self {
            Activation::Tanh => x.tanh(),
            Activation::Identity => x,
            Activation::Relu => {
                if x > F::zero() {
                    x
                } else {
                    F::zero()
                }
            }
        }
    }

    /// The name written in model files: `tanh`, `identity` or `relu`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Tanh => "tanh",
            Activation::Identity => "identity",
            Activation::Relu => "relu",
        }
    }

    /// Derivative expressed through the output `y = act(x)`: `1 - y^2` for tanh, 1 for the
    /// identity, and for relu 1 where `y > 0`, else 0 (0 at the kink, PyTorch's convention).
    #[inline]
    pub fn derivative_from_output<F: Real>(self, y: F) -> F {
        match self {
            Activation::Tanh => F::one() - y * y,
            Activation::Identity => F::one(),
            Activation::Relu => {
                if y > F::zero() {
                    F::one()
                } else {
                    F::zero()
                }
            }
        }
    }
}

impl std::str::FromStr for Activation {
    type Err = Error;
    /// `tanh`, `identity` or `relu`, in any case.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tanh" => Ok(Activation::Tanh),
            "identity" => Ok(Activation::Identity),
            "relu" => Ok(Activation::Relu),
            _ => Err(Error::Parse {
                input: s.to_string(),
                reason: "unknown nonlinearity (expected tanh, relu or identity)".into(),
            }),
        }
    }
}

/// Checked Elman weights: `w_hh` `(N, N)`, `w_ih` `(N, d_in)`, `w_r` `(d_out, N)`, optional
/// `b_h` `(N)` and `b_r` `(d_out)`, all finite.
///
/// Row-major like PyTorch: `w_ih` is `weight_ih_l0`, `w_r` is the readout `Linear.weight`.
///
/// ```
/// use ndarray::Array2;
/// use emt_core::ElmanWeights;
/// let w = ElmanWeights::new(Array2::<f64>::eye(4), Array2::zeros((4, 2)), Array2::zeros((3, 4)))?;
/// assert_eq!((w.hidden_dim(), w.input_dim(), w.output_dim()), (4, 2, 3));
/// assert!(ElmanWeights::new(Array2::<f64>::eye(4), Array2::zeros((3, 2)), Array2::zeros((3, 4))).is_err());
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ElmanWeights<F: Real = f64> {
    w_hh: Array2<F>,
    w_ih: Array2<F>,
    w_r: Array2<F>,
    b_h: Option<Array1<F>>,
    b_r: Option<Array1<F>>,
    activation: Activation,
}

impl<F: Real> ElmanWeights<F> {
    /// Bias-free tanh weights. Errors on a shape mismatch or a non-finite value, naming the
    /// field.
    pub fn new(w_hh: Array2<F>, w_ih: Array2<F>, w_r: Array2<F>) -> Result<Self> {
        let n = w_hh.nrows();
        check::positive("N (rows of w_hh)", n)?;
        check::shape("w_hh", &w_hh, &[n, n])?;
        if w_ih.nrows() != n || w_ih.ncols() == 0 {
            return Err(Error::shape("w_ih", format!("(N, d_in) = ({n}, >=1)"), check::fmt_shape(w_ih.shape())));
        }
        if w_r.ncols() != n || w_r.nrows() == 0 {
            return Err(Error::shape("w_r", format!("(d_out, N) = (>=1, {n})"), check::fmt_shape(w_r.shape())));
        }
        check::finite("w_hh", &w_hh)?;
        check::finite("w_ih", &w_ih)?;
        check::finite("w_r", &w_r)?;
        Ok(ElmanWeights { w_hh, w_ih, w_r, b_h: None, b_r: None, activation: Activation::Tanh })
    }

    /// Sets the biases (`b_h` of length N, `b_r` of length d_out), each optional.
    pub fn with_biases(mut self, b_h: Option<Array1<F>>, b_r: Option<Array1<F>>) -> Result<Self> {
        if let Some(b) = &b_h {
            check::shape("b_h", b, &[self.hidden_dim()])?;
            check::finite("b_h", b)?;
        }
        if let Some(b) = &b_r {
            check::shape("b_r", b, &[self.output_dim()])?;
            check::finite("b_r", b)?;
        }
        self.b_h = b_h;
        self.b_r = b_r;
        Ok(self)
    }

    /// Sets the activation (tanh by default).
    pub fn with_activation(mut self, activation: Activation) -> Self {
        self.activation = activation;
        self
    }

    /// Hidden size `N`.
    pub fn hidden_dim(&self) -> usize {
        self.w_hh.nrows()
    }

    /// Input size `d_in`.
    pub fn input_dim(&self) -> usize {
        self.w_ih.ncols()
    }

    /// Output size `d_out`.
    pub fn output_dim(&self) -> usize {
        self.w_r.nrows()
    }

    /// Recurrent weights `(N, N)`.
    pub fn w_hh(&self) -> ArrayView2<'_, F> {
        self.w_hh.view()
    }

    /// Input weights `(N, d_in)`.
    pub fn w_ih(&self) -> ArrayView2<'_, F> {
        self.w_ih.view()
    }

    /// Readout weights `(d_out, N)`.
    pub fn w_r(&self) -> ArrayView2<'_, F> {
        self.w_r.view()
    }

    /// Hidden bias `(N)`, if any.
    pub fn b_h(&self) -> Option<ArrayView1<'_, F>> {
        self.b_h.as_ref().map(|b| b.view())
    }

    /// Readout bias `(d_out)`, if any.
    pub fn b_r(&self) -> Option<ArrayView1<'_, F>> {
        self.b_r.as_ref().map(|b| b.view())
    }

    /// The activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Converts every array to another float type (f64 -> f32 rounds to nearest).
    pub fn cast<G: Real>(&self) -> ElmanWeights<G> {
        let c2 = |a: &Array2<F>| a.mapv(|x| G::of(x.f64()));
        let c1 = |a: &Array1<F>| a.mapv(|x| G::of(x.f64()));
        ElmanWeights {
            w_hh: c2(&self.w_hh),
            w_ih: c2(&self.w_ih),
            w_r: c2(&self.w_r),
            b_h: self.b_h.as_ref().map(c1),
            b_r: self.b_r.as_ref().map(c1),
            activation: self.activation,
        }
    }

    /// Takes the weights apart: `(w_hh, w_ih, w_r, b_h, b_r)`.
    #[allow(clippy::type_complexity)]
    pub fn into_parts(self) -> (Array2<F>, Array2<F>, Array2<F>, Option<Array1<F>>, Option<Array1<F>>) {
        (self.w_hh, self.w_ih, self.w_r, self.b_h, self.b_r)
    }

    /// Runs the network from `h(-1) = 0` on `inputs` `(T, B, d_in)`.
    ///
    /// This is the plain reference simulator (one matrix product per step, any float type);
    /// the training engine in emt-rnn has its own fast kernels and is tested against it.
    ///
    /// ```
    /// use ndarray::{Array2, Array3};
    /// use emt_core::{Activation, ElmanWeights};
    /// // A linear two-step delay line on one input bit.
    /// let w_hh = ndarray::array![[0.0, 1.0], [0.0, 0.0]];
    /// let w = ElmanWeights::new(w_hh, ndarray::array![[0.0], [1.0]], ndarray::array![[1.0, 0.0]])?
    ///     .with_activation(Activation::Identity);
    /// let mut u = Array3::zeros((3, 1, 1));
    /// u[[0, 0, 0]] = 5.0;
    /// let traj = w.simulate(u.view())?;
    /// assert_eq!(traj.outputs[[1, 0, 0]], 5.0);
    /// # Ok::<(), emt_core::Error>(())
    /// ```
    pub fn simulate(&self, inputs: ArrayView3<'_, F>) -> Result<Trajectory<F>> {
        let h0 = Array2::zeros((inputs.dim().1, self.hidden_dim()));
        self.simulate_from(h0.view(), inputs)
    }

    /// Runs the network from the initial hidden state `h0` `(B, N)` on `inputs` `(T, B, d_in)`.
    pub fn simulate_from(&self, h0: ArrayView2<'_, F>, inputs: ArrayView3<'_, F>) -> Result<Trajectory<F>> {
        let (t_len, batch, d_in) = inputs.dim();
        let n = self.hidden_dim();
        if d_in != self.input_dim() {
            return Err(Error::shape(
                "inputs",
                format!("(T, B, d_in) with d_in = {}", self.input_dim()),
                check::fmt_shape(inputs.shape()),
            ));
        }
        check::shape("h0", &h0, &[batch, n])?;
        let cells = t_len as f64 * batch as f64 * (n + self.output_dim()) as f64;
        check::memory(
            "inputs",
            format!("(T, B) = ({t_len}, {batch}) with N = {n}"),
            cells * std::mem::size_of::<F>() as f64,
        )?;
        check::finite("inputs", &inputs)?;
        check::finite("h0", &h0)?;
        let mut hidden = Array3::zeros((t_len, batch, n));
        let mut outputs = Array3::zeros((t_len, batch, self.output_dim()));
        let mut h = h0.to_owned();
        for t in 0..t_len {
            // (B, N) = h (B, N) W_hh^T + u (B, d_in) W_ih^T
            let mut pre = h.dot(&self.w_hh.t()) + inputs.index_axis(Axis(0), t).dot(&self.w_ih.t());
            if let Some(b) = &self.b_h {
                pre += b;
            }
            let act = self.activation;
            pre.mapv_inplace(|x| act.apply(x));
            h = pre;
            let mut o = h.dot(&self.w_r.t());
            if let Some(b) = &self.b_r {
                o += b;
            }
            hidden.slice_mut(s![t, .., ..]).assign(&h);
            outputs.slice_mut(s![t, .., ..]).assign(&o);
        }
        Ok(Trajectory { outputs, hidden })
    }
}

/// What [`ElmanWeights::simulate`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory<F: Real> {
    /// Outputs `o(t)`, `(T, B, d_out)`.
    pub outputs: Array3<F>,
    /// Hidden states `h(t)`, `(T, B, N)`.
    pub hidden: Array3<F>,
}

impl DiscreteMap for ElmanWeights<f64> {
    fn fixed_point_bounds(&self, _u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        // With tanh a fixed point is a tanh value, |h_i| < 1; a linear RNN has no such box.
        (self.activation == Activation::Tanh).then(|| Array1::ones(self.hidden_dim()))
    }

    fn state_dim(&self) -> usize {
        self.hidden_dim()
    }

    fn input_dim(&self) -> usize {
        ElmanWeights::input_dim(self)
    }

    fn step_into(&self, h: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, self.input_dim(), &h, &u, out.shape(), &[n])?;
        general_mat_vec_mul(1.0, &self.w_hh, &h, 0.0, &mut out);
        general_mat_vec_mul(1.0, &self.w_ih, &u, 1.0, &mut out);
        if let Some(b) = &self.b_h {
            out += b;
        }
        let act = self.activation;
        out.mapv_inplace(|x| act.apply(x));
        Ok(())
    }

    /// `D(act'(pre)) W_hh`: at a fixed point of a bias-free tanh net this is
    /// `D(1 - h*^2) W_hh` (docs/EMT.md §1).
    fn jacobian_into(&self, h: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut2<'_, f64>) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, self.input_dim(), &h, &u, out.shape(), &[n, n])?;
        self.scaled_rows_into(h, u, &self.w_hh, out)
    }

    /// `D(act'(pre)) W_ih`.
    fn input_jacobian_into(
        &self,
        h: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, d) = (self.hidden_dim(), self.input_dim());
        check_into(n, d, &h, &u, out.shape(), &[n, d])?;
        self.scaled_rows_into(h, u, &self.w_ih, out)
    }
}

impl ElmanWeights<f64> {
    /// `D(act'(pre)) M` into `out`, with the derivative taken through the step's output.
    fn scaled_rows_into(
        &self,
        h: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        m: &Array2<f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let mut next = Array1::zeros(self.hidden_dim());
        self.step_into(h, u, next.view_mut())?;
        derivative_rows_into(self.activation, &next, m, out);
        Ok(())
    }
}

/// `D(act'(pre)) m` into `out`, the derivative read off the step's output `next` (an Elman
/// step's Jacobian with respect to whatever `m` multiplies).
pub(crate) fn derivative_rows_into(
    act: Activation,
    next: &Array1<f64>,
    m: &Array2<f64>,
    mut out: ArrayViewMut2<'_, f64>,
) {
    out.assign(m);
    for (mut row, &y) in out.rows_mut().into_iter().zip(next.iter()) {
        row *= act.derivative_from_output(y);
    }
}

impl Cell for ElmanWeights<f64> {
    fn map(&self) -> Box<dyn DiscreteMap + '_> {
        Box::new(self)
    }

    fn output_dim(&self) -> usize {
        ElmanWeights::output_dim(self)
    }

    fn output_into(&self, state: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) {
        general_mat_vec_mul(1.0, &self.w_r, &state, 0.0, &mut out);
        if let Some(b) = &self.b_r {
            out += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array, array};

    fn small() -> ElmanWeights<f64> {
        let w_hh = array![[0.1, -0.4, 0.3], [0.5, 0.2, -0.1], [-0.3, 0.6, 0.05]];
        let w_ih = array![[1.0, 0.5], [-0.5, 0.2], [0.3, -0.7]];
        let w_r = array![[0.4, -0.2, 0.9]];
        ElmanWeights::new(w_hh, w_ih, w_r).unwrap()
    }

    #[test]
    fn rejects_bad_shapes_naming_the_field() {
        let e =
            ElmanWeights::new(Array2::<f64>::zeros((3, 2)), Array2::zeros((3, 1)), Array2::zeros((1, 3))).unwrap_err();
        assert!(matches!(e, Error::Shape { ref what, .. } if what == "w_hh"), "{e}");
        let e =
            ElmanWeights::new(Array2::<f64>::zeros((3, 3)), Array2::zeros((3, 1)), Array2::zeros((1, 2))).unwrap_err();
        assert!(matches!(e, Error::Shape { ref what, .. } if what == "w_r"), "{e}");
        let e =
            ElmanWeights::new(Array2::<f64>::zeros((0, 0)), Array2::zeros((0, 1)), Array2::zeros((1, 0))).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { .. }), "{e}");
        let e = small().with_biases(Some(Array1::zeros(2)), None).unwrap_err();
        assert!(matches!(e, Error::Shape { ref what, .. } if what == "b_h"), "{e}");
    }

    #[test]
    fn rejects_non_finite_naming_field_and_index() {
        let mut w_ih = Array2::<f64>::zeros((3, 2));
        w_ih[[2, 1]] = f64::INFINITY;
        let e = ElmanWeights::new(Array2::zeros((3, 3)), w_ih, Array2::zeros((1, 3))).unwrap_err();
        match e {
            Error::NonFinite { what, index, value } => {
                assert_eq!((what.as_str(), index, value), ("w_ih", vec![2, 1], f64::INFINITY));
            }
            other => panic!("unexpected {other}"),
        }
        let e = small().with_biases(None, Some(array![f64::NAN])).unwrap_err();
        assert!(matches!(e, Error::NonFinite { ref what, .. } if what == "b_r"));
    }

    #[test]
    fn simulate_matches_step_and_jacobian_matches_differences() {
        let w = small().with_biases(Some(array![0.1, -0.2, 0.05]), Some(array![0.3])).unwrap();
        let inputs = Array::from_shape_fn((4, 2, 2), |(t, b, i)| ((t * 7 + b * 3 + i) as f64 * 0.37).sin());
        let traj = w.simulate(inputs.view()).unwrap();
        let mut h = Array1::zeros(3);
        for t in 0..4 {
            h = w.step(h.view(), inputs.slice(s![t, 1, ..])).unwrap();
            let o = w.w_r().dot(&h) + w.b_r().unwrap();
            approx::assert_abs_diff_eq!(traj.hidden.slice(s![t, 1, ..]), h.view(), epsilon = 1e-14);
            approx::assert_abs_diff_eq!(traj.outputs.slice(s![t, 1, ..]), o.view(), epsilon = 1e-14);
        }
        let u = array![0.3, -0.8];
        let jac = w.jacobian(h.view(), u.view()).unwrap();
        let fd = emt_testkit::jacobian_fd(|hh| w.step(hh, u.view()).unwrap(), h.view(), 1e-6);
        approx::assert_abs_diff_eq!(jac, fd, epsilon = 1e-8);
        let jac_u = w.input_jacobian(h.view(), u.view()).unwrap();
        let fd_u = emt_testkit::jacobian_fd(|uu| w.step(h.view(), uu).unwrap(), u.view(), 1e-6);
        approx::assert_abs_diff_eq!(jac_u, fd_u, epsilon = 1e-8);
    }

    #[test]
    fn simulate_rejects_wrong_input_dim_and_nan() {
        let w = small();
        assert!(matches!(w.simulate(Array3::zeros((2, 1, 3)).view()), Err(Error::Shape { .. })));
        let mut u = Array3::zeros((2, 1, 2));
        u[[1, 0, 0]] = f64::NAN;
        assert!(matches!(w.simulate(u.view()), Err(Error::NonFinite { .. })));
    }

    #[test]
    fn cast_round_trips_through_f32() {
        let w = small();
        let back = w.cast::<f32>().cast::<f64>();
        approx::assert_abs_diff_eq!(back.w_hh(), w.w_hh(), epsilon = 1e-7);
    }
}
