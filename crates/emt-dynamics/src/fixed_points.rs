//! Fixed and slow points of a map or flow under a constant input (docs/DYNAMICS.md §2).
//!
//! `q = 1/2 |res|^2` with `res = F(x, u) - x`, `A = DF - I` (maps) or `res = f(x, u)`, `A = Df`
//! (flows); `grad q = A^T res`. From each seed, Levenberg-Marquardt steps
//! `(A^T A + mu I) d = -A^T res` minimise `q` far from a root (damped Gauss-Newton, with
//! Nielsen's damping update) and become Newton steps near one (halved up to 3 times when they
//! overshoot), polishing to `|res| ~ 1e-13`. Where the system has a reduced fixed-point equation
//! ([`FixedPointReduction`]: the gated cell's in `h` alone) the minimisation runs on it and each
//! root is lifted to the full state, checked there and classified by the full Jacobian
//! ([`FixedPointParams::reduce`]). A minimum with `q < tol_q` is a fixed
//! point; a local minimum above it is a slow point, reported apart with its speed `|res|`.
//! Duplicates closer than `tol_unique` merge (the smaller `q` is kept); candidates farther from
//! the seeds' centroid than `outlier_distance_scale` times the seeds' mean distance (floored at
//! `0.1 (1 + |centroid|)`, so that a single seed works) are dropped.
//! Each point is classified by its Jacobian's spectrum: maps by `|mu|` against 1, flows by
//! `Re lambda` against 0, with a band of `boundary_tol` reported as marginal.

use emt_core::{DiscreteMap, Error, FixedPointReduction, Flow, Result, check};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use num_complex::Complex64;

/// A map or a flow.
#[derive(Clone, Copy)]
pub enum System<'a> {
    /// `x' = F(x, u)`: fixed points solve `F(x, u) = x`.
    Map(&'a dyn DiscreteMap),
    /// `dx/dt = f(x, u)`: fixed points solve `f(x, u) = 0`.
    Flow(&'a dyn Flow),
}

impl std::fmt::Debug for System<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            System::Map(m) => write!(f, "Map(n = {})", m.state_dim()),
            System::Flow(m) => write!(f, "Flow(n = {})", m.state_dim()),
        }
    }
}

impl System<'_> {
    /// State dimension.
    pub fn state_dim(&self) -> usize {
        match self {
            System::Map(m) => m.state_dim(),
            System::Flow(f) => f.state_dim(),
        }
    }

    /// Input dimension.
    pub fn input_dim(&self) -> usize {
        match self {
            System::Map(m) => m.input_dim(),
            System::Flow(f) => f.input_dim(),
        }
    }

    /// The residual `res` `(n)` and `A` `(n, n)` at `x`.
    pub(crate) fn residual(
        &self,
        x: &Array1<f64>,
        u: ArrayView1<'_, f64>,
        res: &mut Array1<f64>,
        a: &mut Array2<f64>,
    ) -> Result<()> {
        self.value(x, u, res)?;
        match self {
            System::Map(m) => {
                m.jacobian_into(x.view(), u, a.view_mut())?;
                a.diag_mut().mapv_inplace(|v| v - 1.0);
            }
            System::Flow(f) => f.jacobian_into(x.view(), u, a.view_mut())?,
        }
        Ok(())
    }

    /// The residual `res` `(n)` alone: `F(x, u) - x` (maps) or `f(x, u)` (flows).
    pub(crate) fn value(&self, x: &Array1<f64>, u: ArrayView1<'_, f64>, res: &mut Array1<f64>) -> Result<()> {
        match self {
            System::Map(m) => {
                m.step_into(x.view(), u, res.view_mut())?;
                *res -= x;
                Ok(())
            }
            System::Flow(f) => f.field_into(x.view(), u, res.view_mut()),
        }
    }

    /// The number of unknowns a search minimises: the reduced equation's where the system has
    /// one ([`FixedPointReduction::reduced_dim`]), else the state dimension. One
    /// Levenberg-Marquardt iteration costs about its cube.
    pub fn search_dim(&self) -> usize {
        self.reduction().map_or_else(|| self.state_dim(), |r| r.reduced_dim())
    }

    /// The system's reduced fixed-point equation, if it has one
    /// ([`FixedPointReduction`]; the gated cell's is in `h` alone).
    pub fn reduction(&self) -> Option<&dyn FixedPointReduction> {
        match self {
            System::Map(m) => m.fixed_point_reduction(),
            System::Flow(f) => f.fixed_point_reduction(),
        }
    }

    /// The Jacobian of the map or flow itself (not `A`) at `x`.
    pub(crate) fn jacobian(&self, x: ArrayView1<'_, f64>, u: ArrayView1<'_, f64>) -> Result<Array2<f64>> {
        match self {
            System::Map(m) => m.jacobian(x, u),
            System::Flow(f) => f.jacobian(x, u),
        }
    }
}

/// The equation a search minimises: the system's own residual, or its reduced equation.
#[derive(Clone, Copy)]
enum Problem<'a> {
    Full(System<'a>),
    Reduced(&'a dyn FixedPointReduction),
}

impl Problem<'_> {
    fn dim(&self) -> usize {
        match self {
            Problem::Full(s) => s.state_dim(),
            Problem::Reduced(r) => r.reduced_dim(),
        }
    }

    fn residual(
        &self,
        x: &Array1<f64>,
        u: ArrayView1<'_, f64>,
        res: &mut Array1<f64>,
        a: &mut Array2<f64>,
    ) -> Result<()> {
        match self {
            Problem::Full(s) => s.residual(x, u, res, a),
            Problem::Reduced(r) => r.reduced_residual_into(x.view(), u, res.view_mut(), Some(a.view_mut())),
        }
    }

    /// The residual alone: a trial point's `q` without its Jacobian (O(n^2), not O(n^3), for
    /// the gated reduction and the cells whose Jacobian costs a matrix product).
    fn value(&self, x: &Array1<f64>, u: ArrayView1<'_, f64>, res: &mut Array1<f64>) -> Result<()> {
        match self {
            Problem::Full(s) => s.value(x, u, res),
            Problem::Reduced(r) => r.reduced_residual_into(x.view(), u, res.view_mut(), None),
        }
    }
}

/// Settings; defaults follow FixedPointFinder (tol_q 1e-12, tol_dq 1e-20, max_iters 5000,
/// tol_unique 1e-3, outlier_distance_scale 10).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedPointParams {
    /// `q` below which a minimum is a fixed point.
    pub tol_q: f64,
    /// Stop when `q` improves by less than this in an accepted step.
    pub tol_dq: f64,
    /// Levenberg-Marquardt iterations per seed at most.
    pub max_iters: usize,
    /// Points closer than this (Euclidean) are one point.
    pub tol_unique: f64,
    /// Drop candidates farther than this many mean seed distances from the seeds' centroid.
    pub outlier_distance_scale: f64,
    /// Half-width of the band around the stability boundary reported as marginal.
    pub boundary_tol: f64,
    /// Threads the seeds are minimised on (>= 1). Each seed's minimisation is independent and
    /// the results are taken in seed order, so the answer is bit-identical for any count.
    pub threads: usize,
    /// Compute each point's eigenvectors (`true`) or its eigenvalues only. The vectors are
    /// `n^2` complex numbers per point (64 MB at n = 2000) and a third of the classification's
    /// time; the stability verdict needs the values only.
    pub eigenvectors: bool,
    /// Solve the system's reduced fixed-point equation where it has one
    /// ([`FixedPointReduction`]; the gated cell: `N` unknowns instead of `3N`), lift each
    /// root and classify it by the full Jacobian (`true`, the default); `false` minimises the
    /// full residual, e.g. to cross-check the two.
    pub reduce: bool,
}

impl Default for FixedPointParams {
    fn default() -> Self {
        FixedPointParams {
            tol_q: 1e-12,
            tol_dq: 1e-20,
            max_iters: 5000,
            tol_unique: 1e-3,
            outlier_distance_scale: 10.0,
            boundary_tol: 1e-6,
            threads: 1,
            eigenvectors: true,
            reduce: true,
        }
    }
}

impl FixedPointParams {
    /// Errors on a non-positive or non-finite tolerance or scale, or zero iterations.
    pub fn check(self) -> Result<Self> {
        for (name, v) in [
            ("tol_q", self.tol_q),
            ("tol_unique", self.tol_unique),
            ("outlier_distance_scale", self.outlier_distance_scale),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::param(name, v, "must be finite and > 0"));
            }
        }
        for (name, v) in [("tol_dq", self.tol_dq), ("boundary_tol", self.boundary_tol)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::param(name, v, "must be finite and >= 0"));
            }
        }
        check::positive("max_iters", self.max_iters)?;
        check::positive("threads", self.threads)?;
        Ok(self)
    }
}

/// Stability from the Jacobian's spectrum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    /// Every `|mu| < 1` (maps) / `Re lambda < 0` (flows), outside the marginal band.
    Stable,
    /// At least one eigenvalue beyond the boundary.
    Unstable,
    /// The leading eigenvalue lies within `boundary_tol` of the boundary: undecided.
    Marginal,
}

/// A fixed (or slow) point with its linearisation.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedPoint {
    /// The state `(n)`.
    pub state: Array1<f64>,
    /// `q = 1/2 |res|^2` there; after a reduced search, the larger of that and the reduced
    /// equation's `q`.
    pub q: f64,
    /// `|res|`: the speed (per step for maps, per unit time for flows).
    pub speed: f64,
    /// Eigenvalues of `DF` (maps) or `Df` (flows), leading first (largest `|mu|` / `Re`).
    pub eigenvalues: Vec<Complex64>,
    /// Matching eigenvectors as columns `(n, n)`; `(n, 0)` when the search was asked for none
    /// ([`FixedPointParams::eigenvectors`]).
    pub eigenvectors: Array2<Complex64>,
    /// Eigenvalues beyond the boundary (`|mu| > 1 + tol` / `Re > tol`).
    pub unstable_dims: usize,
    /// Stability.
    pub stability: Stability,
}

impl FixedPoint {
    /// The leading eigenvalue (largest modulus for maps, largest real part for flows).
    pub fn leading_eigenvalue(&self) -> Complex64 {
        self.eigenvalues.first().copied().unwrap_or_default()
    }
}

/// What a search found.
#[derive(Debug, Clone, PartialEq)]
pub struct FixedPoints {
    /// Distinct fixed points (`q < tol_q`), by increasing `q`.
    pub fixed: Vec<FixedPoint>,
    /// Distinct slow points (local minima of `q` above `tol_q`), by increasing `q`.
    pub slow: Vec<FixedPoint>,
    /// Candidates dropped as outliers.
    pub outliers: usize,
    /// Candidates outside the system's fixed-point box
    /// ([`fixed_point_bounds`](emt_core::Flow::fixed_point_bounds)), where no fixed point can be:
    /// e.g. a ctgru state with `|h_i| > 1`, frozen because its update gate rounds to closed.
    pub out_of_bounds: usize,
    /// Candidates with `q < tol_q` dropped because the residual is small only for being
    /// multiplied by something that vanishes: the Newton step `A^+ res` from them is longer than
    /// `tol_unique` (or `A` underflowed entirely), so they are not converged roots but
    /// numerically frozen states (a candidate within `tol_unique` of a frozen one counts as
    /// frozen too), e.g. a closed update gate (`1 - z ~ 1e-17` times an O(1)
    /// `c - h`). A 2-D ctgru trained on analog memory
    /// had 53 such points besides its 3 certified fixed points.
    pub saturated: usize,
    /// Seeds used.
    pub seeds: usize,
}

impl FixedPoints {
    /// Stable fixed points.
    pub fn stable_count(&self) -> usize {
        self.fixed.iter().filter(|p| p.stability == Stability::Stable).count()
    }
}

/// Fixed and slow points of `system` under the constant input `u` `(d_in)`, from `seeds`
/// `(S, n)` (trajectory states plus noise, or points of a box; see [`trajectory_seeds`]).
/// Trajectory seeds promise no completeness: a point no seed falls towards is not found.
/// Each minimised seed is reported to the caller's [`emt_core::progress`] reporter (`done` of
/// `S`), from whichever thread minimised it.
///
/// ```
/// use emt_dynamics::{FixedPointParams, Stability, System, find_fixed_points};
/// use emt_testkit::systems::LinearMap;
/// // x' = A x has the origin as its only fixed point, stable since |eig A| < 1.
/// let map = LinearMap(ndarray::array![[0.5, 0.2], [0.0, -0.3]]);
/// let seeds = ndarray::array![[1.0, 2.0], [-3.0, 0.5]];
/// let found = find_fixed_points(System::Map(&map), ndarray::Array1::zeros(0).view(), seeds.view(), &FixedPointParams::default())?;
/// assert_eq!((found.fixed.len(), found.fixed[0].stability), (1, Stability::Stable));
/// assert!(found.fixed[0].state.iter().all(|v| v.abs() < 1e-12));
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn find_fixed_points(
    system: System<'_>,
    u: ArrayView1<'_, f64>,
    seeds: ArrayView2<'_, f64>,
    params: &FixedPointParams,
) -> Result<FixedPoints> {
    let p = params.check()?;
    let n = system.state_dim();
    check::shape("input", &u, &[system.input_dim()])?;
    check::finite("input", &u)?;
    if seeds.ncols() != n || seeds.nrows() == 0 {
        return Err(Error::shape("seeds", format!("(S >= 1, {n})"), check::fmt_shape(seeds.shape())));
    }
    check::finite("seeds", &seeds)?;
    let centroid = seeds.mean_axis(ndarray::Axis(0)).unwrap_or_else(|| Array1::zeros(n));
    let mean_dist = seeds.rows().into_iter().map(|s| dist(&s, &centroid.view())).sum::<f64>() / seeds.nrows() as f64;
    // With one seed (or identical seeds) the mean distance is 0 and every candidate would be an
    // outlier: the spread is floored at a tenth of the seeds' own scale.
    let floor = 0.1 * (1.0 + centroid.dot(&centroid).sqrt());
    let limit = p.outlier_distance_scale * mean_dist.max(floor);
    let reduction = if p.reduce { system.reduction() } else { None };
    let problem = reduction.map_or(Problem::Full(system), Problem::Reduced);
    // Each seed's end point: `y` in the coordinates minimised, `x` the full state (the lift of
    // `y` where the equation is reduced; `None` when `y` left the finite numbers).
    // Seeds minimised so far, for the caller's progress reporter.
    let done = std::sync::atomic::AtomicUsize::new(0);
    let minima = in_order_on_threads(seeds.nrows(), p.threads, |i| -> Result<Candidate> {
        // Before the seed's first Jacobian: once stopped, each remaining seed would otherwise
        // still build one (n^2) and its gradient, 7-13 s past --max-seconds for 1,344 seeds at
        // n = 2000.
        emt_core::interrupt::check("fixed-point search")?;
        let start = match reduction {
            Some(r) => r.restrict(seeds.row(i))?,
            None => seeds.row(i).to_owned(),
        };
        let (y, q, grad) = minimise(problem, u, start, &p)?;
        let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        emt_core::progress::report("fixed-point search: seeds minimised", finished, seeds.nrows());
        let x = match reduction {
            _ if !y.iter().all(|v| v.is_finite()) => None,
            Some(r) => Some(r.lift_root(y.view(), u)?).filter(|x| x.iter().all(|v| v.is_finite())),
            None => Some(y.clone()),
        };
        Ok(Candidate { x, y, q, grad })
    });
    let mut candidates = Vec::new();
    let mut outliers = 0;
    for minimum in minima {
        let c = minimum?;
        match &c.x {
            Some(x) if dist(&x.view(), &centroid.view()) <= limit => candidates.push(c),
            _ => outliers += 1,
        }
    }
    candidates.sort_by(|a, b| a.q.total_cmp(&b.q));
    let bounds = match system {
        System::Map(m) => m.fixed_point_bounds(u),
        System::Flow(f) => f.fixed_point_bounds(u),
    };
    // Distinct candidates first (cheap distances, in order of q); the checks after cost O(n^3)
    // each (seconds at n = 2000), so they run once per distinct point, on the threads.
    let mut out_of_bounds = 0;
    let mut distinct: Vec<(Candidate, usize)> = Vec::new();
    for c in candidates {
        let Some(x) = &c.x else { continue };
        let is_fixed = c.q < p.tol_q;
        if bounds.as_ref().is_some_and(|b| x.iter().zip(b).any(|(v, b)| v.abs() > b + 1e-12)) {
            out_of_bounds += 1;
            continue;
        }
        // A slow point must be a local minimum of q: its gradient has (nearly) vanished.
        if !is_fixed && c.grad > 1e-6 * (2.0 * c.q).sqrt().max(1e-12) {
            continue;
        }
        let same = distinct.iter_mut().find(|(d, _)| {
            (d.q < p.tol_q) == is_fixed && d.x.as_ref().is_some_and(|y| dist(&y.view(), &x.view()) < p.tol_unique)
        });
        match same {
            Some((_, copies)) => *copies += 1,
            None => distinct.push((c, 1)),
        }
    }
    let checked = in_order_on_threads(distinct.len(), p.threads, |i| -> Result<Option<FixedPoint>> {
        let (c, _) = &distinct[i];
        let Some(x) = &c.x else { return Ok(None) };
        if c.q < p.tol_q && frozen(problem, u, &c.y, p.tol_unique)? {
            return Ok(None);
        }
        classify(system, u, x.clone(), c.q, reduction.is_some(), &p).map(Some)
    });
    let (mut fixed, mut slow, mut saturated) = (Vec::new(), Vec::new(), 0);
    for ((_, copies), point) in distinct.iter().zip(checked) {
        match point? {
            None => saturated += copies,
            Some(point) if point.q < p.tol_q => fixed.push(point),
            Some(point) => slow.push(point),
        }
    }
    // Candidates were ordered by the q they were minimised on; with a reduced equation the
    // reported q also counts the full residual, so order again (stable: no change otherwise).
    fixed.sort_by(|a, b| a.q.total_cmp(&b.q));
    slow.sort_by(|a, b| a.q.total_cmp(&b.q));
    Ok(FixedPoints { fixed, slow, outliers, out_of_bounds, saturated, seeds: seeds.nrows() })
}

/// One seed's end point.
struct Candidate {
    /// The full state `(n)`; `None` if the minimisation left the finite numbers.
    x: Option<Array1<f64>>,
    /// The point in the minimised coordinates (`x` itself, or the reduced `y`).
    y: Array1<f64>,
    /// `q` of the minimised equation.
    q: f64,
    /// `|grad q|` there.
    grad: f64,
}

/// `f(0), .., f(count - 1)` computed on up to `threads` threads over contiguous blocks, returned
/// in index order (so the result never depends on the thread count). The caller's interrupt
/// hook ([`emt_core::interrupt`]) and progress reporter ([`emt_core::progress`]) go with the work
/// to every thread; a panic in `f` is passed on.
///
/// ```
/// let squares = emt_dynamics::in_order_on_threads(5, 2, |i| i * i);
/// assert_eq!(squares, vec![0, 1, 4, 9, 16]);
/// ```
pub fn in_order_on_threads<T: Send>(count: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, count.max(1));
    if threads == 1 {
        return (0..count).map(&f).collect();
    }
    let block = count.div_ceil(threads);
    // The caller's interrupt hook and progress reporter go with the work to every thread.
    let hook = emt_core::interrupt::current();
    let reporter = emt_core::progress::current();
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = (0..count)
            .step_by(block)
            .map(|start| {
                let (hook, reporter) = (hook.clone(), reporter.clone());
                scope.spawn(move || {
                    emt_core::interrupt::with_installed(hook, || {
                        emt_core::progress::with_installed(reporter, || {
                            (start..(start + block).min(count)).map(f).collect::<Vec<T>>()
                        })
                    })
                })
            })
            .collect();
        // A worker only panics if `f` does; pass that panic on rather than hide it.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

/// Fixed points under several inputs: `inputs` `(K, d_in)` gives seed `k` the input row `k`
/// (FixedPointFinder's one input per initial state), or `(1, d_in)` one input for all `K`
/// seeds `(K, n)`. Seeds are grouped by identical input rows (in order of first appearance)
/// and each group is searched as [`find_fixed_points`] does; every group's points belong to
/// its input.
///
/// ```
/// use emt_dynamics::{FixedPointParams, System, find_fixed_points_per_input};
/// // x' = 0.5 x + u: the fixed point is 2u.
/// struct Driven;
/// impl emt_core::DiscreteMap for Driven {
///     fn state_dim(&self) -> usize { 1 }
///     fn input_dim(&self) -> usize { 1 }
///     fn step_into(&self, x: ndarray::ArrayView1<'_, f64>, u: ndarray::ArrayView1<'_, f64>, mut o: ndarray::ArrayViewMut1<'_, f64>) -> emt_core::Result<()> { o[0] = 0.5 * x[0] + u[0]; Ok(()) }
///     fn jacobian_into(&self, _: ndarray::ArrayView1<'_, f64>, _: ndarray::ArrayView1<'_, f64>, mut o: ndarray::ArrayViewMut2<'_, f64>) -> emt_core::Result<()> { o[[0, 0]] = 0.5; Ok(()) }
///     fn input_jacobian_into(&self, _: ndarray::ArrayView1<'_, f64>, _: ndarray::ArrayView1<'_, f64>, mut o: ndarray::ArrayViewMut2<'_, f64>) -> emt_core::Result<()> { o[[0, 0]] = 1.0; Ok(()) }
/// }
/// let seeds = ndarray::array![[1.5], [-1.5], [2.5]];
/// let inputs = ndarray::array![[1.0], [-1.0], [1.0]];
/// let groups = find_fixed_points_per_input(System::Map(&Driven), inputs.view(), seeds.view(), &FixedPointParams::default())?;
/// assert_eq!(groups.len(), 2);
/// assert!((groups[0].1.fixed[0].state[0] - 2.0).abs() < 1e-12);
/// assert!((groups[1].1.fixed[0].state[0] + 2.0).abs() < 1e-12);
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn find_fixed_points_per_input(
    system: System<'_>,
    inputs: ArrayView2<'_, f64>,
    seeds: ArrayView2<'_, f64>,
    params: &FixedPointParams,
) -> Result<Vec<(Array1<f64>, FixedPoints)>> {
    let d = system.input_dim();
    let k = seeds.nrows();
    if inputs.ncols() != d || !(inputs.nrows() == 1 || inputs.nrows() == k) {
        return Err(Error::shape(
            "inputs",
            format!("(1, {d}) for every seed or (K, {d}) one per seed, K = {k}"),
            check::fmt_shape(inputs.shape()),
        ));
    }
    check::finite("inputs", &inputs)?;
    let mut groups: Vec<(Array1<f64>, Vec<usize>)> = Vec::new();
    for i in 0..k {
        let row = inputs.row(if inputs.nrows() == 1 { 0 } else { i });
        match groups.iter_mut().find(|(u, _)| u.view() == row) {
            Some((_, members)) => members.push(i),
            None => groups.push((row.to_owned(), vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(u, members)| {
            let group = seeds.select(ndarray::Axis(0), &members);
            find_fixed_points(system, u.view(), group.view(), params).map(|found| (u, found))
        })
        .collect()
}

/// Initial states sampled as FixedPointFinder's `sample_states`: `count` states drawn
/// uniformly (with replacement, seeded) from `states` `(K, n)` or from every time step and
/// sequence of trajectories `(T, B, n)`, each plus Gaussian noise of standard deviation `noise`.
///
/// ```
/// let traj = ndarray::Array3::from_shape_fn((5, 2, 3), |(t, b, i)| (t * 100 + b * 10 + i) as f64);
/// let s = emt_dynamics::sample_states(traj.view().into_dyn(), 4, 0.0, 7)?;
/// assert_eq!(s.dim(), (4, 3));
/// assert!(s.rows().into_iter().all(|r| r[1] == r[0] + 1.0));  // whole states, no mixing
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn sample_states(states: ndarray::ArrayViewD<'_, f64>, count: usize, noise: f64, seed: u64) -> Result<Array2<f64>> {
    use rand::Rng;
    let shape = states.shape().to_vec();
    let (rows, n) = match shape.as_slice() {
        [k, n] => (*k, *n),
        [t, b, n] => (t * b, *n),
        _ => return Err(Error::shape("states", "(K, n) or (T, B, n)", check::fmt_shape(&shape))),
    };
    check::memory("count", format!("{count} (state dimension {n})"), 32.0 * count as f64 * n as f64)?;
    if rows == 0 || n == 0 {
        return Err(Error::shape(
            "states",
            "(K >= 1, n >= 1) or (T, B, n) with T, B, n >= 1",
            check::fmt_shape(&shape),
        ));
    }
    check::positive("count", count)?;
    check::finite("states", &states)?;
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::param("noise", noise, "must be finite and >= 0"));
    }
    let flat =
        states.to_shape((rows, n)).map_err(|e| Error::shape("states", format!("({rows}, {n})"), e.to_string()))?;
    let mut r = emt_core::rng::seeded(seed);
    let mut out = Array2::zeros((count, n));
    for mut row in out.rows_mut() {
        let pick = r.random_range(0..rows);
        for (o, v) in row.iter_mut().zip(flat.row(pick)) {
            *o = v + noise * r.sample::<f64, _>(rand_distr::StandardNormal);
        }
    }
    Ok(out)
}

/// Whether the Newton step `A^+ res` at `x` is longer than `tol`: scale-free, so a root whose
/// residual and Jacobian both carry a tiny factor (a closed gate) still counts as a root, while a
/// point where that factor alone makes the residual small does not.
fn frozen(problem: Problem<'_>, u: ArrayView1<'_, f64>, x: &Array1<f64>, tol: f64) -> Result<bool> {
    let n = problem.dim();
    let (mut res, mut a) = (Array1::zeros(n), Array2::zeros((n, n)));
    problem.residual(x, u, &mut res, &mut a)?;
    // A Jacobian that underflowed entirely (a gate at exactly 0 in f64) leaves no step to
    // measure: such a point is frozen, not a root one can vouch for.
    if a.iter().all(|v| v.abs() < f64::MIN_POSITIVE.sqrt()) {
        return Ok(true);
    }
    // The exact step A^-1 res is never shorter than the truncated A^+ res (it adds components),
    // so a short exact step settles it with one LU; only a long or singular one needs the SVD.
    if let Ok(step) = emt_linalg::solve_vec(a.view(), res.view()) {
        if step.dot(&step).sqrt() <= tol {
            return Ok(false);
        }
    }
    let step = emt_linalg::pinv(a.view(), 1e-12)?.dot(&res);
    Ok(step.dot(&step).sqrt() > tol)
}

fn dist(a: &ArrayView1<'_, f64>, b: &ArrayView1<'_, f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
}

/// Iterations over which `q` must fall by 1% for a minimisation to go on.
const STAGNATION_WINDOW: usize = 50;

/// Accepted steps over which `q` above `tol_q` must fall by [`SLOW_FALL`] (relative) for a
/// minimisation to go on.
const SLOW_WINDOW: usize = 10;

/// See [`SLOW_WINDOW`].
const SLOW_FALL: f64 = 1e-3;

/// Relative damping at or below which a step is the plain Newton step `A^-1 res`.
const NEWTON_DAMPING: f64 = 1e-3;

/// Halvings of an overshooting Newton step tried before a damped step.
const NEWTON_HALVINGS: u32 = 3;

/// Consecutive iterations below `tol_q` that fail to halve `q` before polishing stops.
const FLOOR_PATIENCE: usize = 3;

/// Levenberg-Marquardt on `q` from `x`: returns the end point, its `q` and `|grad q|`.
///
/// Far from a root a step solves `(A^T A + mu s I) d = A^T res` (`s` the largest diagonal of
/// `A^T A`); once the damping is below [`NEWTON_DAMPING`] it is the Newton step `A d = res`, one
/// LU of `A` instead of the product `A^T A` (2n^3) and its LU: near a root the two steps agree
/// to that relative size. A Newton step that does not lower `q` is halved up to
/// [`NEWTON_HALVINGS`] times; if it still fails (or `A` is singular) the next steps are damped at
/// the same `mu`, and Newton is tried again after 1, 2, 4, then 8 accepted steps (doubling with
/// each failure in a row). The damping follows Nielsen's rule: after an accepted damped step
/// `mu` is multiplied by `max(1/3, 1 - (2 rho - 1)^3)`, `rho` the actual decrease of `q` over
/// the one the step's quadratic model predicted; after a rejected one by 2, 4, 8, ... A seed
/// above `tol_q` stops when [`SLOW_WINDOW`] accepted steps lower `q` by less than
/// [`SLOW_FALL`] (a slow point), or by the 50-iteration rule below. Polishing stops at
/// `q < 1e-30` or at rounding level: below `tol_q`, [`FLOOR_PATIENCE`] iterations that do not
/// halve `q` (at n = 2000, `q` stalls near 1e-27 and waiting for the damping to reach 1e12
/// took 55 of 71 iterations).
fn minimise(
    problem: Problem<'_>,
    u: ArrayView1<'_, f64>,
    mut x: Array1<f64>,
    p: &FixedPointParams,
) -> Result<(Array1<f64>, f64, f64)> {
    let n = problem.dim();
    let (mut res, mut a) = (Array1::zeros(n), Array2::zeros((n, n)));
    let mut res_new = Array1::zeros(n);
    // A^T A and its largest diagonal, kept while A does not change (rejected steps retry it).
    let mut normal: Option<(Array2<f64>, f64)> = None;
    // A^T A + mu s I, rebuilt in place for each damped step (no n x n allocation per step).
    let mut damped = Array2::zeros((0, 0));
    problem.residual(&x, u, &mut res, &mut a)?;
    let mut q = 0.5 * res.dot(&res);
    let mut mu = 1e-3;
    let mut grad = a.t().dot(&res);
    // Stagnation: where q is flat or piecewise flat (saturated units: tanh of weights x 1e6),
    // LM takes thousands of tiny accepted steps that each cost an n x n solve (a 128-unit
    // file took over 2 minutes). A seed whose q has not fallen by 1% in 50 iterations stops
    // there, judged by q like any other end point (a slow point or a rejected candidate).
    let mut window_q = q;
    let mut stalled = 0;
    // q after each of the last SLOW_WINDOW accepted steps (the oldest first).
    let mut accepted_q = std::collections::VecDeque::with_capacity(SLOW_WINDOW + 1);
    // Accepted damped steps to take before a Newton step is tried again (once mu is at or
    // below NEWTON_DAMPING), and the Newton steps that failed in a row. Each failure doubles
    // the wait (1, 2, 4, 8 steps): far from a root, where Newton steps keep failing (near a
    // slow point there is no root to jump to), retrying after every accepted step spent 78 of
    // 217 iterations on failed Newton steps (one LU each) at n = 2000.
    let mut newton_wait = 0usize;
    // The factor of mu's next raise after a rejected damped step (2, then doubling).
    let mut raise = 2.0f64;
    let mut newton_failures = 0u32;
    for it in 0..p.max_iters {
        emt_core::interrupt::check("fixed-point search")?;
        if q < 1e-30 || !q.is_finite() || stalled >= FLOOR_PATIENCE {
            break;
        }
        if it > 0 && it % STAGNATION_WINDOW == 0 {
            // Linear convergence to a slow point (q -> q* > 0) or a crawl along a shallow
            // valley: stop when q has not fallen by 1%, or when the window's rate could not
            // bring q to tol_q within the iterations left (about half the work on a chaotic
            // gated network, N = 200, went into such crawls).
            let rate = q / window_q;
            let windows_left = ((p.max_iters - it) / STAGNATION_WINDOW) as f64;
            if q > p.tol_q && (rate > 0.99 || q * rate.powf(windows_left) > p.tol_q) {
                break;
            }
            window_q = q;
        }
        let newton = mu <= NEWTON_DAMPING && newton_wait == 0;
        let step = if newton {
            emt_linalg::solve_vec(a.view(), res.view())
        } else {
            damped_step(&a, &grad, mu, &mut normal, &mut damped)
        };
        let Ok(step) = step else {
            // A singular A: a damped step at the same mu next. A singular damped system: more damping.
            if newton {
                newton_wait = newton_backoff(&mut newton_failures);
            } else {
                mu *= 10.0;
            }
            if mu > 1e12 {
                break;
            }
            continue;
        };
        // The decrease of q the damped step's quadratic model predicts:
        // g.d - d^T H d / 2 = (g.d + lambda |d|^2) / 2 for (H + lambda I) d = g.
        let predicted = match &normal {
            Some((_, scale)) if !newton => 0.5 * (grad.dot(&step) + mu * scale * step.dot(&step)),
            _ => f64::NAN,
        };
        let mut x_new = &x - &step;
        problem.value(&x_new, u, &mut res_new)?;
        let mut q_new = 0.5 * res_new.dot(&res_new);
        // A Newton step that overshoots is shortened before damping takes over: the Newton
        // direction always descends q (grad . d = |res|^2), and falling back to damped steps
        // after every overshoot cycled damped -> Newton -> damped for hundreds of iterations
        // on a chaotic gated network (N = 200), each cycle lowering q by a few percent.
        let mut t = 1.0;
        // (a NaN q_new is not a decrease)
        while newton && q > p.tol_q && !q_new.lt(&q) && t > 1.0 / (1 << NEWTON_HALVINGS) as f64 {
            t *= 0.5;
            x_new = &x - &(&step * t);
            problem.value(&x_new, u, &mut res_new)?;
            q_new = 0.5 * res_new.dot(&res_new);
        }
        // A NaN q_new counts as no progress.
        let halved = q_new < 0.5 * q;
        stalled = if q < p.tol_q && !halved { stalled + 1 } else { 0 };
        if q_new.is_finite() && q_new < q {
            let dq = q - q_new;
            x = x_new;
            // The Jacobian only at accepted points (recomputing the value with it).
            problem.residual(&x, u, &mut res, &mut a)?;
            normal = None;
            q = q_new;
            grad = a.t().dot(&res);
            // Nielsen's update for a damped step (H. B. Nielsen, 1999): the better the model
            // predicted the decrease, the less damping next (at most a third); a step that
            // fell well short of it raises the damping while accepted, so the next is not
            // rejected (mu x 4 per rejection, / 3 per acceptance rejected 65 of 134 damped
            // steps on a random N = 2000 network). A full Newton step lowers it by 3; a
            // shortened one keeps it.
            if !newton {
                let rho = dq / predicted;
                let factor = if rho.is_finite() { (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0) } else { 1.0 / 3.0 };
                mu = (mu * factor).max(1e-15);
            } else if t == 1.0 {
                mu = (mu / 3.0).max(1e-15);
            }
            raise = 2.0;
            if newton {
                newton_failures = 0;
            }
            newton_wait = newton_wait.saturating_sub(1);
            if dq < p.tol_dq && q > p.tol_q {
                break;
            }
            // Settling on a slow point: SLOW_WINDOW accepted steps that together lowered q by
            // less than SLOW_FALL. Stopped here rather than at the next 50-iteration window: at
            // n = 2000 (0.4 s an iteration) a random gain-1.5 network's seed spent its last 55
            // of 250 iterations moving q from 1.3912e-4 to 1.3910e-4.
            accepted_q.push_back(q);
            if accepted_q.len() > SLOW_WINDOW {
                let oldest = accepted_q.pop_front().unwrap_or(q);
                if q > p.tol_q && q > (1.0 - SLOW_FALL) * oldest {
                    break;
                }
            }
        } else if newton {
            // Overshot even shortened: a damped step at the same mu. (Raising mu to 10 x
            // NEWTON_DAMPING here instead cycled damped steps that each lowered q by 0.2%
            // for 170 iterations near a near-singular A on the gated network.)
            newton_wait = newton_backoff(&mut newton_failures);
        } else {
            mu *= raise;
            raise *= 2.0;
            if mu > 1e12 {
                break;
            }
        }
    }
    let g = grad.dot(&grad).sqrt();
    Ok((x, q, g))
}

/// One more failed Newton step: the accepted damped steps to wait before the next (1, 2, 4, 8).
fn newton_backoff(failures: &mut u32) -> usize {
    *failures += 1;
    1 << (*failures - 1).min(3)
}

/// The Levenberg-Marquardt step `(A^T A + mu s I)^-1 grad`, `s` the largest diagonal of `A^T A`;
/// `normal` caches `(A^T A, s)` for retries at the same `A`; `h` is the caller's buffer for the
/// damped matrix.
fn damped_step(
    a: &Array2<f64>,
    grad: &Array1<f64>,
    mu: f64,
    normal: &mut Option<(Array2<f64>, f64)>,
    h: &mut Array2<f64>,
) -> Result<Array1<f64>> {
    let cached = match normal.take() {
        Some(cached) => cached,
        None => {
            // Half the product's work (one triangle, mirrored): 0.37 -> 0.26 s at n = 2000.
            let h = emt_linalg::gram(a.view())?;
            let scale = h.diag().iter().fold(0.0f64, |m, v| m.max(*v)).max(1e-12);
            (h, scale)
        }
    };
    let (ata, scale) = normal.insert(cached);
    if h.dim() != ata.dim() {
        *h = Array2::zeros(ata.dim());
    }
    h.assign(ata);
    h.diag_mut().mapv_inplace(|v| v + mu * *scale);
    emt_linalg::solve_vec(h.view(), grad.view())
}

/// The point's spectrum and verdict. `q` is that of the minimised equation; with a `reduced`
/// one the system's own residual at `x` is measured too, and the larger `q` is reported (a
/// root of the reduced equation is a fixed point only if the full field vanishes there as well).
fn classify(
    system: System<'_>,
    u: ArrayView1<'_, f64>,
    x: Array1<f64>,
    q: f64,
    reduced: bool,
    p: &FixedPointParams,
) -> Result<FixedPoint> {
    emt_core::interrupt::check("fixed-point classification")?;
    let tol = p.boundary_tol;
    let n = x.len();
    let (mut res, mut jac) = (Array1::zeros(n), Array2::zeros((n, n)));
    system.residual(&x, u, &mut res, &mut jac)?;
    let q_full = 0.5 * res.dot(&res);
    let q = if reduced { q.max(q_full) } else { q };
    let jac = system.jacobian(x.view(), u)?;
    let eig = if p.eigenvectors {
        emt_linalg::eig(jac.view())?
    } else {
        let values = emt_linalg::eigenvalues(jac.view())?;
        emt_linalg::Eigen { values: Array1::from(values), vectors: Array2::zeros((n, 0)) }
    };
    let is_map = matches!(system, System::Map(_));
    let key = |z: &Complex64| if is_map { z.norm() - 1.0 } else { z.re };
    let mut order: Vec<usize> = (0..eig.values.len()).collect();
    order.sort_by(|&i, &j| key(&eig.values[j]).total_cmp(&key(&eig.values[i])));
    let eigenvalues: Vec<Complex64> = order.iter().map(|&i| eig.values[i]).collect();
    let eigenvectors = if p.eigenvectors {
        Array2::from_shape_fn(eig.vectors.dim(), |(r, c)| eig.vectors[[r, order[c]]])
    } else {
        eig.vectors
    };
    let unstable_dims = eigenvalues.iter().filter(|z| key(z) > tol).count();
    let lead = eigenvalues.first().map_or(f64::NEG_INFINITY, key);
    let stability = if lead.abs() <= tol {
        Stability::Marginal
    } else if lead < 0.0 {
        Stability::Stable
    } else {
        Stability::Unstable
    };
    Ok(FixedPoint { speed: (2.0 * q_full).sqrt(), state: x, q, eigenvalues, eigenvectors, unstable_dims, stability })
}

/// How [`seed_states`] seeds a search: `starts` states uniform in the box that holds every
/// fixed point, each run `steps` steps (flows: RK4 steps of `dt`) with every `every`-th state
/// kept plus Gaussian noise of `noise`, all from the seed `seed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedParams {
    /// Box starts (the `start` given to [`seed_states`] comes first, in addition).
    pub starts: usize,
    /// Steps run from each start.
    pub steps: usize,
    /// Keep every this-many-th state.
    pub every: usize,
    /// Step of a flow's RK4 trajectories.
    pub dt: f64,
    /// Standard deviation of the noise on trajectory states.
    pub noise: f64,
    /// Seed of the box starts (stream 3) and the noise.
    pub seed: u64,
}

impl Default for SeedParams {
    fn default() -> Self {
        SeedParams { starts: 64, steps: 200, every: 10, dt: 0.05, noise: 0.05, seed: 0 }
    }
}

/// Unknowns up to which [`SeedParams::scaled_to`] keeps a recipe as it is.
pub const FULL_SEEDING_DIM: usize = 256;

/// Seeds [`SeedParams::scaled_to`] keeps at least (besides a given start).
pub const MIN_SCALED_SEEDS: usize = 4;

impl SeedParams {
    /// Seeds the recipe yields besides a given start: `starts (1 + steps / every)`.
    pub fn seed_count(&self) -> usize {
        self.starts.saturating_mul(1 + self.steps / self.every.max(1))
    }

    /// The recipe a default search uses at `dim` unknowns (the dimension minimised:
    /// [`System::search_dim`]): unchanged up to [`FULL_SEEDING_DIM`]; above it the seed count
    /// falls as `dim^-3`, the cost of one Levenberg-Marquardt iteration, so that a default search
    /// costs about the same at every size: about `max(4, seeds (256 / dim)^3)` seeds, as fewer
    /// starts and then, at one start, fewer kept states of its run (a larger `every`). With the
    /// default recipe (64 starts, 1,344 seeds): 168 seeds (8 starts) at 512, 21 (1 start) at
    /// 1000, 4 (1 start, every 66th state) at 2000. Explicit settings are the caller's to keep:
    /// scale only a recipe the user did not choose.
    ///
    /// ```
    /// use emt_dynamics::SeedParams;
    /// let p = SeedParams::default();
    /// assert_eq!(p.scaled_to(200), p);
    /// assert_eq!(p.scaled_to(512).starts, 8);
    /// let big = p.scaled_to(2000);
    /// assert_eq!((big.starts, big.every, big.seed_count()), (1, 66, 4));
    /// ```
    pub fn scaled_to(self, dim: usize) -> SeedParams {
        let full = self.seed_count();
        if dim <= FULL_SEEDING_DIM || full <= MIN_SCALED_SEEDS {
            return self;
        }
        let ratio = FULL_SEEDING_DIM as f64 / dim as f64;
        let target = ((full as f64 * ratio.powi(3)).floor() as usize).clamp(MIN_SCALED_SEEDS, full);
        let per_start = 1 + self.steps / self.every.max(1);
        // Whole starts within the target, but enough of them for the floor of seeds.
        let starts = (target / per_start).max(MIN_SCALED_SEEDS.div_ceil(per_start)).clamp(1, self.starts.max(1));
        if starts > 1 || target >= per_start {
            return SeedParams { starts, ..self };
        }
        // One start: keep `target - 1` states of its run, evenly spaced.
        let every = (self.steps / (target - 1).max(1)).max(1);
        SeedParams { starts: 1, every, ..self }
    }

    /// [`scaled_to`](Self::scaled_to), and what it changed in words for the user (`None` when
    /// nothing changed), e.g. "2000 unknowns: minimising 4 seeds (1 start(s), every 66th state
    /// of each 200-step run) instead of the default recipe's 1344 (a seed's cost grows as n^3)".
    pub fn scaled_with_note(self, dim: usize) -> (SeedParams, Option<String>) {
        let scaled = self.scaled_to(dim);
        let note = (scaled != self).then(|| {
            format!(
                "{dim} unknowns: minimising {} seeds ({} start(s), every {}th state of each {}-step run) instead of the default recipe's {} (a seed's cost grows as n^3)",
                scaled.seed_count(),
                scaled.starts,
                scaled.every,
                scaled.steps,
                self.seed_count()
            )
        });
        (scaled, note)
    }
}

/// Seeds from [`seed_states`]: the starts, all seeds (starts, then trajectory states), and the
/// box half-width the starts were drawn in.
#[derive(Debug, Clone, PartialEq)]
pub struct Seeds {
    /// The starting states `(S, n)` (the given start first).
    pub starts: Array2<f64>,
    /// Starts followed by their trajectory states `(S', n)`.
    pub seeds: Array2<f64>,
    /// Half-width of the box of starts: the largest of the system's fixed-point bounds under
    /// `u` (docs/DYNAMICS.md §1), at least 1.
    pub bound: f64,
}

/// Half-width of a cube `[-b, b]^n` holding every fixed point under `u`: the largest of the
/// system's fixed-point bounds (docs/DYNAMICS.md §1), at least 1; 1 where the system knows none.
pub fn box_half_width(system: System<'_>, u: ArrayView1<'_, f64>) -> f64 {
    let bounds = match system {
        System::Map(m) => m.fixed_point_bounds(u),
        System::Flow(f) => f.fixed_point_bounds(u),
    };
    bounds.map_or(1.0, |b| b.iter().copied().filter(|v| v.is_finite()).fold(1.0, f64::max))
}

/// The one seeding recipe of emt's fixed-point searches (the CLI's and the sweeps'): `start`
/// (e.g. a file's `h0`) and `params.starts` states uniform in `[-b, b]^n`, `b` the largest
/// fixed-point bound (at least 1; 1 where the system knows none), and their trajectories under
/// `u` (see [`trajectory_seeds`]). Trajectory seeds promise no completeness.
///
/// ```
/// use emt_dynamics::{SeedParams, System, seed_states};
/// use emt_testkit::systems::LinearMap;
/// let map = LinearMap(ndarray::array![[0.5, 0.0], [0.0, 0.5]]);
/// let p = SeedParams { starts: 4, steps: 20, ..Default::default() };
/// let s = seed_states(System::Map(&map), ndarray::Array1::zeros(0).view(), None, &p)?;
/// assert_eq!((s.starts.nrows(), s.seeds.nrows(), s.bound), (4, 4 + 4 * 2, 1.0));
/// # Ok::<(), emt_core::Error>(())
/// ```
pub fn seed_states(
    system: System<'_>,
    u: ArrayView1<'_, f64>,
    start: Option<ArrayView1<'_, f64>>,
    params: &SeedParams,
) -> Result<Seeds> {
    use rand::Rng;
    let n = system.state_dim();
    check::shape("input", &u, &[system.input_dim()])?;
    check::finite("input", &u)?;
    // Starts, the trajectory seeds taken from them, and each seed's minimisation state.
    let kept = 1 + params.steps / params.every.max(1);
    let seed_rows = (params.starts as f64 + 1.0) * (1.0 + kept as f64);
    check::memory("starts", format!("{} (state dimension {n})", params.starts), 32.0 * seed_rows * n as f64)?;
    let bound = box_half_width(system, u);
    let mut r = emt_core::rng::stream(params.seed, 3);
    let mut rows: Vec<f64> = Vec::with_capacity((params.starts + 1) * n);
    if let Some(start) = start {
        check::shape("start", &start, &[n])?;
        check::finite("start", &start)?;
        rows.extend(start.iter().copied());
    }
    rows.extend((0..params.starts * n).map(|_| bound * (2.0 * r.random::<f64>() - 1.0)));
    let count = rows.len() / n.max(1);
    let starts = Array2::from_shape_vec((count, n), rows)
        .map_err(|e| Error::shape("starts", format!("({count}, {n})"), e.to_string()))?;
    let trajectory =
        trajectory_seeds(system, u, starts.view(), params.steps, params.every, params.dt, params.noise, params.seed)?;
    let seeds = ndarray::concatenate(ndarray::Axis(0), &[starts.view(), trajectory.view()])
        .map_err(|e| Error::shape("seeds", format!("(S, {n})"), e.to_string()))?;
    Ok(Seeds { starts, seeds, bound })
}

/// Seeds from trajectories: `starts` `(S, n)` run for `steps` (maps: map steps; flows: RK4
/// steps of `dt`) under the constant input `u`; every `every`-th state is kept, plus Gaussian
/// noise of standard deviation `noise` (seeded).
#[allow(clippy::too_many_arguments)]
pub fn trajectory_seeds(
    system: System<'_>,
    u: ArrayView1<'_, f64>,
    starts: ArrayView2<'_, f64>,
    steps: usize,
    every: usize,
    dt: f64,
    noise: f64,
    seed: u64,
) -> Result<Array2<f64>> {
    use rand::Rng;
    let n = system.state_dim();
    check::shape("input", &u, &[system.input_dim()])?;
    if starts.ncols() != n {
        return Err(Error::shape("starts", format!("(S, {n})"), check::fmt_shape(starts.shape())));
    }
    check::positive("every", every)?;
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::param("noise", noise, "must be finite and >= 0"));
    }
    let mut r = emt_core::rng::seeded(seed);
    let mut rows = Vec::new();
    let mut rk = crate::Rk4::new(n, 1);
    for start in starts.rows() {
        let mut x = start.to_owned();
        let mut next = Array1::zeros(n);
        for t in 1..=steps {
            emt_core::interrupt::check("fixed-point seeding")?;
            match system {
                System::Map(m) => {
                    m.step_into(x.view(), u, next.view_mut())?;
                    std::mem::swap(&mut x, &mut next);
                }
                System::Flow(f) => rk.step(f, &mut x, u, dt)?,
            }
            if t % every == 0 {
                let noisy = x.mapv(|v| v + noise * r.sample::<f64, _>(rand_distr::StandardNormal));
                rows.extend(noisy.iter().copied());
            }
        }
    }
    let count = rows.len() / n.max(1);
    Array2::from_shape_vec((count, n), rows)
        .map_err(|e| Error::shape("seeds", format!("({count}, {n})"), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Scaling never adds seeds, keeps at least 4 (or all, if fewer), leaves a recipe alone
        /// up to 256 unknowns, and keeps the settings it does not scale.
        #[test]
        fn scaled_recipes_stay_within_the_recipe(
            dim in 1usize..5000, starts in 0usize..100, steps in 0usize..500, every in 1usize..50,
        ) {
            let p = SeedParams { starts, steps, every, noise: 0.1, seed: 9, ..Default::default() };
            let s = p.scaled_to(dim);
            prop_assert!(s.seed_count() <= p.seed_count());
            prop_assert!(s.seed_count() >= p.seed_count().min(MIN_SCALED_SEEDS), "{s:?}");
            prop_assert_eq!((s.steps, s.noise, s.seed, s.dt), (p.steps, p.noise, p.seed, p.dt));
            if dim <= FULL_SEEDING_DIM {
                prop_assert_eq!(s, p);
            }
        }
    }

    /// The default recipe's seed count never grows with the dimension, and follows
    /// `1344 (256 / n)^3` within one start's seeds until the floor of 4.
    #[test]
    fn the_default_recipe_shrinks_as_the_cube() {
        let mut last = usize::MAX;
        for dim in (1..4000).step_by(7) {
            let count = SeedParams::default().scaled_to(dim).seed_count();
            assert!(count <= last, "dim {dim}: {count} > {last}");
            let ideal = 1344.0 * (256.0 / dim as f64).powi(3).min(1.0);
            // (One start keeps every `steps / (target - 1)`-th state: a state or two over.)
            assert!(
                count as f64 <= ideal.max(4.0) + 2.0 && count as f64 > (ideal - 21.0).min(4.0 - 1e-9),
                "dim {dim}: {count} vs {ideal}"
            );
            last = count;
        }
        assert_eq!(SeedParams::default().scaled_with_note(256), (SeedParams::default(), None));
        let (p, note) = SeedParams::default().scaled_with_note(2000);
        assert_eq!(p, SeedParams::default().scaled_to(2000));
        assert_eq!(
            note.as_deref(),
            Some(
                "2000 unknowns: minimising 4 seeds (1 start(s), every 66th state of each 200-step run) instead of the default recipe's 1344 (a seed's cost grows as n^3)"
            )
        );
    }
}
