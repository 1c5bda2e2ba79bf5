//! Classic fourth-order Runge-Kutta for a flow and, through the same stages, its tangent
//! (variational) equation `dV/dt = Df(x) V`.

use emt_core::{Flow, Result};
use ndarray::{Array1, Array2, ArrayView1};

/// Where each stage is evaluated, as a fraction of the step.
const STAGE: [f64; 4] = [0.0, 0.5, 0.5, 1.0];
/// The stages' weights.
const WEIGHT: [f64; 4] = [1.0 / 6.0, 2.0 / 6.0, 2.0 / 6.0, 1.0 / 6.0];

/// Reusable buffers for [`Rk4`] steps of an `n`-dimensional flow with `k` tangent vectors.
#[derive(Debug, Clone)]
pub struct Rk4 {
    k: [Array1<f64>; 4],
    kv: [Array2<f64>; 4],
    x_stage: Array1<f64>,
    v_stage: Array2<f64>,
    jac: Array2<f64>,
}

impl Rk4 {
    /// Buffers for state size `n` and `k` tangents.
    pub fn new(n: usize, k: usize) -> Self {
        Rk4 {
            k: std::array::from_fn(|_| Array1::zeros(n)),
            kv: std::array::from_fn(|_| Array2::zeros((n, k))),
            x_stage: Array1::zeros(n),
            v_stage: Array2::zeros((n, k)),
            jac: Array2::zeros((n, n)),
        }
    }

    /// Advances `x` by one step `dt` with input `u` held constant.
    pub fn step(&mut self, flow: &dyn Flow, x: &mut Array1<f64>, u: ArrayView1<'_, f64>, dt: f64) -> Result<()> {
        for (s, &c) in STAGE.iter().enumerate() {
            self.x_stage.assign(x);
            if s > 0 {
                self.x_stage.scaled_add(c * dt, &self.k[s - 1]);
            }
            flow.field_into(self.x_stage.view(), u, self.k[s].view_mut())?;
        }
        for (s, w) in WEIGHT.iter().enumerate() {
            x.scaled_add(w * dt, &self.k[s]);
        }
        Ok(())
    }

    /// Advances `x` and the tangents `v` `(n, k)` by one step `dt` (input `u` held constant);
    /// returns the time-average over the step of `tr Df` estimated by Simpson's rule on the
    /// stages (for the sum-rule check).
    pub fn step_tangent(
        &mut self,
        flow: &dyn Flow,
        x: &mut Array1<f64>,
        v: &mut Array2<f64>,
        u: ArrayView1<'_, f64>,
        dt: f64,
    ) -> Result<f64> {
        let mut traces = [0.0; 4];
        for (s, &c) in STAGE.iter().enumerate() {
            self.x_stage.assign(x);
            self.v_stage.assign(v);
            if s > 0 {
                self.x_stage.scaled_add(c * dt, &self.k[s - 1]);
                self.v_stage.scaled_add(c * dt, &self.kv[s - 1]);
            }
            flow.field_into(self.x_stage.view(), u, self.k[s].view_mut())?;
            flow.jacobian_into(self.x_stage.view(), u, self.jac.view_mut())?;
            traces[s] = self.jac.diag().sum();
            ndarray::linalg::general_mat_mul(1.0, &self.jac, &self.v_stage, 0.0, &mut self.kv[s]);
        }
        for (s, w) in WEIGHT.iter().enumerate() {
            x.scaled_add(w * dt, &self.k[s]);
            v.scaled_add(w * dt, &self.kv[s]);
        }
        Ok(WEIGHT.iter().zip(traces).map(|(w, t)| w * t).sum())
    }
}
