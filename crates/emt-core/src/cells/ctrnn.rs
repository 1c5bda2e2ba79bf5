//! The Euler CT-RNN of the SET-task paper (docs/DYNAMICS.md §1), time in units of tau.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use super::{Cell, Readout, check_matrix, check_readout, check_scalar, check_vector};
use crate::maps::check_into;
use crate::{DiscreteMap, Result, check};

/// Checked Euler CT-RNN weights: `w_ih` `(N, d_in)`, `w_hh` `(N, N)`, optional bias `b` `(N)`,
/// `alpha = dt/tau` in `(0, 1]`, and a readout on `tanh(h')`.
///
/// ```text
/// h' = (1 - alpha) h + alpha (W_hh tanh(h) + b + W_ih x)     y = W_out tanh(h') + b_out
/// ```
///
/// Training noise (`+ sigma xi` inside the alpha term) belongs to the trainer; this is the
/// noise-free map that analyses use. With `alpha = 1` it is an Elman-like map on the
/// pre-activation.
///
/// ```
/// use emt_core::{DiscreteMap, cells::{CtRnnWeights, Readout}};
/// let r = Readout::new(ndarray::Array2::ones((1, 3)), None, 3)?;
/// let net = CtRnnWeights::new(ndarray::Array2::zeros((3, 1)), ndarray::Array2::zeros((3, 3)), None, 0.1, r)?;
/// let h = net.step(ndarray::Array1::ones(3).view(), ndarray::array![0.0].view())?;
/// assert!(h.iter().all(|&v| (v - 0.9).abs() < 1e-15));   // pure leak: (1 - alpha) h
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CtRnnWeights {
    w_ih: Array2<f64>,
    w_hh: Array2<f64>,
    b: Option<Array1<f64>>,
    alpha: f64,
    readout: Readout,
}

impl CtRnnWeights {
    /// Checks shapes (`w_hh` `(N, N)`, `w_ih` `(N, d_in)`, `b` `(N)`, readout `(d_out, N)`),
    /// finiteness and `0 < alpha <= 1`.
    pub fn new(
        w_ih: Array2<f64>,
        w_hh: Array2<f64>,
        b: Option<Array1<f64>>,
        alpha: f64,
        readout: Readout,
    ) -> Result<Self> {
        let n = w_hh.nrows();
        check::positive("N (rows of weight_hh_l0)", n)?;
        check_matrix("weight_hh_l0", &w_hh, n, n)?;
        check_matrix("weight_ih_l0", &w_ih, n, w_ih.ncols())?;
        check_vector("bias_hh_l0", &b, n)?;
        check_scalar("alpha", alpha, 0.0, 1.0)?;
        check_readout(Some(&readout), n)?;
        Ok(CtRnnWeights { w_ih, w_hh, b, alpha, readout })
    }

    /// Hidden size `N`.
    pub fn hidden_dim(&self) -> usize {
        self.w_hh.nrows()
    }

    /// `weight_ih_l0` `(N, d_in)`.
    pub fn w_ih(&self) -> ArrayView2<'_, f64> {
        self.w_ih.view()
    }

    /// `weight_hh_l0` `(N, N)`.
    pub fn w_hh(&self) -> ArrayView2<'_, f64> {
        self.w_hh.view()
    }

    /// `bias_hh_l0` `(N)`, if any.
    pub fn b(&self) -> Option<ArrayView1<'_, f64>> {
        self.b.as_ref().map(|b| b.view())
    }

    /// `alpha = dt / tau`.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The readout on `tanh(h)`.
    pub fn readout(&self) -> &Readout {
        &self.readout
    }
}

impl DiscreteMap for CtRnnWeights {
    fn fixed_point_bounds(&self, u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        // h = W_hh tanh h + b + W_ih u, so |h_i| <= sum_j |W_hh,ij| + |b_i + (W_ih u)_i|.
        if u.len() != self.w_ih.ncols() {
            return None;
        }
        let mut drive = self.w_ih.dot(&u);
        if let Some(b) = &self.b {
            drive += b;
        }
        Some(Array1::from_shape_fn(self.hidden_dim(), |i| {
            self.w_hh.row(i).iter().map(|w| w.abs()).sum::<f64>() + drive[i].abs()
        }))
    }

    fn state_dim(&self) -> usize {
        self.hidden_dim()
    }

    fn input_dim(&self) -> usize {
        self.w_ih.ncols()
    }

    fn step_into(&self, h: ArrayView1<'_, f64>, x: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, self.input_dim(), &h, &x, out.shape(), &[n])?;
        let p = h.mapv(f64::tanh);
        let a = self.alpha;
        for i in 0..n {
            let drive = self.w_hh.row(i).dot(&p) + self.w_ih.row(i).dot(&x) + self.b.as_ref().map_or(0.0, |b| b[i]);
            out[i] = (1.0 - a) * h[i] + a * drive;
        }
        Ok(())
    }

    /// `(1 - alpha) I + alpha W_hh D(1 - tanh^2 h)`.
    fn jacobian_into(
        &self,
        h: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, self.input_dim(), &h, &x, out.shape(), &[n, n])?;
        let a = self.alpha;
        for j in 0..n {
            let dp = 1.0 - h[j].tanh().powi(2);
            for i in 0..n {
                out[[i, j]] = a * self.w_hh[[i, j]] * dp;
            }
            out[[j, j]] += 1.0 - a;
        }
        Ok(())
    }

    /// `alpha W_ih`.
    fn input_jacobian_into(
        &self,
        h: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, d) = (self.hidden_dim(), self.input_dim());
        check_into(n, d, &h, &x, out.shape(), &[n, d])?;
        out.assign(&(&self.w_ih * self.alpha));
        Ok(())
    }
}

impl Cell for CtRnnWeights {
    fn map(&self) -> Box<dyn DiscreteMap + '_> {
        Box::new(self)
    }

    fn output_dim(&self) -> usize {
        self.readout.output_dim()
    }

    fn output_into(&self, state: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) {
        self.readout.apply_into(state.mapv(f64::tanh).view(), out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, fd};
    use super::*;
    use crate::ElmanWeights;
    use crate::Error;

    fn random(n: usize, d: usize, seed: u64, alpha: f64) -> CtRnnWeights {
        let g = |r, c, s| emt_testkit::gaussian(r, c, s) * 0.8;
        let r = Readout::new(g(2, n, seed + 9), Some(g(2, 1, seed + 8).column(0).to_owned()), n).unwrap();
        CtRnnWeights::new(g(n, d, seed), g(n, n, seed + 1), Some(g(n, 1, seed + 2).column(0).to_owned()), alpha, r)
            .unwrap()
    }

    proptest::proptest! {
        /// With alpha = 1 the map is h' = W_hh tanh h + b + W_ih u, the right-hand side of the
        /// fixed-point equation; it stays inside `fixed_point_bounds` from any state, so every
        /// fixed point does too.
        #[test]
        fn the_fixed_point_box_holds_the_fixed_point_equations_image(seed in 0u64..500, scale in 0.1f64..20.0) {
            let net = random(4, 2, seed, 1.0);
            let u = emt_testkit::gaussian(2, 1, seed + 3).column(0).to_owned();
            let bound = net.fixed_point_bounds(u.view()).unwrap();
            let x = emt_testkit::gaussian(4, 1, seed + 4).column(0).to_owned() * scale;
            let image = net.step(x.view(), u.view()).unwrap();
            proptest::prop_assert!(image.iter().zip(&bound).all(|(v, b)| v.abs() <= *b));
            proptest::prop_assert!(net.fixed_point_bounds(ndarray::Array1::zeros(5).view()).is_none(), "wrong input length");
        }
    }

    #[test]
    fn jacobians_match_central_differences() {
        for (seed, alpha) in [(0, 0.1), (10, 0.5), (20, 1.0)] {
            let w = random(6, 3, seed, alpha);
            let h = emt_testkit::gaussian(6, 1, seed + 5).column(0).to_owned();
            let x = emt_testkit::gaussian(3, 1, seed + 6).column(0).to_owned();
            let j = w.jacobian(h.view(), x.view()).unwrap();
            assert_close(&j, &fd(|hh| w.step(hh, x.view()).unwrap(), h.view()), 1e-8, "dh'/dh");
            let jx = w.input_jacobian(h.view(), x.view()).unwrap();
            assert_close(&jx, &fd(|xx| w.step(h.view(), xx).unwrap(), x.view()), 1e-8, "dh'/dx");
        }
    }

    /// With alpha = 1, tanh of the CT-RNN state follows the Elman map with the same weights:
    /// p' = tanh(W_hh p + b + W_ih x) where p = tanh(h).
    #[test]
    fn alpha_one_is_elman_on_tanh_of_the_state() {
        let w = random(5, 2, 3, 1.0);
        let elman = ElmanWeights::new(w.w_hh().to_owned(), w.w_ih().to_owned(), w.readout().w().to_owned())
            .unwrap()
            .with_biases(w.b().map(|b| b.to_owned()), w.readout().b().map(|b| b.to_owned()))
            .unwrap();
        let inputs = ndarray::Array3::from_shape_fn((6, 2, 2), |(t, b, i)| ((t * 5 + b * 3 + i) as f64).sin());
        // Elman starts from p(-1) = tanh(h0) = 0 and CT-RNN from h0 = 0: the same state.
        let ct = super::super::simulate(&w, inputs.view(), None).unwrap();
        let el = elman.simulate(inputs.view()).unwrap();
        let err = emt_testkit::max_abs_diff(&ct.hidden.mapv(f64::tanh), &el.hidden);
        assert!(err < 1e-14, "{err:e}");
        assert!(emt_testkit::max_abs_diff(&ct.outputs, &el.outputs) < 1e-14);
    }

    #[test]
    fn rejects_bad_alpha_and_shapes() {
        let r = Readout::new(Array2::ones((1, 3)), None, 3).unwrap();
        for a in [0.0, 1.5, f64::NAN] {
            let e = CtRnnWeights::new(Array2::zeros((3, 1)), Array2::zeros((3, 3)), None, a, r.clone()).unwrap_err();
            assert!(matches!(e, Error::InvalidParameter { ref name, .. } if name == "alpha"), "{e}");
        }
        let e = CtRnnWeights::new(Array2::zeros((2, 1)), Array2::zeros((3, 3)), None, 0.5, r).unwrap_err();
        assert!(e.to_string().contains("weight_ih_l0"), "{e}");
    }
}
