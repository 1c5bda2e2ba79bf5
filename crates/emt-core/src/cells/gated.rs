//! The gated RNN of the theory of gating (Krishnamurthy, Can & Schwab; our equations,
//! docs/DYNAMICS.md §1 and §8): state `(h, z, r)` in `R^3N`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, s};

use super::{Cell, Readout, check_matrix, check_readout, check_scalar, check_vector};
use crate::maps::{EulerMap, check_into};
use crate::{DiscreteMap, Error, FixedPointReduction, Flow, Result, check};

/// The gate constants: `s_x(u) = 1 / (1 + exp(-(alpha_x u + beta_x)))`, time constants
/// `tau_z`, `tau_r` (> 0), and the Euler step `dt` used by [`simulate`](super::simulate).
///
/// The paper's sign and placement conventions are unconfirmed (docs/DYNAMICS.md §8), so every
/// constant is a parameter; [`Default`] is `alpha = 1, beta = 0, tau = 1, dt = 0.1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GatedParams {
    /// Gain of the z-gate sigmoid.
    pub alpha_z: f64,
    /// Gain of the r-gate sigmoid.
    pub alpha_r: f64,
    /// Offset of the z-gate sigmoid.
    pub beta_z: f64,
    /// Offset of the r-gate sigmoid.
    pub beta_r: f64,
    /// Time constant of z.
    pub tau_z: f64,
    /// Time constant of r.
    pub tau_r: f64,
    /// Euler step for simulation (not part of the flow).
    pub dt: f64,
}

impl Default for GatedParams {
    fn default() -> Self {
        GatedParams { alpha_z: 1.0, alpha_r: 1.0, beta_z: 0.0, beta_r: 0.0, tau_z: 1.0, tau_r: 1.0, dt: 0.1 }
    }
}

impl GatedParams {
    /// Checks every constant is finite and the time constants and `dt` are positive.
    pub fn check(self) -> Result<Self> {
        for (name, v) in
            [("alpha_z", self.alpha_z), ("alpha_r", self.alpha_r), ("beta_z", self.beta_z), ("beta_r", self.beta_r)]
        {
            if !v.is_finite() {
                return Err(Error::param(name, v, "must be finite"));
            }
        }
        for (name, v) in [("tau_z", self.tau_z), ("tau_r", self.tau_r), ("dt", self.dt)] {
            check_scalar(name, v, 0.0, f64::INFINITY)?;
        }
        Ok(self)
    }

    fn s(a: f64, b: f64, u: f64) -> f64 {
        super::sigmoid(a * u + b)
    }
}

/// Checked gated-RNN weights: `j_h`, `j_z`, `j_r` `(N, N)`, optional biases `b_h`, `b_z`,
/// `b_r` `(N)`, the constants, and an optional readout on `tanh(h)`.
///
/// ```text
/// dh/dt = s_z(z) * (-h + J^h (s_r(r) * tanh h) + b_h + x)
/// tau_z dz/dt = -z + J^z tanh h + b_z        tau_r dr/dt = -r + J^r tanh h + b_r
/// ```
///
/// There is no input matrix: the input `x` `(N)` adds to `b_h`, so the input Jacobian is
/// `df/db_h`.
///
/// ```
/// use emt_core::{Flow, cells::{GatedParams, GatedWeights}};
/// let j = ndarray::Array2::<f64>::eye(3) * 0.5;
/// let net = GatedWeights::new(j.clone(), j.clone(), j, [None, None, None], GatedParams::default(), None)?;
/// assert_eq!(net.state_dim(), 9);
/// assert!(net.field(ndarray::Array1::zeros(9).view(), ndarray::Array1::zeros(3).view())?.iter().all(|&v| v == 0.0));
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GatedWeights {
    j_h: Array2<f64>,
    j_z: Array2<f64>,
    j_r: Array2<f64>,
    b_h: Option<Array1<f64>>,
    b_z: Option<Array1<f64>>,
    b_r: Option<Array1<f64>>,
    params: GatedParams,
    readout: Option<Readout>,
}

impl GatedWeights {
    /// Checks shapes (`(N, N)` matrices, `(N)` biases `[b_h, b_z, b_r]`), finiteness and the
    /// constants.
    pub fn new(
        j_h: Array2<f64>,
        j_z: Array2<f64>,
        j_r: Array2<f64>,
        biases: [Option<Array1<f64>>; 3],
        params: GatedParams,
        readout: Option<Readout>,
    ) -> Result<Self> {
        let n = j_h.nrows();
        check::positive("N (rows of weight_hh)", n)?;
        check_matrix("weight_hh", &j_h, n, n)?;
        check_matrix("weight_zh", &j_z, n, n)?;
        check_matrix("weight_rh", &j_r, n, n)?;
        let [b_h, b_z, b_r] = biases;
        check_vector("bias_h", &b_h, n)?;
        check_vector("bias_z", &b_z, n)?;
        check_vector("bias_r", &b_r, n)?;
        let params = params.check()?;
        check_readout(readout.as_ref(), n)?;
        Ok(GatedWeights { j_h, j_z, j_r, b_h, b_z, b_r, params, readout })
    }

    /// `N` (the state has `3N` components).
    pub fn hidden_dim(&self) -> usize {
        self.j_h.nrows()
    }

    /// `J^h`, `J^z`, `J^r` `(N, N)`.
    pub fn couplings(&self) -> [ArrayView2<'_, f64>; 3] {
        [self.j_h.view(), self.j_z.view(), self.j_r.view()]
    }

    /// `b_h`, `b_z`, `b_r` `(N)`, each optional.
    pub fn biases(&self) -> [Option<ArrayView1<'_, f64>>; 3] {
        [&self.b_h, &self.b_z, &self.b_r].map(|b| b.as_ref().map(|b| b.view()))
    }

    /// The constants.
    pub fn params(&self) -> GatedParams {
        self.params
    }

    /// The readout on `tanh(h)`, if any.
    pub fn readout(&self) -> Option<&Readout> {
        self.readout.as_ref()
    }

    /// The fixed-point equation reduced to `h` (docs/DYNAMICS.md §1): with the gates at rest,
    /// `z = J^z tanh h + b_z` and `r = J^r tanh h + b_r`, a state is fixed iff
    /// `F(h) = -h + J^h (s_r(r) * tanh h) + b_h + x = 0` (`s_z > 0` everywhere). Returns `F(h)`
    /// `(N)` and `dF/dh = -I + J^h [D(s_r(r) p') + D(s_r'(r) p) J^r D(p')]` `(N, N)`, with
    /// `p = tanh h`, `p' = 1 - p^2`. A root lifts to the flow's fixed point with [`lift`](Self::lift).
    ///
    /// ```
    /// use emt_core::{Flow, cells::{GatedParams, GatedWeights}};
    /// let j = ndarray::Array2::<f64>::eye(2) * 0.5;
    /// let net = GatedWeights::new(j.clone(), j.clone(), j, [None, None, None], GatedParams::default(), None)?;
    /// let zero = ndarray::Array1::zeros(2);
    /// let (f, df) = net.reduced_fixed_point_equation(zero.view(), zero.view())?;
    /// assert_eq!(f, zero);
    /// assert!((df[[0, 0]] - (-1.0 + 0.5 * 0.5)).abs() < 1e-15); // -1 + J s_r(0)
    /// assert!(net.field(net.lift(zero.view())?.view(), zero.view())?.iter().all(|&v| v == 0.0));
    /// # Ok::<(), emt_core::Error>(())
    /// ```
    pub fn reduced_fixed_point_equation(
        &self,
        h: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
    ) -> Result<(Array1<f64>, Array2<f64>)> {
        let n = self.hidden_dim();
        check::shape("h", &h, &[n])?;
        check::shape("input", &x, &[n])?;
        check::finite("h", &h)?;
        check::finite("input", &x)?;
        let mut df = Array2::zeros((n, n));
        let f = self.reduced_unchecked(h, x, Some(df.view_mut()));
        Ok((f, df))
    }

    /// [`reduced_fixed_point_equation`](Self::reduced_fixed_point_equation) without the checks
    /// (a non-finite `h` gives non-finite values).
    fn reduced_unchecked(
        &self,
        h: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        jac: Option<ArrayViewMut2<'_, f64>>,
    ) -> Array1<f64> {
        let n = self.hidden_dim();
        let p = &self.params;
        let ph = h.mapv(f64::tanh);
        let mut r = self.j_r.dot(&ph);
        if let Some(b) = &self.b_r {
            r += b;
        }
        let q = r.mapv(|v| GatedParams::s(p.alpha_r, p.beta_r, v));
        let mut f = self.j_h.dot(&(&q * &ph)) - h + x;
        if let Some(b) = &self.b_h {
            f += b;
        }
        if let Some(mut df) = jac {
            // inner = D(q p') + D(q' p) J^r D(p'), then dF = -I + J^h inner: the one O(N^3)
            // step, skipped when only the value is asked for (a search's trial steps).
            let dph = ph.mapv(|v| 1.0 - v * v);
            let dq = q.mapv(|v| p.alpha_r * v * (1.0 - v));
            let mut inner = Array2::zeros((n, n));
            for i in 0..n {
                let c = dq[i] * ph[i];
                for k in 0..n {
                    inner[[i, k]] = c * self.j_r[[i, k]] * dph[k];
                }
                inner[[i, i]] += q[i] * dph[i];
            }
            ndarray::linalg::general_mat_mul(1.0, &self.j_h, &inner, 0.0, &mut df);
            df.diag_mut().mapv_inplace(|v| v - 1.0);
        }
        f
    }

    /// The full state `(h, z, r)` `(3N)` with the gates at rest for this `h` `(N)`:
    /// `z = J^z tanh h + b_z`, `r = J^r tanh h + b_r`.
    pub fn lift(&self, h: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
        let n = self.hidden_dim();
        check::shape("h", &h, &[n])?;
        let ph = h.mapv(f64::tanh);
        let mut out = Array1::zeros(3 * n);
        out.slice_mut(s![..n]).assign(&h);
        for (k, (j, b)) in [(&self.j_z, &self.b_z), (&self.j_r, &self.b_r)].into_iter().enumerate() {
            let mut g = j.dot(&ph);
            if let Some(b) = b {
                g += b;
            }
            out.slice_mut(s![(k + 1) * n..(k + 2) * n]).assign(&g);
        }
        Ok(out)
    }

    fn bias(b: &Option<Array1<f64>>, i: usize) -> f64 {
        b.as_ref().map_or(0.0, |b| b[i])
    }
}

/// `y = h`: the gates are at rest at a fixed point (docs/DYNAMICS.md §1), so fixed-point
/// searches solve the `N`-dimensional [`reduced_fixed_point_equation`](GatedWeights::reduced_fixed_point_equation)
/// instead of the `3N`-dimensional field.
impl FixedPointReduction for GatedWeights {
    fn reduced_dim(&self) -> usize {
        self.hidden_dim()
    }

    fn reduced_residual_into(
        &self,
        y: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut res: ArrayViewMut1<'_, f64>,
        jac: Option<ArrayViewMut2<'_, f64>>,
    ) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, n, &y, &u, res.shape(), &[n])?;
        if let Some(j) = &jac {
            check_into(n, n, &y, &u, j.shape(), &[n, n])?;
        }
        // Unchecked: a search's trial step may overflow, and a non-finite residual is its
        // answer to that (a rejected step), not an error.
        res.assign(&self.reduced_unchecked(y, u, jac));
        Ok(())
    }

    fn lift_root(&self, y: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
        check::shape("input", &u, &[self.hidden_dim()])?;
        self.lift(y)
    }

    fn restrict(&self, x: ArrayView1<'_, f64>) -> Result<Array1<f64>> {
        let n = self.hidden_dim();
        check::shape("state", &x, &[3 * n])?;
        Ok(x.slice(s![..n]).to_owned())
    }
}

impl Flow for GatedWeights {
    fn fixed_point_reduction(&self) -> Option<&dyn FixedPointReduction> {
        Some(self)
    }

    fn fixed_point_bounds(&self, u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        // h = J^h (s_r * tanh h) + b_h + u with 0 < s_r < 1; z = J^z tanh h + b_z; r likewise.
        // The constant input enters as a bias of h, so it belongs in h's bound.
        let n = self.j_h.nrows();
        if u.len() != n {
            return None;
        }
        let bound = |j: &Array2<f64>, b: &Option<Array1<f64>>, drive: f64, i: usize| {
            j.row(i).iter().map(|w| w.abs()).sum::<f64>() + (b.as_ref().map_or(0.0, |b| b[i]) + drive).abs()
        };
        Some(Array1::from_shape_fn(3 * n, |k| match k / n {
            0 => bound(&self.j_h, &self.b_h, u[k % n], k % n),
            1 => bound(&self.j_z, &self.b_z, 0.0, k % n),
            _ => bound(&self.j_r, &self.b_r, 0.0, k % n),
        }))
    }

    fn state_dim(&self) -> usize {
        3 * self.hidden_dim()
    }

    fn input_dim(&self) -> usize {
        self.hidden_dim()
    }

    fn field_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        let n = self.hidden_dim();
        check_into(3 * n, n, &x, &u, out.shape(), &[3 * n])?;
        let p = &self.params;
        let (h, z, r) = (x.slice(s![..n]), x.slice(s![n..2 * n]), x.slice(s![2 * n..]));
        let ph = h.mapv(f64::tanh);
        let qp = Array1::from_shape_fn(n, |k| GatedParams::s(p.alpha_r, p.beta_r, r[k]) * ph[k]);
        for i in 0..n {
            let a = GatedParams::s(p.alpha_z, p.beta_z, z[i]);
            out[i] = a * (-h[i] + self.j_h.row(i).dot(&qp) + Self::bias(&self.b_h, i) + u[i]);
            out[n + i] = (-z[i] + self.j_z.row(i).dot(&ph) + Self::bias(&self.b_z, i)) / p.tau_z;
            out[2 * n + i] = (-r[i] + self.j_r.row(i).dot(&ph) + Self::bias(&self.b_r, i)) / p.tau_r;
        }
        Ok(())
    }

    /// The block matrix of docs/DYNAMICS.md §1.
    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let n = self.hidden_dim();
        check_into(3 * n, n, &x, &u, out.shape(), &[3 * n, 3 * n])?;
        let p = &self.params;
        let (h, z, r) = (x.slice(s![..n]), x.slice(s![n..2 * n]), x.slice(s![2 * n..]));
        let ph = h.mapv(f64::tanh);
        let dph = ph.mapv(|v| 1.0 - v * v);
        let q = r.mapv(|v| GatedParams::s(p.alpha_r, p.beta_r, v));
        let dq = q.mapv(|v| p.alpha_r * v * (1.0 - v));
        let qp = &q * &ph;
        out.fill(0.0);
        for i in 0..n {
            let a = GatedParams::s(p.alpha_z, p.beta_z, z[i]);
            let da = p.alpha_z * a * (1.0 - a);
            let g = -h[i] + self.j_h.row(i).dot(&qp) + Self::bias(&self.b_h, i) + u[i];
            for k in 0..n {
                let jh = self.j_h[[i, k]];
                out[[i, k]] = a * jh * q[k] * dph[k];
                out[[i, 2 * n + k]] = a * jh * dq[k] * ph[k];
                out[[n + i, k]] = self.j_z[[i, k]] * dph[k] / p.tau_z;
                out[[2 * n + i, k]] = self.j_r[[i, k]] * dph[k] / p.tau_r;
            }
            out[[i, i]] -= a;
            out[[i, n + i]] = da * g;
            out[[n + i, n + i]] = -1.0 / p.tau_z;
            out[[2 * n + i, 2 * n + i]] = -1.0 / p.tau_r;
        }
        Ok(())
    }

    /// `[D(s_z(z)); 0; 0]`: the input adds to `b_h`.
    fn input_jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let n = self.hidden_dim();
        check_into(3 * n, n, &x, &u, out.shape(), &[3 * n, n])?;
        out.fill(0.0);
        for i in 0..n {
            out[[i, i]] = GatedParams::s(self.params.alpha_z, self.params.beta_z, x[n + i]);
        }
        Ok(())
    }
}

impl Cell for GatedWeights {
    fn map(&self) -> Box<dyn DiscreteMap + '_> {
        // dt was checked by GatedParams::check at construction.
        Box::new(EulerMap::unchecked(self, self.params.dt))
    }

    fn output_dim(&self) -> usize {
        self.readout.as_ref().map_or(0, Readout::output_dim)
    }

    fn output_into(&self, state: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) {
        if let Some(r) = &self.readout {
            let n = self.hidden_dim();
            r.apply_into(state.slice(s![..n]).mapv(f64::tanh).view(), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, fd};
    use super::*;

    fn random(n: usize, seed: u64, params: GatedParams) -> GatedWeights {
        let g = |r, c, s| emt_testkit::gaussian(r, c, s) * (1.5 / (n as f64).sqrt());
        let b = |s| Some(emt_testkit::gaussian(n, 1, s).column(0).mapv(|v| 0.3 * v));
        GatedWeights::new(
            g(n, n, seed),
            g(n, n, seed + 1),
            g(n, n, seed + 2),
            [b(seed + 3), b(seed + 4), b(seed + 5)],
            params,
            None,
        )
        .unwrap()
    }

    /// One unit driven by u = 3 rests near h = 3 + 0.5 s_r tanh h, far outside the input-free
    /// box |h| <= 0.5: the bound must count the input, or a search drops this stable root.
    #[test]
    fn the_fixed_point_box_counts_the_input() {
        let one = |v: f64| ndarray::array![[v]];
        let net =
            GatedWeights::new(one(0.5), one(0.0), one(0.0), [None, None, None], GatedParams::default(), None).unwrap();
        let u = ndarray::array![3.0];
        let mut x = ndarray::array![0.0, 0.0, 0.0];
        for _ in 0..20_000 {
            let f = net.field(x.view(), u.view()).unwrap();
            x = &x + &(f * 0.05);
        }
        assert!(net.field(x.view(), u.view()).unwrap().iter().all(|v| v.abs() < 1e-10));
        assert!(x[0] > 3.0 && x[0] < 3.5, "{x}");
        let b = net.fixed_point_bounds(u.view()).unwrap();
        assert!(x.iter().zip(&b).all(|(v, b)| v.abs() <= *b), "{x} outside {b}");
        let b0 = net.fixed_point_bounds(ndarray::array![0.0].view()).unwrap();
        assert_eq!(b0[0], 0.5);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// The reduced equation is the h-block of the flow at the lifted state (so its roots
        /// are the flow's fixed points) and its Jacobian matches central differences.
        #[test]
        fn the_reduced_equation_is_the_flow_at_rest(seed in 0u64..1000, n in 1usize..6, alpha_r in 0.0..4.0f64) {
            let net = random(n, seed, GatedParams { alpha_r, beta_r: 0.3, alpha_z: 2.0, ..Default::default() });
            let h = emt_testkit::gaussian(n, 1, seed + 9).column(0).to_owned();
            let x = emt_testkit::gaussian(n, 1, seed + 10).column(0).mapv(|v| 0.2 * v);
            let (f, df) = net.reduced_fixed_point_equation(h.view(), x.view()).unwrap();
            let full = net.lift(h.view()).unwrap();
            let field = net.field(full.view(), x.view()).unwrap();
            let p = net.params();
            for i in 0..n {
                let a = GatedParams::s(p.alpha_z, p.beta_z, full[n + i]);
                proptest::prop_assert!((field[i] - a * f[i]).abs() < 1e-12);
                proptest::prop_assert!(field[n + i].abs() < 1e-12 && field[2 * n + i].abs() < 1e-12);
            }
            let numeric = fd(|v| net.reduced_fixed_point_equation(v, x.view()).unwrap().0, h.view());
            assert_close(&df, &numeric, 1e-6, "reduced dF/dh");
        }
    }

    #[test]
    fn jacobians_match_central_differences() {
        let params =
            GatedParams { alpha_z: 2.0, alpha_r: 0.7, beta_z: -0.5, beta_r: 0.3, tau_z: 2.0, tau_r: 0.5, dt: 0.1 };
        for seed in [0, 10] {
            let w = random(4, seed, params);
            let x = emt_testkit::gaussian(12, 1, seed + 7).column(0).to_owned();
            let u = emt_testkit::gaussian(4, 1, seed + 8).column(0).to_owned();
            let j = Flow::jacobian(&w, x.view(), u.view()).unwrap();
            assert_close(&j, &fd(|xx| w.field(xx, u.view()).unwrap(), x.view()), 1e-8, "Df");
            let ju = Flow::input_jacobian(&w, x.view(), u.view()).unwrap();
            assert_close(&ju, &fd(|uu| w.field(x.view(), uu).unwrap(), u.view()), 1e-8, "df/dx");
        }
    }

    /// docs/DYNAMICS.md §1: tr Df = sum_i a_i (-1 + J^h_ii q_i p'_i) - N/tau_z - N/tau_r.
    #[test]
    fn trace_formula_holds() {
        let params = GatedParams { tau_z: 3.0, tau_r: 0.25, ..Default::default() };
        let w = random(5, 3, params);
        let x = emt_testkit::gaussian(15, 1, 9).column(0).to_owned();
        let u = Array1::zeros(5);
        let j = Flow::jacobian(&w, x.view(), u.view()).unwrap();
        let mut expected = -5.0 / 3.0 - 5.0 / 0.25;
        for i in 0..5 {
            let a = super::super::sigmoid(x[5 + i]);
            let q = super::super::sigmoid(x[10 + i]);
            expected += a * (-1.0 + w.j_h[[i, i]] * q * (1.0 - x[i].tanh().powi(2)));
        }
        assert!((j.diag().sum() - expected).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_constants_and_shapes() {
        let j = Array2::<f64>::eye(2);
        let bad = GatedParams { tau_z: 0.0, ..Default::default() };
        let e = GatedWeights::new(j.clone(), j.clone(), j.clone(), [None, None, None], bad, None).unwrap_err();
        assert!(e.to_string().contains("tau_z"), "{e}");
        let e = GatedWeights::new(j.clone(), Array2::eye(3), j, [None, None, None], GatedParams::default(), None)
            .unwrap_err();
        assert!(e.to_string().contains("weight_zh"), "{e}");
    }
}
