//! One layer of `torch.nn.LSTM` (gate order i, f, g, o; optional biases and `proj_size`), as a
//! map on the dynamical state `[h; c]`.

use ndarray::linalg::general_mat_vec_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, s};

use super::{check_matrix, check_vector, sigmoid};
use crate::maps::check_into;
use crate::{DiscreteMap, Error, Result, check};

/// Checked weights of one LSTM layer in PyTorch's layout: `w_ih` `(4N, d_in)`, `w_hh` `(4N, P)`,
/// optional `b_ih`, `b_hh` `(4N)`, row blocks `[i; f; g; o]`, and optional `w_hr` `(P, N)`
/// (`proj_size = P`; without it `P = N`).
///
/// ```text
/// i = s(W_ii x + b_ii + W_hi h + b_hi)    f = s(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = s(W_io x + b_io + W_ho h + b_ho)
/// c' = f * c + i * g                       h' = o * tanh(c')   (or W_hr (o * tanh(c')))
/// ```
///
/// The dynamical state is `[h; c]` `(P + N)`, `h` first: a fixed point, a Jacobian or a Lyapunov
/// spectrum is of the pair, because `c` carries memory that `h` alone does not determine.
///
/// ```
/// use emt_core::{DiscreteMap, cells::LstmWeights};
/// let n = 3;
/// // All-zero weights: i = f = o = 1/2, g = 0, so c' = c / 2 and h' = tanh(c') / 2.
/// let lstm = LstmWeights::new(ndarray::Array2::zeros((4 * n, 2)), ndarray::Array2::zeros((4 * n, n)), None, None, None)?;
/// let x = lstm.step(ndarray::Array1::ones(2 * n).view(), ndarray::Array1::zeros(2).view())?;
/// assert!((x[n] - 0.5).abs() < 1e-15 && (x[0] - 0.5f64.tanh() / 2.0).abs() < 1e-15);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LstmWeights {
    w_ih: Array2<f64>,
    w_hh: Array2<f64>,
    b_ih: Option<Array1<f64>>,
    b_hh: Option<Array1<f64>>,
    w_hr: Option<Array2<f64>>,
}

/// Every unit's gates at one `(h, c, x)`.
struct Gates {
    i: Array1<f64>,
    f: Array1<f64>,
    g: Array1<f64>,
    o: Array1<f64>,
    /// `c`, the state's cell part.
    c_old: Array1<f64>,
    /// `c'`.
    c: Array1<f64>,
    /// `tanh(c')`.
    tc: Array1<f64>,
}

impl LstmWeights {
    /// Checks shapes (`w_hh` `(4N, P)` with N, P >= 1, `w_ih` `(4N, d_in)`, biases `(4N)`,
    /// `w_hr` `(P, N)`, and `P = N` without `w_hr`) and finiteness, naming the tensor.
    pub fn new(
        w_ih: Array2<f64>,
        w_hh: Array2<f64>,
        b_ih: Option<Array1<f64>>,
        b_hh: Option<Array1<f64>>,
        w_hr: Option<Array2<f64>>,
    ) -> Result<Self> {
        let (rows, p) = w_hh.dim();
        if rows == 0 || rows % 4 != 0 || p == 0 {
            return Err(Error::shape("weight_hh_l0", "(4N, P) with N, P >= 1", check::fmt_shape(w_hh.shape())));
        }
        let n = rows / 4;
        check_matrix("weight_hh_l0", &w_hh, 4 * n, p)?;
        check_matrix("weight_ih_l0", &w_ih, 4 * n, w_ih.ncols())?;
        check_vector("bias_ih_l0", &b_ih, 4 * n)?;
        check_vector("bias_hh_l0", &b_hh, 4 * n)?;
        match &w_hr {
            Some(w) => check_matrix("weight_hr_l0", w, p, n)?,
            None if p != n => {
                return Err(Error::shape(
                    "weight_hh_l0",
                    format!("(4N, N) = ({}, {n}) without weight_hr_l0 (proj_size)", 4 * n),
                    check::fmt_shape(w_hh.shape()),
                ));
            }
            None => {}
        }
        Ok(LstmWeights { w_ih, w_hh, b_ih, b_hh, w_hr })
    }

    /// Cell size `N` (length of `c`).
    pub fn hidden_dim(&self) -> usize {
        self.w_hh.nrows() / 4
    }

    /// Size `P` of `h`, the layer's output (`proj_size`, else `N`).
    pub fn output_dim(&self) -> usize {
        self.w_hh.ncols()
    }

    /// `weight_ih` `(4N, d_in)`.
    pub fn w_ih(&self) -> ArrayView2<'_, f64> {
        self.w_ih.view()
    }

    /// `weight_hh` `(4N, P)`.
    pub fn w_hh(&self) -> ArrayView2<'_, f64> {
        self.w_hh.view()
    }

    /// `bias_ih` `(4N)`, if any.
    pub fn b_ih(&self) -> Option<ArrayView1<'_, f64>> {
        self.b_ih.as_ref().map(|b| b.view())
    }

    /// `bias_hh` `(4N)`, if any.
    pub fn b_hh(&self) -> Option<ArrayView1<'_, f64>> {
        self.b_hh.as_ref().map(|b| b.view())
    }

    /// `weight_hr` `(P, N)`, if the layer projects.
    pub fn w_hr(&self) -> Option<ArrayView2<'_, f64>> {
        self.w_hr.as_ref().map(|w| w.view())
    }

    /// Splits a state `[h; c]` into `h` `(P)` and `c` `(N)`.
    fn split<'a>(&self, x: &'a ArrayView1<'_, f64>) -> (ArrayView1<'a, f64>, ArrayView1<'a, f64>) {
        let p = self.output_dim();
        (x.slice(s![..p]), x.slice(s![p..]))
    }

    fn gates(&self, x: &ArrayView1<'_, f64>, u: &ArrayView1<'_, f64>) -> Gates {
        let n = self.hidden_dim();
        let (h, c) = self.split(x);
        let mut a = Array1::zeros(4 * n);
        general_mat_vec_mul(1.0, &self.w_ih, u, 0.0, &mut a);
        general_mat_vec_mul(1.0, &self.w_hh, &h, 1.0, &mut a);
        for b in [&self.b_ih, &self.b_hh].into_iter().flatten() {
            a += b;
        }
        let i = a.slice(s![..n]).mapv(sigmoid);
        let f = a.slice(s![n..2 * n]).mapv(sigmoid);
        let g = a.slice(s![2 * n..3 * n]).mapv(f64::tanh);
        let o = a.slice(s![3 * n..]).mapv(sigmoid);
        let c_new = &f * &c + &i * &g;
        let tc = c_new.mapv(f64::tanh);
        Gates { i, f, g, o, c_old: c.to_owned(), c: c_new, tc }
    }

    /// `dc'/dv` and `dm/dv` `(N, k)` (with `m = o * tanh(c')`) for a variable `v` that enters the
    /// gate pre-activations through `w` `(4N, k)` and not through `c`.
    fn through_gates(&self, gt: &Gates, w: ArrayView2<'_, f64>) -> (Array2<f64>, Array2<f64>) {
        let n = self.hidden_dim();
        let k = w.ncols();
        let mut dc = Array2::zeros((n, k));
        let mut dm = Array2::zeros((n, k));
        for u in 0..n {
            let ci = gt.g[u] * gt.i[u] * (1.0 - gt.i[u]);
            let cf = gt.c_old[u] * gt.f[u] * (1.0 - gt.f[u]);
            let cg = gt.i[u] * (1.0 - gt.g[u] * gt.g[u]);
            let co = gt.tc[u] * gt.o[u] * (1.0 - gt.o[u]);
            let dtc = gt.o[u] * (1.0 - gt.tc[u] * gt.tc[u]);
            for j in 0..k {
                let d = ci * w[[u, j]] + cf * w[[n + u, j]] + cg * w[[2 * n + u, j]];
                dc[[u, j]] = d;
                dm[[u, j]] = co * w[[3 * n + u, j]] + dtc * d;
            }
        }
        (dc, dm)
    }

    /// Writes `dh'/dv = W_hr dm/dv` (or `dm/dv`) into `out`.
    fn project_into(&self, dm: &Array2<f64>, mut out: ArrayViewMut2<'_, f64>) {
        match &self.w_hr {
            Some(w) => ndarray::linalg::general_mat_mul(1.0, w, dm, 0.0, &mut out),
            None => out.assign(dm),
        }
    }

    /// Half-widths of a box holding every fixed point's state `[h; c]` when the layer's input
    /// lies in `center ± half` (`half` absent: exactly `center`). `|h| < 1` (or the row sums
    /// of `|W_hr|`), and `c* = i g / (1 - f)` with each gate bounded through its pre-activation.
    pub(crate) fn state_bounds(&self, center: ArrayView1<'_, f64>, half: Option<ArrayView1<'_, f64>>) -> Array1<f64> {
        let (n, p) = (self.hidden_dim(), self.output_dim());
        let hb = match &self.w_hr {
            Some(w) => w.mapv(f64::abs).sum_axis(ndarray::Axis(1)),
            None => Array1::ones(p),
        };
        let mut offset = self.w_ih.dot(&center);
        for b in [&self.b_ih, &self.b_hh].into_iter().flatten() {
            offset += b;
        }
        let mut pre = self.w_hh.mapv(f64::abs).dot(&hb) + offset.mapv(f64::abs);
        if let Some(half) = half {
            pre += &self.w_ih.mapv(f64::abs).dot(&half);
        }
        let mut out = Array1::zeros(p + n);
        out.slice_mut(s![..p]).assign(&hb);
        for u in 0..n {
            // 1 - s(B_f) = s(-B_f), exact where s(B_f) rounds to 1.
            out[p + u] = sigmoid(pre[u]) * pre[2 * n + u].tanh() / sigmoid(-pre[n + u]);
        }
        // A margin for rounding: the box must contain every root, never cut one.
        out.mapv(|b| b * (1.0 + 1e-9) + 1e-12)
    }
}

impl DiscreteMap for LstmWeights {
    fn state_dim(&self) -> usize {
        self.output_dim() + self.hidden_dim()
    }

    fn input_dim(&self) -> usize {
        self.w_ih.ncols()
    }

    fn fixed_point_bounds(&self, u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        (u.len() == self.input_dim()).then(|| self.state_bounds(u, None))
    }

    fn step_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        let (n, p) = (self.hidden_dim(), self.output_dim());
        check_into(p + n, self.input_dim(), &x, &u, out.shape(), &[p + n])?;
        let gt = self.gates(&x, &u);
        let m = &gt.o * &gt.tc;
        match &self.w_hr {
            Some(w) => out.slice_mut(s![..p]).assign(&w.dot(&m)),
            None => out.slice_mut(s![..p]).assign(&m),
        }
        out.slice_mut(s![p..]).assign(&gt.c);
        Ok(())
    }

    /// `[[W_hr dm/dh, W_hr D(o (1 - tanh^2 c') f)], [dc'/dh, D(f)]]`, with
    /// `dc'/dh = D(g i(1-i)) W_hi + D(c f(1-f)) W_hf + D(i (1-g^2)) W_hg` and
    /// `dm/dh = D(tanh(c') o(1-o)) W_ho + D(o (1 - tanh^2 c')) dc'/dh`.
    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, p) = (self.hidden_dim(), self.output_dim());
        check_into(p + n, self.input_dim(), &x, &u, out.shape(), &[p + n, p + n])?;
        let gt = self.gates(&x, &u);
        let (dc, dm) = self.through_gates(&gt, self.w_hh.view());
        out.fill(0.0);
        self.project_into(&dm, out.slice_mut(s![..p, ..p]));
        out.slice_mut(s![p.., ..p]).assign(&dc);
        // d(o tanh c')/dc = D(o (1 - tanh^2 c') f); through W_hr that scales its columns.
        let dmc: Array1<f64> = (0..n).map(|k| gt.o[k] * (1.0 - gt.tc[k] * gt.tc[k]) * gt.f[k]).collect();
        match &self.w_hr {
            Some(w) => out.slice_mut(s![..p, p..]).assign(&(w * &dmc)),
            None => out.slice_mut(s![..p, p..]).diag_mut().assign(&dmc),
        }
        out.slice_mut(s![p.., p..]).diag_mut().assign(&gt.f);
        Ok(())
    }

    /// `[W_hr dm/dx; dc'/dx]`, as the state Jacobian's first block column with `W_ih` for `W_hh`.
    fn input_jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, p, d) = (self.hidden_dim(), self.output_dim(), self.input_dim());
        check_into(p + n, d, &x, &u, out.shape(), &[p + n, d])?;
        let gt = self.gates(&x, &u);
        let (dc, dm) = self.through_gates(&gt, self.w_ih.view());
        self.project_into(&dm, out.slice_mut(s![..p, ..]));
        out.slice_mut(s![p.., ..]).assign(&dc);
        Ok(())
    }
}
