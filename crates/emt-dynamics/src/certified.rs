//! Guaranteed enumeration of fixed points in a small box (2-D, or 3-D) by interval Krawczyk
//! tests on a subdivision (docs/DYNAMICS.md §2).
//!
//! Each test runs on the box inflated by 1% of its width, so a zero on the edge between two
//! boxes is proven in both and merged rather than split forever.
//!
//! On a box `X` with midpoint `m`: if `0` is not in the interval evaluation `G(X)`, `X` holds no
//! zero. Else with `Y ~ DG(m)^-1` and an interval Jacobian `DG(X)`,
//! `K(X) = m - Y G(m) + (I - Y DG(X)) (X - m)`: `K` inside the interior of `X` proves exactly one
//! zero in `X`; `K` disjoint from `X` proves none; otherwise `X` is bisected along its widest
//! side. Boxes narrower than `min_width` are reported undecided (a double root, or a zero on a
//! box edge that keeps being split). Interval operations widen every result outward by a
//! relative 4 ulp, so floating-point rounding cannot make a claim false.

use emt_core::cells::CtGruWeights;
use emt_core::{Error, Flow, Result, check};
use ndarray::{Array1, Array2};

/// A closed interval `[lo, hi]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

const WIDEN: f64 = 4.0 * f64::EPSILON;

fn down(x: f64) -> f64 {
    x - x.abs() * WIDEN - f64::MIN_POSITIVE
}

fn up(x: f64) -> f64 {
    x + x.abs() * WIDEN + f64::MIN_POSITIVE
}

impl Interval {
    /// `[lo, hi]` (swapped if given backwards).
    pub fn new(lo: f64, hi: f64) -> Self {
        if lo <= hi { Interval { lo, hi } } else { Interval { lo: hi, hi: lo } }
    }

    /// The degenerate interval `[x, x]`.
    pub fn point(x: f64) -> Self {
        Interval { lo: x, hi: x }
    }

    /// Midpoint.
    pub fn mid(self) -> f64 {
        0.5 * (self.lo + self.hi)
    }

    /// Width.
    pub fn width(self) -> f64 {
        self.hi - self.lo
    }

    /// Whether `x` lies in the interval.
    pub fn contains(self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }

    /// Whether `self` lies strictly inside `other`.
    pub fn inside(self, other: Interval) -> bool {
        other.lo < self.lo && self.hi < other.hi
    }

    /// Whether the two intervals share no point.
    pub fn disjoint(self, other: Interval) -> bool {
        self.hi < other.lo || other.hi < self.lo
    }

    fn add(self, o: Interval) -> Interval {
        Interval { lo: down(self.lo + o.lo), hi: up(self.hi + o.hi) }
    }

    fn sub(self, o: Interval) -> Interval {
        Interval { lo: down(self.lo - o.hi), hi: up(self.hi - o.lo) }
    }

    fn mul(self, o: Interval) -> Interval {
        let p = [self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi];
        Interval {
            lo: down(p.iter().copied().fold(f64::INFINITY, f64::min)),
            hi: up(p.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        }
    }

    fn scale(self, a: f64) -> Interval {
        self.mul(Interval::point(a))
    }

    /// Image under an increasing function.
    fn monotone(self, f: impl Fn(f64) -> f64) -> Interval {
        Interval { lo: down(f(self.lo)), hi: up(f(self.hi)) }
    }

    fn tanh(self) -> Interval {
        let t = self.monotone(f64::tanh);
        Interval { lo: t.lo.max(-1.0), hi: t.hi.min(1.0) }
    }

    fn sigmoid(self) -> Interval {
        let s = self.monotone(crate::certified::sigmoid);
        Interval { lo: s.lo.max(0.0), hi: s.hi.min(1.0) }
    }

    /// `1 - x^2` for `x` in the interval (exact range: the square's minimum is 0 inside).
    fn one_minus_square(self) -> Interval {
        let sq = if self.lo <= 0.0 && self.hi >= 0.0 {
            Interval { lo: 0.0, hi: up(self.lo.abs().max(self.hi.abs()).powi(2)) }
        } else {
            let (a, b) = (self.lo.abs().min(self.hi.abs()), self.lo.abs().max(self.hi.abs()));
            Interval { lo: down(a * a), hi: up(b * b) }
        };
        Interval::point(1.0).sub(sq)
    }

    /// `x (1 - x)` for `x` in the interval (the maximum 1/4 sits at 1/2).
    fn logistic_slope(self) -> Interval {
        let f = |x: f64| x * (1.0 - x);
        let (a, b) = (f(self.lo), f(self.hi));
        let lo = a.min(b);
        let hi = if self.contains(0.5) { 0.25 } else { a.max(b) };
        Interval { lo: down(lo), hi: up(hi) }
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A vector field `G` whose zeros are the fixed points, with interval extensions of `G` and of
/// its Jacobian.
pub trait IntervalField {
    /// Dimension.
    fn dim(&self) -> usize;
    /// `G(x)` at a point.
    fn value(&self, x: &[f64]) -> Vec<f64>;
    /// `DG(x)` at a point `(n, n)`.
    fn jacobian(&self, x: &[f64]) -> Array2<f64>;
    /// An interval enclosure of `G` over the box `x`.
    fn enclose(&self, x: &[Interval]) -> Vec<Interval>;
    /// An interval enclosure of `DG` over the box `x` (row-major `n x n`).
    fn enclose_jacobian(&self, x: &[Interval]) -> Vec<Interval>;
}

/// A continuous-time GRU under a constant input, as `G(h) = c(h) - h`: its zeros are the
/// fixed points whatever `z` does (`1 - z > 0`, docs/DYNAMICS.md §1).
#[derive(Debug, Clone)]
pub struct CtGruField<'a> {
    net: &'a CtGruWeights,
    /// Input drive of each gate block `[r; z; h]` plus bias, `(3N)`.
    drive: Array1<f64>,
}

impl<'a> CtGruField<'a> {
    /// The field of `net` under the constant input `u` `(d_in)`.
    pub fn new(net: &'a CtGruWeights, u: ndarray::ArrayView1<'_, f64>) -> Result<Self> {
        let n = net.hidden_dim();
        check::shape("input", &u, &[Flow::input_dim(net)])?;
        check::finite("input", &u)?;
        let mut drive = Array1::zeros(3 * n);
        if let Some(w) = net.w_ih() {
            drive += &w.dot(&u);
        }
        if let Some(b) = net.b() {
            drive += &b;
        }
        Ok(CtGruField { net, drive })
    }

    fn n(&self) -> usize {
        self.net.hidden_dim()
    }
}

impl IntervalField for CtGruField<'_> {
    fn dim(&self) -> usize {
        self.n()
    }

    fn value(&self, x: &[f64]) -> Vec<f64> {
        let n = self.n();
        let u = self.net.u();
        let r: Vec<f64> =
            (0..n).map(|i| sigmoid((0..n).map(|j| u[[i, j]] * x[j]).sum::<f64>() + self.drive[i])).collect();
        (0..n)
            .map(|i| {
                ((0..n).map(|j| u[[2 * n + i, j]] * r[j] * x[j]).sum::<f64>() + self.drive[2 * n + i]).tanh() - x[i]
            })
            .collect()
    }

    fn jacobian(&self, x: &[f64]) -> Array2<f64> {
        let p: Vec<Interval> = x.iter().map(|&v| Interval::point(v)).collect();
        let j = self.enclose_jacobian(&p);
        let n = self.n();
        Array2::from_shape_fn((n, n), |(a, b)| j[a * n + b].mid())
    }

    fn enclose(&self, x: &[Interval]) -> Vec<Interval> {
        let n = self.n();
        let u = self.net.u();
        let lin = |row: usize, v: &[Interval], c: f64| {
            (0..n).fold(Interval::point(c), |acc, j| acc.add(v[j].scale(u[[row, j]])))
        };
        let r: Vec<Interval> = (0..n).map(|i| lin(i, x, self.drive[i]).sigmoid()).collect();
        let rh: Vec<Interval> = (0..n).map(|j| r[j].mul(x[j])).collect();
        (0..n).map(|i| lin(2 * n + i, &rh, self.drive[2 * n + i]).tanh().sub(x[i])).collect()
    }

    /// `DG = D(1 - c^2) U_h (D(r) + D(h r (1 - r)) U_r) - I`.
    fn enclose_jacobian(&self, x: &[Interval]) -> Vec<Interval> {
        let n = self.n();
        let u = self.net.u();
        let lin = |row: usize, v: &[Interval], c: f64| {
            (0..n).fold(Interval::point(c), |acc, j| acc.add(v[j].scale(u[[row, j]])))
        };
        let r: Vec<Interval> = (0..n).map(|i| lin(i, x, self.drive[i]).sigmoid()).collect();
        let rh: Vec<Interval> = (0..n).map(|j| r[j].mul(x[j])).collect();
        let dc: Vec<Interval> =
            (0..n).map(|i| lin(2 * n + i, &rh, self.drive[2 * n + i]).tanh().one_minus_square()).collect();
        // M = d(r*h)/dh: M[k][j] = r_k delta_kj + h_k r_k (1 - r_k) U_r[k, j].
        let m = |k: usize, j: usize| {
            let g = x[k].mul(r[k].logistic_slope()).scale(u[[k, j]]);
            if k == j { g.add(r[k]) } else { g }
        };
        let mut out = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                let s = (0..n).fold(Interval::point(0.0), |acc, k| acc.add(m(k, j).scale(u[[2 * n + i, k]])));
                let v = dc[i].mul(s);
                out.push(if i == j { v.sub(Interval::point(1.0)) } else { v });
            }
        }
        out
    }
}

/// Settings of the certified search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CertifiedParams {
    /// Boxes narrower than this on every side are reported undecided.
    pub min_width: f64,
    /// Give up (error) after examining this many boxes.
    pub max_boxes: usize,
    /// Zeros closer than this (found in neighbouring boxes) are one zero.
    pub merge_distance: f64,
}

impl Default for CertifiedParams {
    fn default() -> Self {
        CertifiedParams { min_width: 1e-9, max_boxes: 1_000_000, merge_distance: 1e-8 }
    }
}

/// A zero proven unique in its box, polished by Newton from the box's midpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct CertifiedZero {
    /// The box that holds exactly one zero.
    pub enclosure: Vec<Interval>,
    /// The zero (Newton from the midpoint, kept inside the box).
    pub point: Array1<f64>,
}

/// The outcome of a certified search: every zero in the box is in `zeros` unless it lies in
/// one of the `undecided` boxes.
#[derive(Debug, Clone, PartialEq)]
pub struct CertifiedSearch {
    /// Zeros, each proven unique in its enclosure.
    pub zeros: Vec<CertifiedZero>,
    /// Boxes the test could not decide (empty: the enumeration is complete).
    pub undecided: Vec<Vec<Interval>>,
    /// Boxes examined.
    pub boxes: usize,
}

impl CertifiedSearch {
    /// Whether the enumeration is complete (no undecided box).
    pub fn complete(&self) -> bool {
        self.undecided.is_empty()
    }
}

/// Every zero of `field` in `domain` (one interval per coordinate), with a proof, by Krawczyk
/// tests on a subdivision.
///
/// ```
/// use emt_core::cells::CtGruWeights;
/// use emt_dynamics::{CertifiedParams, CtGruField, Interval, certified_zeros};
/// // docs/DYNAMICS.md §9: the 2-D ctgru with U_h = 4 R(pi/4) has exactly one fixed point, the origin.
/// let (c, s) = (std::f64::consts::FRAC_PI_4.cos(), std::f64::consts::FRAC_PI_4.sin());
/// let mut u = ndarray::Array2::zeros((6, 2));
/// u.slice_mut(ndarray::s![4.., ..]).assign(&(ndarray::array![[c, -s], [s, c]] * 4.0));
/// let net = CtGruWeights::new(u, None, None, 0.1, None)?;
/// let field = CtGruField::new(&net, ndarray::Array1::zeros(0).view())?;
/// let found = certified_zeros(&field, &[Interval::new(-1.0, 1.0); 2], &CertifiedParams::default())?;
/// assert!(found.complete() && found.zeros.len() == 1);
/// assert!(found.zeros[0].point.iter().all(|v| v.abs() < 1e-12));
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn certified_zeros(
    field: &dyn IntervalField,
    domain: &[Interval],
    params: &CertifiedParams,
) -> Result<CertifiedSearch> {
    let n = field.dim();
    if domain.len() != n {
        return Err(Error::shape("domain", format!("{n} intervals"), format!("{}", domain.len())));
    }
    if domain.iter().any(|i| !(i.lo.is_finite() && i.hi.is_finite())) {
        return Err(Error::param("domain", format!("{domain:?}"), "must be finite"));
    }
    if !(params.min_width.is_finite() && params.min_width > 0.0) {
        return Err(Error::param("min_width", params.min_width, "must be finite and > 0"));
    }
    let mut stack = vec![domain.to_vec()];
    let mut out = CertifiedSearch { zeros: Vec::new(), undecided: Vec::new(), boxes: 0 };
    while let Some(x) = stack.pop() {
        emt_core::interrupt::check("certified fixed-point search")?;
        out.boxes += 1;
        if out.boxes > params.max_boxes {
            return Err(Error::param(
                "max_boxes",
                params.max_boxes,
                format!("exceeded with {} boxes left", stack.len() + 1),
            ));
        }
        if field.enclose(&x).iter().any(|g| !g.contains(0.0)) {
            continue;
        }
        // The test runs on X inflated by 1% of its width: a zero on an edge between two boxes
        // (say the origin after bisecting [-1, 1]) is then strictly inside the inflated box of
        // both, proven unique in each, and merged. Every verdict on the inflated box holds for X.
        let inflated: Vec<Interval> = x
            .iter()
            .map(|i| Interval::new(i.lo - 0.01 * i.width() - 1e-300, i.hi + 0.01 * i.width() + 1e-300))
            .collect();
        match krawczyk(field, &inflated) {
            Verdict::None => {}
            Verdict::Unique => {
                let point = newton_in_box(field, &inflated);
                if !out.zeros.iter().any(|z| dist(&z.point, &point) < params.merge_distance) {
                    out.zeros.push(CertifiedZero { enclosure: inflated, point });
                }
            }
            Verdict::Split => {
                let (k, w) = x
                    .iter()
                    .enumerate()
                    .map(|(k, i)| (k, i.width()))
                    .fold((0, -1.0), |a, b| if b.1 > a.1 { b } else { a });
                if w < params.min_width {
                    out.undecided.push(x);
                    continue;
                }
                let mid = x[k].mid();
                let (mut left, mut right) = (x.clone(), x);
                left[k] = Interval::new(left[k].lo, mid);
                right[k] = Interval::new(mid, right[k].hi);
                stack.push(right);
                stack.push(left);
            }
        }
    }
    Ok(out)
}

enum Verdict {
    None,
    Unique,
    Split,
}

fn krawczyk(field: &dyn IntervalField, x: &[Interval]) -> Verdict {
    let n = x.len();
    let m: Vec<f64> = x.iter().map(|i| i.mid()).collect();
    let Ok(y) = emt_linalg::inverse(field.jacobian(&m).view()) else { return Verdict::Split };
    let gm = field.enclose(&m.iter().map(|&v| Interval::point(v)).collect::<Vec<_>>());
    let dg = field.enclose_jacobian(x);
    let mut unique = true;
    for i in 0..n {
        // m_i - (Y G(m))_i
        let mut k = Interval::point(m[i]);
        for j in 0..n {
            k = k.sub(gm[j].scale(y[[i, j]]));
        }
        // + sum_j (I - Y DG(X))_ij (X_j - m_j)
        for j in 0..n {
            let mut e = Interval::point(if i == j { 1.0 } else { 0.0 });
            for l in 0..n {
                e = e.sub(dg[l * n + j].scale(y[[i, l]]));
            }
            k = k.add(e.mul(x[j].sub(Interval::point(m[j]))));
        }
        if k.disjoint(x[i]) {
            return Verdict::None;
        }
        if !k.inside(x[i]) {
            unique = false;
        }
    }
    if unique { Verdict::Unique } else { Verdict::Split }
}

fn newton_in_box(field: &dyn IntervalField, x: &[Interval]) -> Array1<f64> {
    let mut p: Array1<f64> = x.iter().map(|i| i.mid()).collect();
    for _ in 0..50 {
        let g = Array1::from(field.value(p.as_slice().unwrap_or(&[])));
        let Ok(d) = emt_linalg::solve_vec(field.jacobian(&p.to_vec()).view(), g.view()) else { break };
        let next = &p - &d;
        if next.iter().zip(x).any(|(v, i)| !i.contains(*v)) {
            break;
        }
        let step = d.iter().map(|v| v.abs()).fold(0.0, f64::max);
        p = next;
        if step < 1e-15 {
            break;
        }
    }
    p
}

fn dist(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_operations_enclose_their_point_results() {
        let (a, b) = (Interval::new(-0.5, 2.0), Interval::new(1.0, 3.0));
        for &x in &[-0.5, 0.0, 1.3, 2.0] {
            for &y in &[1.0, 2.2, 3.0] {
                assert!(a.add(b).contains(x + y) && a.sub(b).contains(x - y) && a.mul(b).contains(x * y));
                assert!(a.tanh().contains(x.tanh()) && a.sigmoid().contains(sigmoid(x)));
                assert!(a.one_minus_square().contains(1.0 - x * x));
                let s = sigmoid(x);
                assert!(a.sigmoid().logistic_slope().contains(s * (1.0 - s)));
            }
        }
        assert!(Interval::new(0.1, 0.2).inside(Interval::new(0.0, 1.0)));
        assert!(Interval::new(2.0, 3.0).disjoint(Interval::new(0.0, 1.0)));
    }
}
