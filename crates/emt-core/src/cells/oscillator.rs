//! The handcrafted Z3 phase oscillator of the SET-task paper, as a map (docs/DYNAMICS.md §7).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut1, ArrayViewMut2};

use super::{Cell, Readout, check_readout};
use crate::maps::check_into;
use crate::{DiscreteMap, Error, Result, check};

/// A planar phase oscillator whose inputs shift its phase:
///
/// ```text
/// z' = (1 + kappa (1 - |z|)) R(omega + c.x) z,     z in R^2,   R(theta) the rotation by theta
/// ```
///
/// `|z| = 1` attracts for `0 < kappa < 2` (radial multiplier `1 - kappa`); with zero input the
/// phase advances by `omega` per step, and an input `x` held for `k` steps adds `k c.x`. Choosing
/// `c` with `k c.v_G = 2pi/3`, `k c.v_P = -2pi/3`, `k c.v_R = 0` ([`OscillatorWeights::z3`])
/// gives the Z3 code of the paper: a trial is accepted iff its phase returns to the
/// reference's. The readout (optional) reads `z`; the default start is `(1, 0)`, on the circle.
///
/// ```
/// use emt_core::{DiscreteMap, cells::OscillatorWeights};
/// let osc = OscillatorWeights::new(ndarray::array![[0.5, 0.0]], 0.25, 0.5, None)?;
/// let z = osc.step(ndarray::array![1.0, 0.0].view(), ndarray::array![1.0, 7.0].view())?;
/// assert!((z[0] - 0.75f64.cos()).abs() < 1e-15 && (z[1] - 0.75f64.sin()).abs() < 1e-15);
/// # Ok::<(), emt_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OscillatorWeights {
    c: Array2<f64>,
    omega: f64,
    kappa: f64,
    readout: Option<Readout>,
}

impl OscillatorWeights {
    /// Checks `c` `(1, d_in)` (file tensor `weight_ih`), finite `omega`, `0 < kappa < 2`, and a
    /// readout of the 2 state coordinates.
    pub fn new(c: Array2<f64>, omega: f64, kappa: f64, readout: Option<Readout>) -> Result<Self> {
        if c.nrows() != 1 || c.ncols() == 0 {
            return Err(Error::shape("weight_ih", "(1, d_in) with d_in >= 1", check::fmt_shape(c.shape())));
        }
        check::finite("weight_ih", &c)?;
        if !omega.is_finite() {
            return Err(Error::param("omega", omega, "must be finite"));
        }
        if !(kappa > 0.0 && kappa < 2.0) {
            return Err(Error::param("kappa", kappa, "must be in (0, 2) for the unit circle to attract"));
        }
        check_readout(readout.as_ref(), 2)?;
        Ok(OscillatorWeights { c, omega, kappa, readout })
    }

    /// The Z3 oscillator for colour vectors `v` `(3, d_in)` (rows G, P, R) and `k`-step pulses:
    /// `c` is the minimum-norm solution of `c.v_G = 2pi/(3k)`, `c.v_P = -2pi/(3k)`,
    /// `c.v_R = 0`; errors if the three vectors are linearly dependent.
    pub fn z3(v: ArrayView2<'_, f64>, k: usize, omega: f64, kappa: f64) -> Result<Self> {
        check::positive("pulse steps k", k)?;
        if v.nrows() != 3 || v.ncols() == 0 {
            return Err(Error::shape("colour vectors", "(3, d_in)", check::fmt_shape(v.shape())));
        }
        check::finite("colour vectors", &v)?;
        let s = 2.0 * std::f64::consts::PI / (3.0 * k as f64);
        let target = [s, -s, 0.0];
        // c = V^T (V V^T)^-1 t, with the 3x3 Gram matrix solved by Cramer's rule.
        let g = v.dot(&v.t());
        let det = det3(&g);
        let scale = g.iter().map(|x| x.abs()).fold(0.0, f64::max).powi(3);
        if det.abs() <= 1e-12 * scale {
            return Err(Error::singular("colour vectors", format!("linearly dependent (Gram determinant {det:e})")));
        }
        let mut y = [0.0; 3];
        for (col, yk) in y.iter_mut().enumerate() {
            let mut m = g.clone();
            for row in 0..3 {
                m[[row, col]] = target[row];
            }
            *yk = det3(&m) / det;
        }
        let c = v.t().dot(&ndarray::arr1(&y));
        OscillatorWeights::new(c.insert_axis(ndarray::Axis(0)), omega, kappa, None)
    }

    /// With a readout (`weight` `(d_out, 2)`).
    pub fn with_readout(mut self, readout: Readout) -> Result<Self> {
        check_readout(Some(&readout), 2)?;
        self.readout = Some(readout);
        Ok(self)
    }

    /// `c` as the file's `weight_ih` `(1, d_in)`.
    pub fn c(&self) -> ArrayView2<'_, f64> {
        self.c.view()
    }

    /// Phase advance per step with zero input.
    pub fn omega(&self) -> f64 {
        self.omega
    }

    /// Radial contraction: the circle's transverse multiplier is `1 - kappa`.
    pub fn kappa(&self) -> f64 {
        self.kappa
    }

    /// The readout, if any.
    pub fn readout(&self) -> Option<&Readout> {
        self.readout.as_ref()
    }

    fn angle(&self, x: ArrayView1<'_, f64>) -> f64 {
        self.omega + self.c.row(0).dot(&x)
    }
}

fn det3(m: &Array2<f64>) -> f64 {
    m[[0, 0]] * (m[[1, 1]] * m[[2, 2]] - m[[1, 2]] * m[[2, 1]])
        - m[[0, 1]] * (m[[1, 0]] * m[[2, 2]] - m[[1, 2]] * m[[2, 0]])
        + m[[0, 2]] * (m[[1, 0]] * m[[2, 1]] - m[[1, 1]] * m[[2, 0]])
}

impl DiscreteMap for OscillatorWeights {
    fn state_dim(&self) -> usize {
        2
    }

    fn input_dim(&self) -> usize {
        self.c.ncols()
    }

    fn step_into(&self, z: ArrayView1<'_, f64>, x: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        check_into(2, self.input_dim(), &z, &x, out.shape(), &[2])?;
        let g = 1.0 + self.kappa * (1.0 - z[0].hypot(z[1]));
        let (s, c) = self.angle(x).sin_cos();
        out[0] = g * (c * z[0] - s * z[1]);
        out[1] = g * (s * z[0] + c * z[1]);
        Ok(())
    }

    /// `g R + (R z)(grad g)^T` with `grad g = -kappa z / |z|` (taken as 0 at the origin, where
    /// `|z|` has no derivative).
    fn jacobian_into(
        &self,
        z: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        check_into(2, self.input_dim(), &z, &x, out.shape(), &[2, 2])?;
        let r = z[0].hypot(z[1]);
        let g = 1.0 + self.kappa * (1.0 - r);
        let (s, c) = self.angle(x).sin_cos();
        let rz = [c * z[0] - s * z[1], s * z[0] + c * z[1]];
        let grad = if r > 0.0 { [-self.kappa * z[0] / r, -self.kappa * z[1] / r] } else { [0.0, 0.0] };
        let rot = [[c, -s], [s, c]];
        for i in 0..2 {
            for j in 0..2 {
                out[[i, j]] = g * rot[i][j] + rz[i] * grad[j];
            }
        }
        Ok(())
    }

    /// `g R(theta + pi/2) z c^T`.
    fn input_jacobian_into(
        &self,
        z: ArrayView1<'_, f64>,
        x: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let d = self.input_dim();
        check_into(2, d, &z, &x, out.shape(), &[2, d])?;
        let g = 1.0 + self.kappa * (1.0 - z[0].hypot(z[1]));
        let (s, c) = self.angle(x).sin_cos();
        let dz = [g * (-s * z[0] - c * z[1]), g * (c * z[0] - s * z[1])];
        for i in 0..2 {
            for j in 0..d {
                out[[i, j]] = dz[i] * self.c[[0, j]];
            }
        }
        Ok(())
    }
}

impl Cell for OscillatorWeights {
    fn map(&self) -> Box<dyn DiscreteMap + '_> {
        Box::new(self)
    }

    fn output_dim(&self) -> usize {
        self.readout.as_ref().map_or(0, |r| r.output_dim())
    }

    fn output_into(&self, state: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) {
        if let Some(r) = &self.readout {
            r.apply_into(state, out);
        }
    }

    fn default_h0(&self) -> Array1<f64> {
        ndarray::array![1.0, 0.0]
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_close, fd};
    use super::*;

    #[test]
    fn jacobians_match_central_differences() {
        let v = emt_testkit::gaussian(3, 5, 1);
        let osc = OscillatorWeights::z3(v.view(), 2, 0.25, 0.6).unwrap();
        for seed in 0..4 {
            let z = emt_testkit::gaussian(2, 1, seed + 10).column(0).to_owned();
            let x = emt_testkit::gaussian(5, 1, seed + 20).column(0).to_owned();
            let j = osc.jacobian(z.view(), x.view()).unwrap();
            assert_close(&j, &fd(|zz| osc.step(zz, x.view()).unwrap(), z.view()), 1e-8, "dz'/dz");
            let jx = osc.input_jacobian(z.view(), x.view()).unwrap();
            assert_close(&jx, &fd(|xx| osc.step(z.view(), xx).unwrap(), x.view()), 1e-8, "dz'/dx");
        }
    }

    #[test]
    fn z3_pulses_shift_the_phase_by_thirds_of_a_turn() {
        let v = emt_testkit::gaussian(3, 100, 4);
        let osc = OscillatorWeights::z3(v.view(), 2, 0.0, 0.5).unwrap();
        let third = 2.0 * std::f64::consts::PI / 3.0;
        for (row, want) in [(0, third), (1, -third), (2, 0.0)] {
            // omega = 0: two steps of the pulse rotate (1, 0) by exactly the colour's shift.
            let mut z = ndarray::array![1.0, 0.0];
            for _ in 0..2 {
                z = osc.step(z.view(), v.row(row)).unwrap();
            }
            let got = z[1].atan2(z[0]);
            assert!((got - want).abs() < 1e-12 && (z[0].hypot(z[1]) - 1.0).abs() < 1e-12, "{row}: {got}");
        }
        let dependent = ndarray::array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        assert!(OscillatorWeights::z3(dependent.view(), 2, 0.1, 0.5).is_err());
        assert!(OscillatorWeights::new(ndarray::array![[1.0]], 0.1, 2.0, None).is_err());
        assert!(OscillatorWeights::new(ndarray::array![[1.0], [2.0]], 0.1, 0.5, None).is_err());
    }
}
