//! The inner loops: GEMM into preallocated buffers and the tanh kernels.

use std::any::TypeId;

use emt_core::Real;
use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// How tanh is evaluated in the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TanhMode {
    /// The platform `tanh` (libm), element by element: for gradient checks and PyTorch parity.
    Exact,
    /// A vectorisable rational approximation in `f32` (max abs error 3.7e-7, see
    /// `tools/fit_tanh.py`); `f64` always uses the exact tanh.
    #[default]
    Fast,
}

/// Floats the engine runs in: [`Real`] plus the tanh and sigmoid kernels.
pub trait EngineFloat: Real {
    /// Applies tanh in place to every element of `x`.
    fn tanh_in_place(x: &mut [Self], mode: TanhMode);

    /// Applies the logistic sigmoid `1 / (1 + e^-x)` in place. In `f32` fast mode it is
    /// `(1 + tanh_fast(x / 2)) / 2`, so its error is half the fast tanh's (< 1.9e-7).
    fn sigmoid_in_place(x: &mut [Self], mode: TanhMode);
}

// tanh(x) ~ x P(x^2) / Q(x^2) on |x| <= 9, fitted by tools/fit_tanh.py (Q >= 1 there: no poles).
// Written as the script prints them; rounding to f32 here is what the script's error check measures.
#[allow(clippy::excessive_precision)]
const P: [f32; 5] = [9.999999795e-01, 1.338096977e-01, 3.495521829e-03, 2.060799928e-05, 1.335318640e-08];
#[allow(clippy::excessive_precision)]
const Q: [f32; 5] = [1.000000000e+00, 4.671428536e-01, 2.587672975e-02, 3.285526671e-04, 7.775948553e-07];
const CLAMP: f32 = 9.0;

/// The fast f32 tanh of one value. Branch-free so loops over slices vectorise; NaN stays
/// NaN (the clamp propagates it), which the trainer's divergence check needs.
#[inline(always)]
pub fn tanh_fast(x: f32) -> f32 {
    let x = x.clamp(-CLAMP, CLAMP);
    let z = x * x;
    let p = P[4].mul_add(z, P[3]).mul_add(z, P[2]).mul_add(z, P[1]).mul_add(z, P[0]);
    let q = Q[4].mul_add(z, Q[3]).mul_add(z, Q[2]).mul_add(z, Q[1]).mul_add(z, Q[0]);
    (x * p / q).clamp(-1.0, 1.0)
}

impl EngineFloat for f32 {
    fn tanh_in_place(x: &mut [f32], mode: TanhMode) {
        match mode {
            TanhMode::Exact => x.iter_mut().for_each(|v| *v = v.tanh()),
            TanhMode::Fast => fast_tanh_slice(x),
        }
    }

    fn sigmoid_in_place(x: &mut [f32], mode: TanhMode) {
        match mode {
            TanhMode::Exact => x.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
            TanhMode::Fast => fast_sigmoid_slice(x),
        }
    }
}

impl EngineFloat for f64 {
    fn tanh_in_place(x: &mut [f64], _mode: TanhMode) {
        x.iter_mut().for_each(|v| *v = v.tanh());
    }

    fn sigmoid_in_place(x: &mut [f64], _mode: TanhMode) {
        x.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp()));
    }
}

/// The fast tanh over a slice.
fn fast_tanh_slice(x: &mut [f32]) {
    map_fast(x, tanh_fast);
}

/// `(1 + tanh_fast(x/2)) / 2` in one pass. Outside an FMA-enabled function `mul_add` is a libm
/// call per element: the three-pass version spent 13% of a GRU step in `fmaf`.
#[inline(always)]
fn sigmoid_fast(x: f32) -> f32 {
    0.5f32.mul_add(tanh_fast(0.5 * x), 0.5)
}

/// The fast sigmoid over a slice.
fn fast_sigmoid_slice(x: &mut [f32]) {
    map_fast(x, sigmoid_fast);
}

/// `x[i] = f(x[i])`, compiled for FMA-capable x86 when the CPU has it (checked at each call;
/// the check is a cached load). `f` must be `#[inline(always)]` so its `mul_add`s become FMA
/// instructions inside the target-feature body instead of libm calls.
#[inline(always)]
fn map_fast(x: &mut [f32], f: impl Fn(f32) -> f32 + Copy) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the required CPU features were detected just above.
            unsafe { map_avx2(x, f) };
            return;
        }
    }
    x.iter_mut().for_each(|v| *v = f(*v));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn map_avx2(x: &mut [f32], f: impl Fn(f32) -> f32 + Copy) {
    x.iter_mut().for_each(|v| *v = f(*v));
}

/// `c = alpha a b + beta c` for views of any strides: `a` `(m, k)`, `b` `(k, n)`, `c` `(m, n)`.
///
/// f32 and f64 go to the `gemm` crate (AVX-512 and AVX2 micro-kernels chosen at run time,
/// tuned for the small matrices of an RNN step, single-threaded: the engine parallelises
/// over the batch); any other `Real` falls back to ndarray's `general_mat_mul`.
#[inline]
pub fn gemm<F: Real>(alpha: F, a: &ArrayView2<'_, F>, b: &ArrayView2<'_, F>, beta: F, c: &mut ArrayViewMut2<'_, F>) {
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(k == k2 && c.dim() == (m, n), "gemm shapes: ({m}, {k}) x ({k2}, {n}) -> {:?}", c.dim());
    let native = TypeId::of::<F>() == TypeId::of::<f32>() || TypeId::of::<F>() == TypeId::of::<f64>();
    if !native || m == 0 || n == 0 || k == 0 {
        general_mat_mul(alpha, a, b, beta, c);
        return;
    }
    let (cs, as_, bs) = (c.strides().to_vec(), a.strides().to_vec(), b.strides().to_vec());
    // SAFETY: the three views are valid for the shapes asserted above with the strides passed,
    // `c` is borrowed mutably so it aliases neither input, and F is f32 or f64 (checked), the
    // only types routed here. The crate computes dst = alpha_g dst + beta_g lhs rhs, reading
    // dst only when asked: our (alpha, beta) map to its (beta, alpha).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            cs[1],
            cs[0],
            beta != F::zero(),
            a.as_ptr(),
            as_[1],
            as_[0],
            b.as_ptr(),
            bs[1],
            bs[0],
            beta,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// `dpre = (direct + dh_next) * (1 - h^2)`, fused; `dh_next` absent at the last step.
#[inline]
pub fn tanh_backward<F: Real>(dpre: &mut [F], dh_next: Option<&[F]>, h: &[F]) {
    match dh_next {
        Some(dn) => {
            for ((g, &n), &y) in dpre.iter_mut().zip(dn).zip(h) {
                *g = (*g + n) * (F::one() - y * y);
            }
        }
        None => {
            for (g, &y) in dpre.iter_mut().zip(h) {
                *g *= F::one() - y * y;
            }
        }
    }
}

/// `dpre = (dpre + dh_next) * [h > 0]`: relu's derivative read off its output, 0 at the kink
/// (PyTorch's `grad * (x > 0)`).
pub fn relu_backward<F: Real>(dpre: &mut [F], dh_next: Option<&[F]>, h: &[F]) {
    let gate = |y: F| if y > F::zero() { F::one() } else { F::zero() };
    match dh_next {
        Some(dn) => {
            for ((g, &n), &y) in dpre.iter_mut().zip(dn).zip(h) {
                *g = (*g + n) * gate(y);
            }
        }
        None => dpre.iter_mut().zip(h).for_each(|(g, &y)| *g *= gate(y)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_accuracy_over_a_dense_grid() {
        // Compared with f64 tanh over [-12, 12]: the fitted bound is 3.7e-7.
        let mut worst = 0.0f64;
        let mut xs: Vec<f32> = (0..2_400_001).map(|i| -12.0 + i as f32 * 1e-5).collect();
        let orig = xs.clone();
        f32::tanh_in_place(&mut xs, TanhMode::Fast);
        for (&x, &y) in orig.iter().zip(&xs) {
            worst = worst.max((y as f64 - (x as f64).tanh()).abs());
        }
        assert!(worst < 5e-7, "max abs error {worst:e}");
        assert_eq!(tanh_fast(0.0), 0.0);
        // Saturation: within one f32 ulp of +-1 (0.99999994 at the clamp point).
        assert!((tanh_fast(100.0) - 1.0).abs() <= f32::EPSILON && (tanh_fast(-100.0) + 1.0).abs() <= f32::EPSILON);
        assert!(tanh_fast(f32::NAN).is_nan());
        // Odd symmetry, exactly.
        assert!(orig.iter().step_by(997).all(|&x| tanh_fast(-x) == -tanh_fast(x)));
    }

    #[test]
    fn fast_sigmoid_accuracy_over_a_dense_grid() {
        let xs: Vec<f32> = (0..400_001).map(|i| -20.0 + i as f32 * 1e-4).collect();
        let mut ys = xs.clone();
        f32::sigmoid_in_place(&mut ys, TanhMode::Fast);
        let worst =
            xs.iter().zip(&ys).map(|(&x, &y)| (y as f64 - 1.0 / (1.0 + (-(x as f64)).exp())).abs()).fold(0.0, f64::max);
        assert!(worst < 3e-7, "max abs error {worst:e}");
        assert!(ys.iter().all(|&y| (0.0..=1.0).contains(&y)));
        let mut nan = [f32::NAN];
        f32::sigmoid_in_place(&mut nan, TanhMode::Fast);
        assert!(nan[0].is_nan());
    }

    #[test]
    fn exact_mode_is_libm() {
        let mut xs = vec![0.3f32, -2.0, 5.5];
        f32::tanh_in_place(&mut xs, TanhMode::Exact);
        assert_eq!(xs, vec![0.3f32.tanh(), (-2.0f32).tanh(), 5.5f32.tanh()]);
    }
}
