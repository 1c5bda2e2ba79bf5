//! Adam, AdamW and gradient clipping with PyTorch's semantics.

use emt_core::{Error, Real, Result};

/// How weight decay enters the update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decay {
    /// Coupled L2, `g += weight_decay * p` before the moments (`torch.optim.Adam`).
    #[default]
    Coupled,
    /// Decoupled, `p *= 1 - lr * weight_decay` before the Adam step (`torch.optim.AdamW`,
    /// optax's `adamw`).
    Decoupled,
}

/// Adam's hyper-parameters (PyTorch defaults except `lr`).
///
/// ```
/// use emt_rnn::{AdamConfig, Decay};
/// let adamw = AdamConfig::adamw(1e-3, 1e-4);          // the SET-task paper's optimiser
/// assert_eq!((adamw.decay, adamw.weight_decay), (Decay::Decoupled, 1e-4));
/// assert!(AdamConfig { lr: -1.0, ..Default::default() }.check().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate (> 0).
    pub lr: f64,
    /// `beta1` in `[0, 1)`.
    pub beta1: f64,
    /// `beta2` in `[0, 1)`.
    pub beta2: f64,
    /// Denominator offset (> 0).
    pub eps: f64,
    /// Weight decay (>= 0), applied as `decay` says.
    pub weight_decay: f64,
    /// Coupled L2 (Adam, the default) or decoupled (AdamW).
    pub decay: Decay,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, decay: Decay::Coupled }
    }
}

impl AdamConfig {
    /// AdamW: PyTorch's defaults with learning rate `lr` and decoupled decay `weight_decay`.
    pub fn adamw(lr: f64, weight_decay: f64) -> Self {
        AdamConfig { lr, weight_decay, decay: Decay::Decoupled, ..Default::default() }
    }

    /// Errors on any value outside its range.
    pub fn check(self) -> Result<Self> {
        let bad = |name: &str, v: f64, why: &str| Err(Error::param(name, v, why));
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", self.lr, "must be finite and > 0");
        }
        for (name, b) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&b) {
                return bad(name, b, "must be in [0, 1)");
            }
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return bad("eps", self.eps, "must be finite and > 0");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad("weight_decay", self.weight_decay, "must be finite and >= 0");
        }
        Ok(self)
    }
}

/// Adam (or AdamW) over a flat parameter buffer (the optimiser only steps; the trainer loops).
///
/// Per element, at step `k` (from 1), as `torch.optim.Adam` / `AdamW` compute it:
/// coupled `g += wd p` or decoupled `p *= 1 - lr wd`; then `m = lerp(m, g, 1 - b1);
/// v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^k) * m / (sqrt(v) / sqrt(1 - b2^k) + eps)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam<F: Real> {
    config: AdamConfig,
    m: Vec<F>,
    v: Vec<F>,
    step: u64,
}

impl<F: Real> Adam<F> {
    /// State for `len` parameters; errors on an invalid config.
    pub fn new(len: usize, config: AdamConfig) -> Result<Self> {
        Ok(Adam { config: config.check()?, m: vec![F::zero(); len], v: vec![F::zero(); len], step: 0 })
    }

    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// The configuration.
    pub fn config(&self) -> AdamConfig {
        self.config
    }

    /// One update of `params` with `grad` (same length as at construction).
    pub fn step(&mut self, params: &mut [F], grad: &[F]) -> Result<()> {
        if params.len() != self.m.len() || grad.len() != self.m.len() {
            return Err(Error::shape(
                "params/grad",
                format!("{} values", self.m.len()),
                format!("{} / {}", params.len(), grad.len()),
            ));
        }
        self.step += 1;
        let c = self.config;
        let k = self.step as i32;
        let step_size = F::of(c.lr / (1.0 - c.beta1.powi(k)));
        let bc2_sqrt = F::of((1.0 - c.beta2.powi(k)).sqrt());
        let (b1c, b2, b2c, wd, eps) =
            (F::of(1.0 - c.beta1), F::of(c.beta2), F::of(1.0 - c.beta2), F::of(c.weight_decay), F::of(c.eps));
        let coupled = c.weight_decay != 0.0 && c.decay == Decay::Coupled;
        let shrink = (c.weight_decay != 0.0 && c.decay == Decay::Decoupled).then(|| F::of(1.0 - c.lr * c.weight_decay));
        for (((p, &g), m), v) in params.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            if let Some(s) = shrink {
                *p *= s;
            }
            let g = if coupled { g + wd * *p } else { g };
            *m += (g - *m) * b1c;
            *v = *v * b2 + g * g * b2c;
            let denom = v.sqrt() / bc2_sqrt + eps;
            *p -= step_size * *m / denom;
        }
        Ok(())
    }
}

/// Scales `grad` so its global L2 norm is at most `max_norm`, like
/// `torch.nn.utils.clip_grad_norm_`: factor `min(1, max_norm / (norm + 1e-6))`. Returns the
/// norm before clipping (accumulated in `f64`).
///
/// ```
/// let mut g = vec![3.0f64, 4.0];
/// let norm = emt_rnn::clip_grad_norm(&mut g, 1.0)?;
/// assert_eq!(norm, 5.0);
/// assert!((g[0] - 0.6).abs() < 1e-6);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn clip_grad_norm<F: Real>(grad: &mut [F], max_norm: f64) -> Result<f64> {
    if !(max_norm.is_finite() && max_norm > 0.0) {
        return Err(Error::param("max_norm", max_norm, "must be finite and > 0"));
    }
    let norm = grad.iter().map(|g| g.f64() * g.f64()).sum::<f64>().sqrt();
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        let c = F::of(coef);
        grad.iter_mut().for_each(|g| *g *= c);
    }
    Ok(norm)
}
