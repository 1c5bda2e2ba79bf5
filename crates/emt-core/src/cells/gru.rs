//! The GRU of `torch.nn.GRU` (gate order r, z, n; the reset gate applied AFTER the matmul).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, s};

use super::{Cell, Readout, check_matrix, check_readout, check_vector, sigmoid};
use crate::maps::check_into;
use crate::{DiscreteMap, Result, check};

/// Checked GRU weights in PyTorch's layout: `w_ih` `(3N, d_in)`, `w_hh` `(3N, N)`, optional
/// `b_ih`, `b_hh` `(3N)`, row blocks `[r; z; n]`, and an optional readout on `h`.
///
/// ```text
/// r = s(W_ir x + b_ir + W_hr h + b_hr)    z = s(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r * (W_hn h + b_hn))    h' = (1 - z) * n + z * h
/// ```
///
/// Both biases are kept apart: `b_hn` sits inside the reset product, so only the r and z
/// halves could be summed.
///
/// ```
/// use emt_core::{DiscreteMap, cells::GruWeights};
/// let n = 4;
/// let gru = GruWeights::new(ndarray::Array2::zeros((3 * n, 2)), ndarray::Array2::zeros((3 * n, n)), None, None, None)?;
/// // All-zero weights: z = 1/2, n = 0, so h' = h / 2.
/// let h = gru.step(ndarray::Array1::ones(n).view(), ndarray::Array1::zeros(2).view())?;
/// assert!(h.iter().all(|&v| (v - 0.5).abs() < 1e-15));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GruWeights {
    w_ih: Array2<f64>,
    w_hh: Array2<f64>,
    b_ih: Option<Array1<f64>>,
    b_hh: Option<Array1<f64>>,
    readout: Option<Readout>,
}

/// Per-unit gate values at `(h, x)`.
struct Gates {
    r: f64,
    z: f64,
    n: f64,
    m: f64,
}

impl GruWeights {
    /// Checks shapes (`w_hh` `(3N, N)` with N >= 1, `w_ih` `(3N, d_in)`, biases `(3N)`) and
    /// finiteness, naming the tensor.
    pub fn new(
        w_ih: Array2<f64>,
        w_hh: Array2<f64>,
        b_ih: Option<Array1<f64>>,
        b_hh: Option<Array1<f64>>,
        readout: Option<Readout>,
    ) -> Result<Self> {
        let n = w_hh.ncols();
        check::positive("N (columns of weight_hh_l0)", n)?;
        check_matrix("weight_hh_l0", &w_hh, 3 * n, n)?;
        check_matrix("weight_ih_l0", &w_ih, 3 * n, w_ih.ncols())?;
        check_vector("bias_ih_l0", &b_ih, 3 * n)?;
        check_vector("bias_hh_l0", &b_hh, 3 * n)?;
        check_readout(readout.as_ref(), n)?;
        Ok(GruWeights { w_ih, w_hh, b_ih, b_hh, readout })
    }

    /// Hidden size `N`.
    pub fn hidden_dim(&self) -> usize {
        self.w_hh.ncols()
    }

    /// `weight_ih_l0` `(3N, d_in)`.
    pub fn w_ih(&self) -> ArrayView2<'_, f64> {
        self.w_ih.view()
    }

    /// `weight_hh_l0` `(3N, N)`.
    pub fn w_hh(&self) -> ArrayView2<'_, f64> {
        self.w_hh.view()
    }

    /// `bias_ih_l0` `(3N)`, if any.
    pub fn b_ih(&self) -> Option<ArrayView1<'_, f64>> {
        self.b_ih.as_ref().map(|b| b.view())
    }

    /// `bias_hh_l0` `(3N)`, if any.
    pub fn b_hh(&self) -> Option<ArrayView1<'_, f64>> {
        self.b_hh.as_ref().map(|b| b.view())
    }

    /// The readout on `h`, if any.
    pub fn readout(&self) -> Option<&Readout> {
        self.readout.as_ref()
    }

    fn gates(&self, i: usize, h: &ArrayView1<'_, f64>, x: &ArrayView1<'_, f64>) -> Gates {
        let n = self.hidden_dim();
        let pre = |row: usize| {
            let inp = self.w_ih.row(row).dot(x) + self.b_ih.as_ref().map_or(0.0, |b| b[row]);
            let rec = self.w_hh.row(row).dot(h) + self.b_hh.as_ref().map_or(0.0, |b| b[row]);
            (inp, rec)
        };
        let (ri, rh) = pre(i);
        let (zi, zh) = pre(n + i);
        let (ni, m) = pre(2 * n + i);
        let r = sigmoid(ri + rh);
        let z = sigmoid(zi + zh);
        Gates { r, z, n: (ni + r * m).tanh(), m }
    }
}

impl DiscreteMap for GruWeights {
    fn fixed_point_bounds(&self, _u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        // A fixed point is a tanh (or a convex mix of tanh values): |h_i| < 1.
        Some(Array1::ones(self.hidden_dim()))
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
        for i in 0..n {
            let g = self.gates(i, &h, &x);
            out[i] = (1.0 - g.z) * g.n + g.z * h[i];
        }
        Ok(())
    }

    /// `D(z) + D((h-n) z(1-z)) W_hz + D((1-z)(1-n^2)) [D(r) W_hn + D(m r(1-r)) W_hr]`.
    fn jacobian_into(
        &self,
        h: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, self.input_dim(), &h, &x, out.shape(), &[n, n])?;
        let (w_r, w_z, w_n) =
            (self.w_hh.slice(s![..n, ..]), self.w_hh.slice(s![n..2 * n, ..]), self.w_hh.slice(s![2 * n.., ..]));
        for i in 0..n {
            let g = self.gates(i, &h, &x);
            let cz = (h[i] - g.n) * g.z * (1.0 - g.z);
            let cn = (1.0 - g.z) * (1.0 - g.n * g.n);
            let cr = cn * g.m * g.r * (1.0 - g.r);
            for j in 0..n {
                out[[i, j]] = cz * w_z[[i, j]] + cn * g.r * w_n[[i, j]] + cr * w_r[[i, j]];
            }
            out[[i, i]] += g.z;
        }
        Ok(())
    }

    /// `D((h-n) z(1-z)) W_iz + D((1-z)(1-n^2)) [W_in + D(m r(1-r)) W_ir]`.
    fn input_jacobian_into(
        &self,
        h: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, d) = (self.hidden_dim(), self.input_dim());
        check_into(n, d, &h, &x, out.shape(), &[n, d])?;
        for i in 0..n {
            let g = self.gates(i, &h, &x);
            let cz = (h[i] - g.n) * g.z * (1.0 - g.z);
            let cn = (1.0 - g.z) * (1.0 - g.n * g.n);
            let cr = cn * g.m * g.r * (1.0 - g.r);
            for j in 0..d {
                out[[i, j]] = cz * self.w_ih[[n + i, j]] + cn * self.w_ih[[2 * n + i, j]] + cr * self.w_ih[[i, j]];
            }
        }
        Ok(())
    }
}

impl Cell for GruWeights {
    fn map(&self) -> Box<dyn DiscreteMap + '_> {
        Box::new(self)
    }

    fn output_dim(&self) -> usize {
        self.readout.as_ref().map_or(0, Readout::output_dim)
    }

    fn output_into(&self, state: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) {
        if let Some(r) = &self.readout {
            r.apply_into(state, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, fd};
    use super::*;
    use crate::Error;

    fn random(n: usize, d: usize, seed: u64, bias: bool) -> GruWeights {
        let g = |r, c, s| emt_testkit::gaussian(r, c, s) * 0.7;
        let b = |s| bias.then(|| g(3 * n, 1, s).column(0).to_owned());
        GruWeights::new(g(3 * n, d, seed), g(3 * n, n, seed + 1), b(seed + 2), b(seed + 3), None).unwrap()
    }

    #[test]
    fn jacobians_match_central_differences() {
        for (seed, bias) in [(0, false), (10, true), (20, true)] {
            let w = random(5, 3, seed, bias);
            let h = emt_testkit::gaussian(5, 1, seed + 5).column(0).mapv(|v| 0.5 * v);
            let x = emt_testkit::gaussian(3, 1, seed + 6).column(0).to_owned();
            let j = w.jacobian(h.view(), x.view()).unwrap();
            assert_close(&j, &fd(|hh| w.step(hh, x.view()).unwrap(), h.view()), 1e-8, "dh'/dh");
            let jx = w.input_jacobian(h.view(), x.view()).unwrap();
            assert_close(&jx, &fd(|xx| w.step(h.view(), xx).unwrap(), x.view()), 1e-8, "dh'/dx");
        }
    }

    #[test]
    fn rejects_shapes_naming_the_tensor() {
        let e = GruWeights::new(Array2::zeros((12, 2)), Array2::zeros((4, 4)), None, None, None).unwrap_err();
        assert!(e.to_string().contains("weight_hh_l0"), "{e}");
        let e = GruWeights::new(Array2::zeros((9, 2)), Array2::zeros((12, 4)), None, None, None).unwrap_err();
        assert!(e.to_string().contains("weight_ih_l0"), "{e}");
        let e = GruWeights::new(Array2::zeros((12, 2)), Array2::zeros((12, 4)), Some(Array1::zeros(4)), None, None)
            .unwrap_err();
        assert!(e.to_string().contains("bias_ih_l0"), "{e}");
        let mut nan = Array2::zeros((12, 4));
        nan[[3, 1]] = f64::NAN;
        assert!(matches!(GruWeights::new(Array2::zeros((12, 2)), nan, None, None, None), Err(Error::NonFinite { .. })));
    }
}
