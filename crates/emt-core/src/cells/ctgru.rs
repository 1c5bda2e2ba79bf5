//! The continuous-time GRU of Jordan, Sokol & Park (reset BEFORE the matmul; docs/DYNAMICS.md §1).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2, s};

use super::{Cell, Readout, check_matrix, check_readout, check_scalar, check_vector, sigmoid};
use crate::maps::{EulerMap, check_into};
use crate::{DiscreteMap, Flow, Result, check};

/// Checked continuous-time GRU: `u` `(3N, N)` = `[U_r; U_z; U_h]`, optional input weights
/// `w_ih` `(3N, d_in)` (rows in the same order), optional bias `b` `(3N)` = `[b_r; b_z; b_h]`,
/// the Euler step `dt` used to simulate (and train) it, and an optional readout on `h`.
///
/// ```text
/// z = s(U_z h + W_iz x + b_z)   r = s(U_r h + W_ir x + b_r)   c = tanh(U_h (r*h) + W_ih x + b_h)
/// dh/dt = (1 - z) * (c - h)
/// ```
///
/// ```
/// use emt_core::{Flow, cells::CtGruWeights};
/// // docs/DYNAMICS.md §9: U_h = 4 R(pi/4), U_z = U_r = 0, b = 0 has a stable limit cycle.
/// let (c, s) = (std::f64::consts::FRAC_PI_4.cos(), std::f64::consts::FRAC_PI_4.sin());
/// let mut u = ndarray::Array2::zeros((6, 2));
/// u.slice_mut(ndarray::s![4.., ..]).assign(&(ndarray::array![[c, -s], [s, c]] * 4.0));
/// let net = CtGruWeights::new(u, None, None, 0.1, None)?;
/// assert_eq!(net.field(ndarray::array![0.0, 0.0].view(), ndarray::Array1::zeros(0).view())?, ndarray::array![0.0, 0.0]);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CtGruWeights {
    u: Array2<f64>,
    w_ih: Option<Array2<f64>>,
    b: Option<Array1<f64>>,
    dt: f64,
    readout: Option<Readout>,
}

/// Gate values and the candidate, per unit.
struct State {
    z: Array1<f64>,
    r: Array1<f64>,
    c: Array1<f64>,
}

impl CtGruWeights {
    /// Checks shapes (`u` `(3N, N)`, `w_ih` `(3N, d_in)`, `b` `(3N)`), finiteness and
    /// `dt > 0`.
    pub fn new(
        u: Array2<f64>,
        w_ih: Option<Array2<f64>>,
        b: Option<Array1<f64>>,
        dt: f64,
        readout: Option<Readout>,
    ) -> Result<Self> {
        let n = u.ncols();
        check::positive("N (columns of weight_hh_l0)", n)?;
        check_matrix("weight_hh_l0", &u, 3 * n, n)?;
        if let Some(w) = &w_ih {
            check_matrix("weight_ih_l0", w, 3 * n, w.ncols())?;
        }
        check_vector("bias_hh_l0", &b, 3 * n)?;
        check_scalar("dt", dt, 0.0, f64::INFINITY)?;
        check_readout(readout.as_ref(), n)?;
        Ok(CtGruWeights { u, w_ih, b, dt, readout })
    }

    /// Hidden size `N`.
    pub fn hidden_dim(&self) -> usize {
        self.u.ncols()
    }

    /// `weight_hh_l0` `(3N, N)` = `[U_r; U_z; U_h]`.
    pub fn u(&self) -> ArrayView2<'_, f64> {
        self.u.view()
    }

    /// `weight_ih_l0` `(3N, d_in)`, if any.
    pub fn w_ih(&self) -> Option<ArrayView2<'_, f64>> {
        self.w_ih.as_ref().map(|w| w.view())
    }

    /// `bias_hh_l0` `(3N)` = `[b_r; b_z; b_h]`, if any.
    pub fn b(&self) -> Option<ArrayView1<'_, f64>> {
        self.b.as_ref().map(|b| b.view())
    }

    /// The Euler step used by [`simulate`](super::simulate) and training.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// The readout on `h`, if any.
    pub fn readout(&self) -> Option<&Readout> {
        self.readout.as_ref()
    }

    /// Pre-activation of gate block `k` (0 = r, 1 = z, 2 = h) without the `U` term.
    fn drive(&self, k: usize, x: &ArrayView1<'_, f64>) -> Array1<f64> {
        let n = self.hidden_dim();
        let (lo, hi) = (k * n, (k + 1) * n);
        let mut v = match &self.w_ih {
            Some(w) => w.slice(s![lo..hi, ..]).dot(x),
            None => Array1::zeros(n),
        };
        if let Some(b) = &self.b {
            v += &b.slice(s![lo..hi]);
        }
        v
    }

    fn state(&self, h: &ArrayView1<'_, f64>, x: &ArrayView1<'_, f64>) -> State {
        let n = self.hidden_dim();
        let r = (self.u.slice(s![..n, ..]).dot(h) + self.drive(0, x)).mapv(sigmoid);
        let z = (self.u.slice(s![n..2 * n, ..]).dot(h) + self.drive(1, x)).mapv(sigmoid);
        let rh = &r * h;
        let c = (self.u.slice(s![2 * n.., ..]).dot(&rh) + self.drive(2, x)).mapv(f64::tanh);
        State { z, r, c }
    }
}

impl Flow for CtGruWeights {
    fn fixed_point_bounds(&self, _u: ArrayView1<'_, f64>) -> Option<Array1<f64>> {
        // A fixed point is a tanh (or a convex mix of tanh values): |h_i| < 1.
        Some(Array1::ones(self.hidden_dim()))
    }

    fn state_dim(&self) -> usize {
        self.hidden_dim()
    }

    fn input_dim(&self) -> usize {
        self.w_ih.as_ref().map_or(0, |w| w.ncols())
    }

    fn field_into(
        &self,
        h: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, Flow::input_dim(self), &h, &x, out.shape(), &[n])?;
        let st = self.state(&h, &x);
        for i in 0..n {
            out[i] = (1.0 - st.z[i]) * (st.c[i] - h[i]);
        }
        Ok(())
    }

    /// `-D((c-h) z(1-z)) U_z + D(1-z) [D(1-c^2) U_h (D(r) + D(h r(1-r)) U_r) - I]`.
    fn jacobian_into(
        &self,
        h: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let n = self.hidden_dim();
        check_into(n, Flow::input_dim(self), &h, &x, out.shape(), &[n, n])?;
        let st = self.state(&h, &x);
        let (u_r, u_z, u_h) =
            (self.u.slice(s![..n, ..]), self.u.slice(s![n..2 * n, ..]), self.u.slice(s![2 * n.., ..]));
        // M = D(r) + D(h r (1-r)) U_r: d(r*h)/dh.
        let mut m = u_r.to_owned();
        for k in 0..n {
            let g = h[k] * st.r[k] * (1.0 - st.r[k]);
            m.row_mut(k).mapv_inplace(|v| v * g);
            m[[k, k]] += st.r[k];
        }
        let uhm = u_h.dot(&m);
        for i in 0..n {
            let cz = -(st.c[i] - h[i]) * st.z[i] * (1.0 - st.z[i]);
            let cc = (1.0 - st.z[i]) * (1.0 - st.c[i] * st.c[i]);
            for j in 0..n {
                out[[i, j]] = cz * u_z[[i, j]] + cc * uhm[[i, j]];
            }
            out[[i, i]] -= 1.0 - st.z[i];
        }
        Ok(())
    }

    /// `-D((c-h) z(1-z)) W_iz + D((1-z)(1-c^2)) [W_ih,h + U_h D(h r(1-r)) W_ir]`.
    fn input_jacobian_into(
        &self,
        h: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let (n, d) = (self.hidden_dim(), Flow::input_dim(self));
        check_into(n, d, &h, &x, out.shape(), &[n, d])?;
        let Some(w) = &self.w_ih else { return Ok(()) };
        let st = self.state(&h, &x);
        let (w_r, w_z, w_h) = (w.slice(s![..n, ..]), w.slice(s![n..2 * n, ..]), w.slice(s![2 * n.., ..]));
        let mut scaled = w_r.to_owned();
        for k in 0..n {
            let g = h[k] * st.r[k] * (1.0 - st.r[k]);
            scaled.row_mut(k).mapv_inplace(|v| v * g);
        }
        let through_r = self.u.slice(s![2 * n.., ..]).dot(&scaled);
        for i in 0..n {
            let cz = -(st.c[i] - h[i]) * st.z[i] * (1.0 - st.z[i]);
            let cc = (1.0 - st.z[i]) * (1.0 - st.c[i] * st.c[i]);
            for j in 0..d {
                out[[i, j]] = cz * w_z[[i, j]] + cc * (w_h[[i, j]] + through_r[[i, j]]);
            }
        }
        Ok(())
    }
}

impl Cell for CtGruWeights {
    fn map(&self) -> Box<dyn DiscreteMap + '_> {
        // dt was checked at construction.
        Box::new(EulerMap::unchecked(self, self.dt))
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

    fn random(n: usize, d: usize, seed: u64) -> CtGruWeights {
        let g = |r, c, s| emt_testkit::gaussian(r, c, s) * 0.8;
        CtGruWeights::new(
            g(3 * n, n, seed),
            Some(g(3 * n, d, seed + 1)),
            Some(g(3 * n, 1, seed + 2).column(0).to_owned()),
            0.5,
            None,
        )
        .unwrap()
    }

    #[test]
    fn jacobians_match_central_differences() {
        for seed in [0, 10, 20] {
            let w = random(5, 3, seed);
            let h = emt_testkit::gaussian(5, 1, seed + 5).column(0).mapv(|v| 0.6 * v);
            let x = emt_testkit::gaussian(3, 1, seed + 6).column(0).to_owned();
            let j = Flow::jacobian(&w, h.view(), x.view()).unwrap();
            assert_close(&j, &fd(|hh| w.field(hh, x.view()).unwrap(), h.view()), 1e-8, "Df");
            let jx = Flow::input_jacobian(&w, h.view(), x.view()).unwrap();
            assert_close(&jx, &fd(|xx| w.field(h.view(), xx).unwrap(), x.view()), 1e-8, "df/dx");
            // The Euler map's Jacobian is I + dt Df.
            let map = w.map();
            let jm = map.jacobian(h.view(), x.view()).unwrap();
            assert_close(&jm, &(Array2::eye(5) + &j * 0.5), 1e-14, "Euler map");
        }
    }

    /// docs/DYNAMICS.md §9: with U_h = 4 R(pi/4) and U_z = U_r = 0, b = 0 (z = r = 1/2), the origin's
    /// eigenvalues are 0.5(-1 + 2 e^{+-i pi/4}) = 0.2071 +- 0.7071 i.
    #[test]
    fn rotation_ground_truth_jacobian_at_the_origin() {
        let (c, s) = (std::f64::consts::FRAC_PI_4.cos(), std::f64::consts::FRAC_PI_4.sin());
        let mut u = Array2::zeros((6, 2));
        u.slice_mut(s![4.., ..]).assign(&(ndarray::array![[c, -s], [s, c]] * 4.0));
        let w = CtGruWeights::new(u, None, None, 0.1, None).unwrap();
        let j = Flow::jacobian(&w, ndarray::array![0.0, 0.0].view(), Array1::zeros(0).view()).unwrap();
        let (tr, det) = (j[[0, 0]] + j[[1, 1]], j[[0, 0]] * j[[1, 1]] - j[[0, 1]] * j[[1, 0]]);
        let re = tr / 2.0;
        let im = (det - re * re).sqrt();
        // 0.5 (-1 + 2 cos(pi/4)) = 0.2071..., 0.5 * 2 sin(pi/4) = 0.7071...
        let half_sqrt2 = std::f64::consts::FRAC_1_SQRT_2;
        assert!((re - (half_sqrt2 - 0.5)).abs() < 1e-12 && (im - half_sqrt2).abs() < 1e-12, "{re} {im}");
    }
}
