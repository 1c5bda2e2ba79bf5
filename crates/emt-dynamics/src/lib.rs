//! # emt-dynamics: recurrent networks as dynamical systems
//!
//! Works on anything that implements [`emt_core::DiscreteMap`] or [`emt_core::Flow`] (every emt
//! cell does, and so can a researcher's own system), so it needs nothing else from emt. The
//! maths, in the project's words, with the ground truths the tests reproduce: docs/DYNAMICS.md §3, §9.
//!
//! - [`lyapunov_map`], [`lyapunov_flow`]: any `k <= n` exponents by QR (Benettin), with a
//!   convergence trace, the sum rule and the Kaplan-Yorke dimension; [`lambda_max_map`] /
//!   [`lambda_max_flow`]: the largest exponent from two trajectories, as a cross-check.
//! - [`find_fixed_points`]: fixed and slow points from seeds ([`trajectory_seeds`]) by
//!   Levenberg-Marquardt on `q = 1/2 |res|^2`, polished to machine precision, deduplicated,
//!   outliers dropped, classified by the Jacobian spectrum.
//! - [`certified_zeros`]: every fixed point in a small box, each proven unique in its
//!   enclosure by an interval Krawczyk test, with undecided boxes reported ([`CtGruField`]
//!   gives the continuous-time GRU's interval extension).
//! - [`classify_attractor`]: fixed point, periodic orbit / limit cycle, invariant circle (with
//!   its rotation number) or chaos, with the evidence.
//! - [`limit_cycle`]: a flow's periodic orbit, its period from a Poincaré section refined by
//!   shooting, and Floquet multipliers with the trivial one identified.
//! - [`adjoint_prc`]: a flow's infinitesimal phase response curve by the adjoint method.
//! - [`phase_response_map`]: the phase shift a pulse causes as a function of the arrival phase
//!   (a map's periodic orbit or invariant circle), with its circular mean and spread.
//! - [`sweep`] ([`sweep_flow`], [`sweep_map`]): fixed points along one parameter of a flow, a
//!   map or a model file, with saddle-node, Hopf, Neimark-Sacker and flip points located;
//!   [`continue_branch`]: pseudo-arclength continuation of a fixed-point branch around folds;
//!   [`fit_period_divergence`]: the critical value of a SNIC or homoclinic bifurcation from
//!   periods measured as it approaches.
//! - [`participation_ratio`] of a state covariance, [`autocorrelation_time`] of a signal, and
//!   [`circular_law`]: a Jacobian's spectrum against the circular law (radius, radial CDF, real-eigenvalue count).
//! - [`Automaton`]: a finite-state automaton over any alphabet tabulated from labelled runs,
//!   its determinism, Moore minimisation, and tests against `Z_k` and a given homomorphism.
//! - [`Rk4`]: fourth-order Runge-Kutta for a flow and its tangent equation; [`dopri5`]:
//!   adaptive Dormand-Prince 5(4) with error control and every accepted step observable.
//!
//! ```
//! use emt_dynamics::{LyapunovParams, lyapunov_map};
//! use emt_core::{DiscreteMap, Result};
//! use ndarray::{ArrayView1, ArrayViewMut1, ArrayViewMut2};
//!
//! /// The logistic map x' = 4 x (1 - x): lambda = ln 2.
//! struct Logistic;
//! impl DiscreteMap for Logistic {
//!     fn state_dim(&self) -> usize { 1 }
//!     fn input_dim(&self) -> usize { 0 }
//!     fn step_into(&self, x: ArrayView1<'_, f64>, _: ArrayView1<'_, f64>, mut out: ArrayViewMut1<'_, f64>) -> Result<()> {
//!         out[0] = 4.0 * x[0] * (1.0 - x[0]);
//!         Ok(())
//!     }
//!     fn jacobian_into(&self, x: ArrayView1<'_, f64>, _: ArrayView1<'_, f64>, mut out: ArrayViewMut2<'_, f64>) -> Result<()> {
//!         out[[0, 0]] = 4.0 - 8.0 * x[0];
//!         Ok(())
//!     }
//!     fn input_jacobian_into(&self, _: ArrayView1<'_, f64>, _: ArrayView1<'_, f64>, _: ArrayViewMut2<'_, f64>) -> Result<()> {
//!         Ok(())
//!     }
//! }
//!
//! let params = LyapunovParams { steps: 100_000, ..Default::default() };
//! let s = lyapunov_map(&Logistic, ndarray::array![0.3].view(), ndarray::Array2::zeros((1, 0)).view(), &params)?;
//! assert!((s.exponents[0] - 2f64.ln()).abs() < 0.01);
//! # Ok::<(), emt_core::Error>(())
//! ```

#![warn(missing_docs)]

mod attractor;
mod automata;
mod certified;
mod continuation;
mod cycles;
mod dopri;
mod fixed_points;
mod helpers;
mod integrate;
mod lyapunov;
mod newton;
mod param_sweep;
mod phase;
mod planar;
mod scan;
mod sweep;

pub use attractor::{Attractor, AttractorKind, AttractorParams, classify_attractor, cycle_orbit};
pub use automata::{Automaton, ExtractParams, Extracted, MAX_CYCLIC_ORDER, cluster_greedy};
pub use certified::{
    CertifiedParams, CertifiedSearch, CertifiedZero, CtGruField, Interval, IntervalField, certified_zeros,
};
pub use continuation::{Branch, BranchEnd, BranchPoint, ContinuationParams, continue_branch};
pub use cycles::{AdjointPrc, CycleParams, LimitCycle, adjoint_prc, limit_cycle, shoot};
pub use dopri::{Dopri5Params, Dopri5Stats, Step, dopri5};
pub use fixed_points::{
    FULL_SEEDING_DIM, FixedPoint, FixedPointParams, FixedPoints, MIN_SCALED_SEEDS, SeedParams, Seeds, Stability,
    System, box_half_width, find_fixed_points, find_fixed_points_per_input, in_order_on_threads, sample_states,
    seed_states, trajectory_seeds,
};
pub use helpers::{
    CircularLaw, autocorrelation_time, circular_law, participation_ratio, participation_ratio_of_vector,
};
pub use integrate::Rk4;
pub use lyapunov::{
    KaplanYorke, LyapunovParams, LyapunovSpectrum, SumRule, TimeUnit, TracePoint, lambda_max, lambda_max_flow,
    lambda_max_map, lyapunov_flow, lyapunov_map, lyapunov_spectrum,
};
pub use newton::{NewtonOutcome, NewtonParams, NewtonStatus, newton};
pub use param_sweep::{ParameterSweep, ParameterSweepParams, SweepValue, parameter_sweep};
pub use phase::{PhaseParams, PhaseResponse, phase_response_map, wrap};
pub use planar::{SlowManifold, SlowManifoldParams, SlowPoint, nullcline, slow_manifold};
pub use scan::{
    LambdaScanParams, ScanSummary, Transition, TransitionThresholds, lambda_max_scan, summarise_scan,
    transition_verdict,
};
pub use sweep::{
    AsFlow, AsMap, AsSystem, Bifurcation, Divergence, DivergenceFit, PeriodDivergence, Sweep, SweepParams, SweepPoint,
    fit_period_divergence, locate_cycle_loss, orbit, orbit_range, sweep, sweep_flow, sweep_map,
};

/// The README example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
