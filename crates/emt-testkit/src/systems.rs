//! Ground-truth dynamical systems (docs/DYNAMICS.md §9) as [`DiscreteMap`]s and [`Flow`]s.
//!
//! | system | known answer |
//! |---|---|
//! | [`Henon`] (1.4, 0.3) | exponents 0.419217, -1.623190; D_KY 1.258267; sum ln 0.3 |
//! | [`Logistic`] (r = 4) | ln 2 |
//! | [`LinearMap`] / [`LinearFlow`] | ln abs(eig A) / Re eig A |
//! | [`Lorenz`] (10, 28, 8/3) | 0.90563, 0, -14.57219; D_KY 2.06215; sum -13.6667 |
//! | [`Rossler`] (0.2, 0.2, 5.7) | lambda_1 0.0714; sum -5.3229 |
//! | [`VanDerPol`] (mu = 0.5, 1, 2) | period 6.38068, 6.66329, 7.62987 |
//! | [`StuartLandau`] (l, w, q) | radius sqrt(l); period 2 pi / abs(w - q l); Floquet exponent -2 l |
//! | [`Riccati`] `dx/dt = a + b x^2` | `a = p, b = -1`: saddle-node at `p = 0`; `a = 0, b = 1`: blow-up at `t = 1/x0` |
//! | [`CircleSnic`] `dtheta/dt = p - sin theta` on an attracting circle | SNIC at `p_c = 1`, `T = 2 pi / sqrt(p^2 - 1)` |
//! | [`StrogatzHomoclinic`] `x' = y, y' = mu y + x - x^2 + x y` | homoclinic at `mu_c = -0.864545`, `lambda_u = 0.65716` |
//! | [`RandomRateNetwork`] `dh/dt = -h + J tanh h` | g < 1: lambda_max = max Re eig(J) - 1 |
//!
//! [`CountingMap`] wraps any map to count the steps and Jacobians an analysis asks for (its work).

use emt_core::{DiscreteMap, Error, Flow, Result};
use ndarray::{Array2, ArrayView1, ArrayViewMut1, ArrayViewMut2};

fn dims(n: usize, x: &ArrayView1<'_, f64>, out: &[usize]) -> Result<()> {
    if x.len() != n || out.first() != Some(&n) {
        return Err(Error::shape("state", format!("({n})"), format!("{:?} / out {:?}", x.shape(), out)));
    }
    Ok(())
}

macro_rules! autonomous_inputs {
    () => {
        fn input_dim(&self) -> usize {
            0
        }
        fn input_jacobian_into(
            &self,
            _: ArrayView1<'_, f64>,
            _: ArrayView1<'_, f64>,
            _: ArrayViewMut2<'_, f64>,
        ) -> Result<()> {
            Ok(())
        }
    };
}

/// The Hénon map `(x, y) -> (1 - a x^2 + y, b x)`.
#[derive(Debug, Clone, Copy)]
pub struct Henon {
    /// `a` (1.4 in the classic case).
    pub a: f64,
    /// `b` (0.3; `det DF = -b`).
    pub b: f64,
}

impl DiscreteMap for Henon {
    fn state_dim(&self) -> usize {
        2
    }
    autonomous_inputs!();
    fn step_into(&self, x: ArrayView1<'_, f64>, _: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        dims(2, &x, out.shape())?;
        out[0] = 1.0 - self.a * x[0] * x[0] + x[1];
        out[1] = self.b * x[0];
        Ok(())
    }
    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(2, &x, out.shape())?;
        out.assign(&ndarray::array![[-2.0 * self.a * x[0], 1.0], [self.b, 0.0]]);
        Ok(())
    }
}

/// The logistic map `x -> r x (1 - x)`.
#[derive(Debug, Clone, Copy)]
pub struct Logistic {
    /// `r` (4: lambda = ln 2).
    pub r: f64,
}

impl DiscreteMap for Logistic {
    fn state_dim(&self) -> usize {
        1
    }
    autonomous_inputs!();
    fn step_into(&self, x: ArrayView1<'_, f64>, _: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        dims(1, &x, out.shape())?;
        out[0] = self.r * x[0] * (1.0 - x[0]);
        Ok(())
    }
    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(1, &x, out.shape())?;
        out[[0, 0]] = self.r * (1.0 - 2.0 * x[0]);
        Ok(())
    }
}

/// `x -> A x`.
#[derive(Debug, Clone)]
pub struct LinearMap(pub Array2<f64>);

impl DiscreteMap for LinearMap {
    fn state_dim(&self) -> usize {
        self.0.nrows()
    }
    autonomous_inputs!();
    fn step_into(&self, x: ArrayView1<'_, f64>, _: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
        dims(self.0.nrows(), &x, out.shape())?;
        out.assign(&self.0.dot(&x));
        Ok(())
    }
    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(self.0.nrows(), &x, out.shape())?;
        out.assign(&self.0);
        Ok(())
    }
}

/// `dx/dt = A x`.
#[derive(Debug, Clone)]
pub struct LinearFlow(pub Array2<f64>);

impl Flow for LinearFlow {
    fn state_dim(&self) -> usize {
        self.0.nrows()
    }
    autonomous_inputs!();
    fn field_into(
        &self,
        x: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        dims(self.0.nrows(), &x, out.shape())?;
        out.assign(&self.0.dot(&x));
        Ok(())
    }
    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(self.0.nrows(), &x, out.shape())?;
        out.assign(&self.0);
        Ok(())
    }
}

/// The Lorenz system `(s (y - x), x (r - z) - y, x y - b z)`.
#[derive(Debug, Clone, Copy)]
pub struct Lorenz {
    /// sigma (10).
    pub sigma: f64,
    /// rho (28).
    pub rho: f64,
    /// beta (8/3).
    pub beta: f64,
}

impl Flow for Lorenz {
    fn state_dim(&self) -> usize {
        3
    }
    autonomous_inputs!();
    fn field_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        dims(3, &v, out.shape())?;
        let (x, y, z) = (v[0], v[1], v[2]);
        out[0] = self.sigma * (y - x);
        out[1] = x * (self.rho - z) - y;
        out[2] = x * y - self.beta * z;
        Ok(())
    }
    fn jacobian_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(3, &v, out.shape())?;
        let (x, y, z) = (v[0], v[1], v[2]);
        out.assign(&ndarray::array![[-self.sigma, self.sigma, 0.0], [self.rho - z, -1.0, -x], [y, x, -self.beta]]);
        Ok(())
    }
}

/// The Stuart-Landau oscillator `z' = (l + i w) z - (1 + i q) |z|^2 z` on `(x, y) = (Re z, Im z)`:
/// a limit cycle of radius `sqrt(l)`, period `2 pi / |w - q l|`, Floquet exponent `-2 l`.
#[derive(Debug, Clone, Copy)]
pub struct StuartLandau {
    /// Growth `l` (> 0 for a cycle).
    pub l: f64,
    /// Frequency `w`.
    pub w: f64,
    /// Shear `q`.
    pub q: f64,
}

impl Flow for StuartLandau {
    fn state_dim(&self) -> usize {
        2
    }
    autonomous_inputs!();
    fn field_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        dims(2, &v, out.shape())?;
        let (x, y) = (v[0], v[1]);
        let r2 = x * x + y * y;
        out[0] = self.l * x - self.w * y - r2 * (x - self.q * y);
        out[1] = self.w * x + self.l * y - r2 * (self.q * x + y);
        Ok(())
    }
    fn jacobian_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(2, &v, out.shape())?;
        let (x, y) = (v[0], v[1]);
        let r2 = x * x + y * y;
        let (a, b) = (x - self.q * y, self.q * x + y);
        out.assign(&ndarray::array![
            [self.l - r2 - 2.0 * x * a, -self.w + self.q * r2 - 2.0 * y * a],
            [self.w - self.q * r2 - 2.0 * x * b, self.l - r2 - 2.0 * y * b]
        ]);
        Ok(())
    }
}

/// The scalar Riccati flow `dx/dt = a + b x^2`.
#[derive(Debug, Clone, Copy)]
pub struct Riccati {
    /// Constant term.
    pub a: f64,
    /// Quadratic coefficient.
    pub b: f64,
}

impl Flow for Riccati {
    fn state_dim(&self) -> usize {
        1
    }
    autonomous_inputs!();
    fn field_into(
        &self,
        x: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        dims(1, &x, out.shape())?;
        out[0] = self.a + self.b * x[0] * x[0];
        Ok(())
    }
    fn jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(1, &x, out.shape())?;
        out[[0, 0]] = 2.0 * self.b * x[0];
        Ok(())
    }
}

/// `dtheta/dt = p - sin theta` on an attracting unit circle:
/// `z' = i z (p - Im z) + z (1 - |z|^2)` on `(x, y) = (Re z, Im z)`.
#[derive(Debug, Clone, Copy)]
pub struct CircleSnic {
    /// `p` (a cycle for `p > 1`).
    pub p: f64,
}

impl Flow for CircleSnic {
    fn state_dim(&self) -> usize {
        2
    }
    autonomous_inputs!();
    fn field_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        dims(2, &v, out.shape())?;
        let (x, y) = (v[0], v[1]);
        let (w, g) = (self.p - y, 1.0 - x * x - y * y);
        out[0] = -w * y + g * x;
        out[1] = w * x + g * y;
        Ok(())
    }
    fn jacobian_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(2, &v, out.shape())?;
        let (x, y) = (v[0], v[1]);
        let (w, g) = (self.p - y, 1.0 - x * x - y * y);
        out.assign(&ndarray::array![[g - 2.0 * x * x, -w + y - 2.0 * x * y], [w - 2.0 * x * y, -x + g - 2.0 * y * y]]);
        Ok(())
    }
}

/// Strogatz 8.4: `x' = y, y' = mu y + x - x^2 + x y`, a stable cycle for `mu < mu_c` that dies
/// in a homoclinic orbit to the saddle at the origin.
#[derive(Debug, Clone, Copy)]
pub struct StrogatzHomoclinic {
    /// `mu`.
    pub mu: f64,
}

impl Flow for StrogatzHomoclinic {
    fn state_dim(&self) -> usize {
        2
    }
    autonomous_inputs!();
    fn field_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        dims(2, &v, out.shape())?;
        out[0] = v[1];
        out[1] = self.mu * v[1] + v[0] - v[0] * v[0] + v[0] * v[1];
        Ok(())
    }
    fn jacobian_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(2, &v, out.shape())?;
        out.assign(&ndarray::array![[0.0, 1.0], [1.0 - 2.0 * v[0] + v[1], self.mu + v[0]]]);
        Ok(())
    }
}

/// The van der Pol oscillator `(y, mu (1 - x^2) y - x)`: a stable limit cycle with period
/// 6.38068, 6.66329, 7.62987 for `mu` = 0.5, 1, 2 (docs/DYNAMICS.md §9).
#[derive(Debug, Clone, Copy)]
pub struct VanDerPol {
    /// mu.
    pub mu: f64,
}

impl Flow for VanDerPol {
    fn state_dim(&self) -> usize {
        2
    }
    autonomous_inputs!();
    fn field_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        dims(2, &v, out.shape())?;
        out[0] = v[1];
        out[1] = self.mu * (1.0 - v[0] * v[0]) * v[1] - v[0];
        Ok(())
    }
    fn jacobian_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(2, &v, out.shape())?;
        out.assign(&ndarray::array![[0.0, 1.0], [-2.0 * self.mu * v[0] * v[1] - 1.0, self.mu * (1.0 - v[0] * v[0])]]);
        Ok(())
    }
}

/// The Rössler system `(-y - z, x + a y, b + z (x - c))`.
#[derive(Debug, Clone, Copy)]
pub struct Rossler {
    /// a (0.2).
    pub a: f64,
    /// b (0.2).
    pub b: f64,
    /// c (5.7).
    pub c: f64,
}

impl Flow for Rossler {
    fn state_dim(&self) -> usize {
        3
    }
    autonomous_inputs!();
    fn field_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        dims(3, &v, out.shape())?;
        let (x, y, z) = (v[0], v[1], v[2]);
        out[0] = -y - z;
        out[1] = x + self.a * y;
        out[2] = self.b + z * (x - self.c);
        Ok(())
    }
    fn jacobian_into(
        &self,
        v: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        dims(3, &v, out.shape())?;
        let (x, z) = (v[0], v[2]);
        out.assign(&ndarray::array![[0.0, -1.0, -1.0], [1.0, self.a, 0.0], [z, 0.0, x - self.c]]);
        Ok(())
    }
}

/// The random rate network of Sompolinsky, Crisanti & Sommers, `dh/dt = -h + J tanh h` with
/// `J = g G / sqrt(N)`, `G` standard Gaussian (seeded).
#[derive(Debug, Clone)]
pub struct RandomRateNetwork {
    /// The coupling matrix `(N, N)`.
    pub j: Array2<f64>,
}

impl RandomRateNetwork {
    /// `N` units with gain `g`, couplings from `seed`.
    pub fn new(n: usize, g: f64, seed: u64) -> Self {
        RandomRateNetwork { j: crate::gaussian(n, n, seed) * (g / (n as f64).sqrt()) }
    }
}

impl Flow for RandomRateNetwork {
    fn state_dim(&self) -> usize {
        self.j.nrows()
    }
    autonomous_inputs!();
    fn field_into(
        &self,
        h: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut1<'_, f64>,
    ) -> Result<()> {
        dims(self.j.nrows(), &h, out.shape())?;
        let p = h.mapv(f64::tanh);
        ndarray::linalg::general_mat_vec_mul(1.0, &self.j, &p, 0.0, &mut out);
        out -= &h;
        Ok(())
    }
    fn jacobian_into(
        &self,
        h: ArrayView1<'_, f64>,
        _: ArrayView1<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        let n = self.j.nrows();
        dims(n, &h, out.shape())?;
        for (j, &hj) in h.iter().enumerate() {
            let d = 1.0 - hj.tanh().powi(2);
            for i in 0..n {
                out[[i, j]] = self.j[[i, j]] * d;
            }
        }
        out.diag_mut().mapv_inplace(|v| v - 1.0);
        Ok(())
    }
}

/// Any [`DiscreteMap`], unchanged, counting the steps and Jacobians asked of it (from any
/// thread): a test measures an analysis's work with it, e.g. that a stopped search builds no
/// more Jacobians, or how many trial points a minimisation evaluated.
pub struct CountingMap<'a> {
    /// The map stepped and differentiated.
    pub map: &'a dyn DiscreteMap,
    /// Jacobians built so far.
    pub jacobians: std::sync::atomic::AtomicUsize,
    /// Steps (`step_into` calls) taken so far.
    pub steps: std::sync::atomic::AtomicUsize,
}

impl<'a> CountingMap<'a> {
    /// `map` with a count of zero.
    pub fn new(map: &'a dyn DiscreteMap) -> Self {
        CountingMap { map, jacobians: Default::default(), steps: Default::default() }
    }

    /// Jacobians built so far.
    pub fn count(&self) -> usize {
        self.jacobians.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Steps taken so far.
    pub fn step_count(&self) -> usize {
        self.steps.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl DiscreteMap for CountingMap<'_> {
    fn state_dim(&self) -> usize {
        self.map.state_dim()
    }
    fn input_dim(&self) -> usize {
        self.map.input_dim()
    }
    fn step_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut1<'_, f64>) -> Result<()> {
        self.steps.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.map.step_into(x, u, out)
    }
    fn jacobian_into(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>, out: ArrayViewMut2<'_, f64>) -> Result<()> {
        self.jacobians.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.map.jacobian_into(x, u, out)
    }
    fn input_jacobian_into(
        &self,
        x: ArrayView1<'_, f64>,
        u: ArrayView1<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<()> {
        self.map.input_jacobian_into(x, u, out)
    }
    fn fixed_point_bounds(&self, u: ArrayView1<'_, f64>) -> Option<ndarray::Array1<f64>> {
        self.map.fixed_point_bounds(u)
    }
    fn fixed_point_reduction(&self) -> Option<&dyn emt_core::FixedPointReduction> {
        self.map.fixed_point_reduction()
    }
}
