"""emt: open up recurrent neural networks and see how they compute.

Load a network (an emt model file, a PyTorch state dict or an ``nn.RNN`` / ``nn.GRU`` /
``nn.LSTM``), then ask what it does: fixed points with their stability (FixedPointFinder's
names), Lyapunov spectra (ChaosTools' names), attractors and limit cycles, phase response,
bifurcations along a parameter, proven-complete fixed points of 2-D flows, automata, the
variable-memory basis of Episodic Memory Theory. Everything runs in emt's Rust library: the GIL
is released during long calls, and Ctrl-C stops them with KeyboardInterrupt.

>>> import emt, numpy as np
>>> sd = {"weight_ih_l0": np.zeros((2, 1)), "weight_hh_l0": 3 * np.eye(2)}
>>> m = emt.Model.from_state_dict(sd)
>>> fps = emt.find_fixed_points(m, n_inits=16, threads=1)
>>> len(fps), fps.n_stable   # tanh(3 x) = x: 0 and +-0.995 per unit
(9, 4)
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, Callable, Mapping, Optional

import numpy as np

from . import _emt
from ._emt import (
    DivergedError,
    EmtError,
    FormatError,
    NonFiniteError,
    NotConvergedError,
    ParameterError,
    ParseError,
    ShapeError,
    SingularError,
    TaskIdError,
)
from ._model import Model, as_f64
from ._results import (
    Attractor,
    Automaton,
    Bifurcation,
    CertifiedFixedPoints,
    Circuit,
    FixedPoints,
    LimitCycle,
    LyapunovSpectrum,
    PhaseCurve,
    PhaseResponse,
    Report,
    Sweep,
    Trajectory,
    TrainReport,
    VariableBasis,
    _complex,
)
from . import reproduce

__version__ = _emt.__version__

__all__ = [
    "Attractor",
    "Automaton",
    "Bifurcation",
    "CertifiedFixedPoints",
    "Circuit",
    "DivergedError",
    "EmtError",
    "FixedPoints",
    "FormatError",
    "LimitCycle",
    "LyapunovSpectrum",
    "Model",
    "NonFiniteError",
    "NotConvergedError",
    "ParameterError",
    "ParseError",
    "PhaseCurve",
    "PhaseResponse",
    "Report",
    "ShapeError",
    "SingularError",
    "Sweep",
    "TaskIdError",
    "Trajectory",
    "TrainReport",
    "VariableBasis",
    "certified_fixed_points",
    "circuit",
    "classify_attractor",
    "extract_automaton",
    "find_fixed_points",
    "lambda_max",
    "limit_cycle",
    "load",
    "lyapunov_spectrum",
    "phase_response",
    "plot_fixed_points",
    "plot_lyapunov",
    "reproduce",
    "sample_states",
    "sweep",
    "train",
    "variable_basis",
]


def _as_model(model: Any) -> Model:
    if not isinstance(model, Model):
        raise TypeError(f"expected an emt.Model, got {type(model).__name__} (build one with emt.load or Model.from_torch)")
    return model


def _opt(value: Any, what: str, ndim: int) -> Optional[np.ndarray]:
    return None if value is None else as_f64(value, what, ndim)


def load(path: Any, **options: Any) -> Model:
    """Read a model file (see :meth:`Model.load`, whose keyword options it takes)."""
    return Model.load(path, **options)


def find_fixed_points(
    model: Model,
    initial_states: Any = None,
    inputs: Any = None,
    *,
    tol_q: float = 1e-12,
    tol_dq: float = 1e-20,
    max_iters: int = 5000,
    tol_unique: float = 1e-3,
    outlier_distance_scale: float = 10.0,
    boundary_tol: float = 1e-6,
    reduce: bool = True,
    compute_jacobians: bool = True,
    decompose_jacobians: bool = True,
    n_inits: Optional[int] = None,
    steps: int = 200,
    noise_scale: float = 0.05,
    seed: int = 0,
    threads: Optional[int] = None,
    progress: bool = False,
) -> FixedPoints:
    """Fixed points (maps: ``F(x, u) = x``; flows: ``f(x, u) = 0``) and slow points, classified.

    Each seed is minimised (Levenberg-Marquardt on ``q = 1/2 |res|^2``); candidates are kept as
    fixed points when ``q < tol_q``, merged within ``tol_unique``, and dropped when they are
    outliers, outside the box that holds every fixed point, or numerically frozen states
    (``n_saturated``); each point is classified by the eigenvalues of its Jacobian. Argument names
    follow FixedPointFinder. The same model, seeds and settings give what ``emt fixed-points``
    gives.

    Parameters
    ----------
    model : Model
    initial_states : array_like, shape (K, n), optional
        Seeds, e.g. :func:`sample_states` of trajectories. Default: emt's recipe: ``n_inits``
        states uniform in the box that holds every fixed point (plus the file's h0), each run for
        ``steps`` steps with every 10th state kept, plus noise of ``noise_scale``. Without
        ``n_inits``: 64 starts up to 256 unknowns; above, ``max(4, 1344 (256 / n)^3)`` seeds
        (a seed's cost grows as ``n^3``; n = 2000: 4 seeds), with a warning saying so.
    inputs : array_like, shape (K, d_in) or (1, d_in), optional
        The constant input per seed (FixedPointFinder's way), or one for all. Default zero.
    tol_q, tol_dq, max_iters, tol_unique, outlier_distance_scale : float / int
        FixedPointFinder's settings (same defaults).
    boundary_tol : float
        Half-width of the band around the stability boundary reported as marginal.
    reduce : bool
        Solve a gated cell's reduced equation (N unknowns instead of 3N), then lift and classify.
    compute_jacobians : bool
        Return ``J_xstar`` ``(K, n, n)``.
    decompose_jacobians : bool
        Return eigenvectors ``eigvec_J_xstar`` ``(K, n, n)`` (eigenvalues always).
    n_inits, steps, noise_scale, seed : int / float
        emt's seeding recipe (only without ``initial_states``).
    threads : int, optional
        Threads the seeds are minimised on (default: every core; the result does not depend on it).
    progress : bool
        Show the seeds minimised so far on stderr (tqdm's bar when installed).

    Returns
    -------
    FixedPoints
        ``xstar`` (K, n), ``qstar``, ``is_stable``, ``eigval_J_xstar`` (K, n) complex, ...; slow
        points in ``.slow``.

    Raises
    ------
    emt.ShapeError, emt.NonFiniteError, emt.ParameterError
        Bad seeds, inputs or settings. KeyboardInterrupt on Ctrl-C.
    """
    m = _as_model(model)
    bar = _Bar("seeds") if progress else None
    try:
        raw = _emt.find_fixed_points(
            m._m,
            _opt(initial_states, "initial_states", 2),
            None if inputs is None else np.atleast_2d(as_f64(inputs, "inputs")),
            tol_q=tol_q,
            tol_dq=tol_dq,
            max_iters=max_iters,
            tol_unique=tol_unique,
            outlier_distance_scale=outlier_distance_scale,
            boundary_tol=boundary_tol,
            reduce=reduce,
            compute_jacobians=compute_jacobians,
            decompose_jacobians=decompose_jacobians,
            n_inits=n_inits,
            steps=steps,
            noise_scale=noise_scale,
            seed=seed,
            threads=threads,
            progress=None if bar is None else bar.update,
        )
    finally:
        if bar is not None:
            bar.close()
    if raw["seeding_note"] is not None:
        warnings.warn(raw["seeding_note"], stacklevel=2)
    slow = FixedPoints._from_raw(raw["slow"], raw)
    return FixedPoints._from_raw(raw["fixed"], raw, slow=slow)


def sample_states(states: Any, n_inits: int, noise_scale: float = 0.0, seed: int = 0) -> np.ndarray:
    """Seeds sampled from states, as FixedPointFinder's ``sample_states``.

    Parameters
    ----------
    states : array_like, shape (K, n) or (T, B, n)
        States, or trajectories (e.g. ``Trajectory.states``).
    n_inits : int
        How many to draw (uniformly, with replacement, seeded).
    noise_scale : float
        Standard deviation of the Gaussian noise added to each.
    seed : int

    Returns
    -------
    ndarray, shape (n_inits, n)
    """
    return _emt.sample_states(as_f64(states, "states"), int(n_inits), float(noise_scale), int(seed))


def lyapunov_spectrum(
    model: Model,
    x0: Any = None,
    inputs: Any = None,
    *,
    k: Optional[int] = None,
    steps: int = 10_000,
    transient: int = 1_000,
    dt: float = 0.01,
    renormalize_every: int = 1,
    seed: int = 0,
) -> LyapunovSpectrum:
    """The Lyapunov spectrum (QR / Benettin), as ChaosTools' ``lyapunovspectrum``.

    Maps run their step; flows (ctgru, gated) are integrated by RK4 with ``dt``. The same
    settings give what ``emt lyapunov`` gives.

    Parameters
    ----------
    model : Model
    x0 : array_like, shape (n,), optional
        Start (default: the file's h0, else a small state seeded by ``seed``).
    inputs : array_like, shape (T_in, d_in), optional
        Inputs applied in turn, cycling (default: zero).
    k : int, optional
        Exponents to compute (default: all ``n``).
    steps : int
        Measured steps (maps) or RK4 steps of ``dt`` (flows).
    transient : int
        Unmeasured steps first.
    dt : float
        RK4 step of a flow.
    renormalize_every : int
        Steps between QR re-orthonormalisations (ChaosTools' ``Δt``).
    seed : int
        Of the tangent frame and of the default start.

    Returns
    -------
    LyapunovSpectrum
        ``exponents`` (k,) descending, ``kaplan_yorke``, ``sum_rule_reference``, the convergence trace.
    """
    m = _as_model(model)
    raw = _emt.lyapunov_spectrum(
        m._m,
        _opt(x0, "x0", 1),
        _opt(inputs, "inputs", 2),
        k=k,
        steps=steps,
        transient=transient,
        dt=dt,
        renormalize_every=renormalize_every,
        seed=seed,
    )
    return LyapunovSpectrum(
        exponents=np.asarray(raw["exponents"], dtype=np.float64),
        time_unit=raw["time_unit"],
        kaplan_yorke=raw["kaplan_yorke"],
        sum=raw["sum"],
        sum_rule_reference=raw["sum_rule_reference"],
        trace_times=np.asarray(raw["trace_times"], dtype=np.float64),
        trace=raw["trace"],
        final_state=raw["final_state"],
        cell=raw["cell"],
    )


def lambda_max(
    model: Model,
    x0: Any = None,
    inputs: Any = None,
    *,
    steps: int = 10_000,
    transient: int = 1_000,
    dt: float = 0.01,
    renormalize_every: int = 1,
    seed: int = 0,
) -> float:
    """The largest Lyapunov exponent by two nearby trajectories (no Jacobian): the cross-check of
    :func:`lyapunov_spectrum`'s first exponent (ChaosTools' ``lyapunov``). Arguments as there."""
    m = _as_model(model)
    return _emt.lambda_max(
        m._m,
        _opt(x0, "x0", 1),
        _opt(inputs, "inputs", 2),
        steps=steps,
        transient=transient,
        dt=dt,
        renormalize_every=renormalize_every,
        seed=seed,
    )


def _attractor(raw: dict) -> Attractor:
    tm = raw["trivial_multiplier"]
    return Attractor(
        kind=raw["kind"],
        period=raw["period"],
        floquet=_complex(raw["floquet"]),
        trivial_multiplier=None if tm is None else complex(*tm),
        rotation_number=raw["rotation_number"],
        lambda_max=raw["lambda_max"],
        pc_variance=np.asarray(raw["pc_variance"], dtype=np.float64),
        state=raw["state"],
        time_unit=raw["time_unit"],
        cell=raw["cell"],
        evidence=raw["evidence"],
    )


def classify_attractor(
    model: Model,
    x0: Any = None,
    u: Any = None,
    *,
    transient: Optional[float] = None,
    length: Optional[float] = None,
    seed: int = 0,
) -> Attractor:
    """What the run from ``x0`` under the constant input ``u`` settles on: a fixed point, a limit
    cycle (period, Floquet multipliers), an invariant circle (rotation number), chaos, or undecided.

    Parameters
    ----------
    model : Model
    x0 : array_like, shape (n,), optional
        Start (default: the file's h0, else a small state seeded by ``seed``).
    u : array_like, shape (d_in,), optional
        Constant input (default zero).
    transient, length : float, optional
        Steps (maps; default 2000 each) or time units (flows; default 200 each) run first and examined.
    seed : int

    Returns
    -------
    Attractor
    """
    m = _as_model(model)
    raw = _emt.classify_attractor(
        m._m, _opt(x0, "x0", 1), _opt(u, "u", 1), transient=transient, length=length, seed=seed
    )
    return _attractor(raw)


def limit_cycle(
    model: Model,
    x0: Any = None,
    u: Any = None,
    *,
    transient: float = 200.0,
    search: float = 200.0,
    steps: int = 4000,
    max_iters: int = 30,
    tol: float = 1e-10,
    seed: int = 0,
) -> LimitCycle:
    """A flow's limit cycle by shooting: settle for ``transient``, estimate the period from
    section crossings over ``search``, then Newton on ``(x, T)`` with ``steps`` RK4 steps per
    period until ``|phi_T(x) - x| < tol``; Floquet multipliers from the monodromy matrix.

    Parameters
    ----------
    model : Model
        A flow (ctgru, gated); maps: use :func:`classify_attractor`.
    x0, u : array_like, optional
        Start and constant input.
    transient, search : float
        Time units.
    steps, max_iters : int
    tol : float
    seed : int

    Returns
    -------
    LimitCycle

    Raises
    ------
    emt.ParameterError
        The model is a map.
    emt.NotConvergedError
        Newton did not reach ``tol`` in ``max_iters``.
    """
    m = _as_model(model)
    raw = _emt.limit_cycle(
        m._m,
        _opt(x0, "x0", 1),
        _opt(u, "u", 1),
        transient=transient,
        search=search,
        steps=steps,
        max_iters=max_iters,
        tol=tol,
        seed=seed,
    )
    return LimitCycle(
        point=raw["point"],
        period=raw["period"],
        section_period=raw["section_period"],
        residual=raw["residual"],
        trivial_multiplier=complex(*raw["trivial_multiplier"]),
        multipliers=_complex(raw["multipliers"]),
        floquet_exponents=np.asarray(raw["floquet_exponents"], dtype=np.float64),
        stable=raw["stable"],
        liouville=raw["liouville"],
    )


def phase_response(
    model: Model,
    pulses: Mapping[str, Any],
    *,
    pulse_steps: int = 2,
    arrivals: int = 16,
    transient: int = 2000,
    seed: int = 0,
) -> PhaseResponse:
    """Phase response curves of an oscillating map: the phase shift each pulse causes, by arrival
    phase (as ``emt phase``).

    Parameters
    ----------
    model : Model
        A map whose zero-input run settles on a limit cycle or invariant circle.
    pulses : mapping of str to array_like (d_in,)
        One input vector per symbol, held for ``pulse_steps`` steps.
    pulse_steps, arrivals, transient, seed : int

    Returns
    -------
    PhaseResponse

    Raises
    ------
    emt.ParameterError
        The zero-input run does not oscillate.
    """
    m = _as_model(model)
    vectors = {str(k): as_f64(v, str(k), 1) for k, v in pulses.items()}
    raw = _emt.phase_response(
        m._m, vectors, pulse_steps=pulse_steps, arrivals=arrivals, transient=transient, seed=seed
    )
    curves = {
        name: PhaseCurve(
            phases=np.asarray(c["phases"], dtype=np.float64),
            shifts=np.asarray(c["shifts"], dtype=np.float64),
            mean=c["mean"],
            resultant=c["resultant"],
            spread=c["spread"],
        )
        for name, c in raw["curves"].items()
    }
    return PhaseResponse(kind=raw["kind"], period=raw["period"], curves=curves, cell=raw["cell"])


def sweep(
    model: Model,
    param: str,
    start: float,
    stop: float,
    values: int = 21,
    *,
    tol: float = 1e-8,
    starts: int = 32,
    seed: int = 0,
    coord: int = 0,
    length: Optional[float] = None,
    continuation: bool = False,
) -> Sweep:
    """Vary one scalar of the model and follow its fixed points, bifurcations and attractor
    (``emt sweep-param``: the same numbers for the same settings).

    At each value: the fixed points (seeded at the first value by ``starts`` states in the box
    that holds every fixed point, then continued) and the zero-input attractor from the model's
    start (kind, period, range of coordinate ``coord``). Between values: saddle-node, Hopf
    (flows), Neimark-Sacker and flip (maps) points, located to ``tol``. Where a cycle is lost, its
    period is fitted by the saddle-node-on-cycle and homoclinic laws (``period_divergence``).

    Parameters
    ----------
    model : Model
    param : str
        ``"TENSOR[INDEX]"`` (``"weight_hh_l0[4,0]"``, flat or per-axis index) or a metadata
        constant (``"alpha"``, ``"dt"``).
    start, stop : float
        First and last value.
    values : int
        Values, ends included (>= 2).
    tol : float
        Parameter tolerance of the located bifurcations.
    starts, seed : int
        Random starting states of the search at the first value (``seed`` also seeds the
        attractor run's start when the model has no h0).
    coord : int
        State coordinate whose range over the attractor is reported.
    length : float, optional
        Steps (maps) or time (flows) each attractor run examines (default 2000 / 200).
    continuation : bool
        Also continue every fixed point of the first value by pseudo-arclength.

    Returns
    -------
    Sweep
    """
    m = _as_model(model)
    raw = _emt.sweep(
        m._m,
        param,
        float(start),
        float(stop),
        int(values),
        tol=tol,
        starts=starts,
        seed=seed,
        coord=coord,
        length=length,
        continuation=continuation,
    )
    points = [
        [
            {
                "state": f["state"],
                "stable": f["stable"],
                "unstable_dims": f["unstable_dims"],
                "leading_eigenvalue": complex(*f["leading_eigenvalue"]),
            }
            for f in p["fixed_points"]
        ]
        for p in raw["points"]
    ]
    bifurcations = [
        Bifurcation(kind=b["kind"], parameter=b["parameter"], state=b["state"], omega=b.get("omega"), angle=b.get("angle"))
        for b in raw["bifurcations"]
    ]
    return Sweep(
        param=raw["param"],
        original=raw["original"],
        parameters=np.array([p["parameter"] for p in raw["points"]], dtype=np.float64),
        points=points,
        bifurcations=bifurcations,
        attractors=[p["attractor"] for p in raw["points"]],
        periods=np.array([np.nan if p["period"] is None else p["period"] for p in raw["points"]], dtype=np.float64),
        ranges=np.array([p["range"] for p in raw["points"]], dtype=np.float64).reshape(-1, 2),
        period_divergence=raw["period_divergence"],
        branches=raw["branches"],
    )


def certified_fixed_points(
    model: Model, u: Any = None, *, max_boxes: int = 200_000, min_width: float = 1e-9
) -> CertifiedFixedPoints:
    """Every fixed point of a continuous-time GRU in ``[-1, 1]^n`` (where all of them lie), each
    proven unique in its box by an interval Krawczyk test; ``complete`` says whether the census is
    whole (practical for n = 2 or 3).

    Parameters
    ----------
    model : Model
        A ctgru.
    u : array_like, shape (d_in,), optional
    max_boxes : int
        Boxes examined at most.
    min_width : float
        Boxes narrower than this are left undecided.

    Returns
    -------
    CertifiedFixedPoints
    """
    m = _as_model(model)
    raw = _emt.certified_fixed_points(m._m, _opt(u, "u", 1), max_boxes=max_boxes, min_width=min_width)
    return CertifiedFixedPoints(
        xstar=raw["xstar"],
        is_stable=np.asarray(raw["is_stable"], dtype=bool),
        complete=raw["complete"],
        undecided=raw["undecided"],
        boxes=raw["boxes"],
    )


def extract_automaton(
    states: Any, words: Any, letters: int, *, tol: float = 1e-3, min_share: float = 0.05
) -> Automaton:
    """The finite automaton a system implements, read off its states at input-free moments.

    Parameters
    ----------
    states : array_like, shape (B, T + 1, n)
        Run ``b``'s state before each of its ``T`` letters and at the end.
    words : array_like of int, shape (B, T)
        The letters, in ``0..letters-1``.
    letters : int
        Alphabet size.
    tol : float
        Two states are one when ``|x - y| < tol (1 + |x|)``.
    min_share : float
        Clusters with fewer than this share of all states merge into the nearest kept one.

    Returns
    -------
    Automaton
    """
    s = as_f64(states, "states", 3)
    w = np.asarray(words)
    if w.dtype.kind not in "iu":
        raise ShapeError(f"shape mismatch in words: expected integer letters, got dtype {w.dtype}")
    raw = _emt.extract_automaton(s, w.astype(np.int64), int(letters), tol=tol, min_share=min_share)
    return Automaton(**raw)


def variable_basis(
    model: Model,
    task: Optional[str] = None,
    s: Optional[int] = None,
    d: Optional[int] = None,
    *,
    method: str = "dual",
    pca: int = 10,
    seed: int = 0,
    ground_on_input: bool = False,
) -> VariableBasis:
    """The variable-memory basis of an Elman network trained on a variable-binding task
    (Episodic Memory Theory), with decoding accuracy, as ``emt analyze``.

    Parameters
    ----------
    model : Model
        An Elman network.
    task : str, optional
        ``"id1,id2,id3"`` or ``"repeat_copy"`` (default: the model's ``task`` metadata).
    s, d : int, optional
        Variables and bits (default: the metadata, else 8).
    method : str
        ``"dual"`` (the exact dual recursion), ``"paper"`` or ``"least_squares"``.
    pca : int
        PCA components of the unexplained hidden history.
    seed : int
    ground_on_input : bool
        ``method="paper"``: ground on the input weights instead of the readout.

    Returns
    -------
    VariableBasis
    """
    m = _as_model(model)
    raw = _emt.variable_basis(
        m._m, task, s, d, method=method, pca=pca, seed=seed, ground_on_input=ground_on_input
    )
    return VariableBasis(**raw)


def circuit(
    task: str,
    s: int = 8,
    d: int = 8,
    *,
    kind: str = "tanh",
    hidden: Optional[int] = None,
    gain: float = 1.5,
    write: float = 3.0,
    seed: int = 0,
) -> Circuit:
    """A closed-form Elman circuit for a variable-binding task (as ``emt circuit``).

    Parameters
    ----------
    task : str
        ``"id1,id2,id3"`` or ``"repeat_copy"``.
    s, d : int
        Variables and bits.
    kind : str
        ``"tanh"`` (solves every task) or ``"linear"`` (exact when the criterion holds).
    hidden : int, optional
        Hidden size (>= s*d; default max(96, s*d)).
    gain, write : float
        The tanh circuit's gain g > 1 and write strength a > g.
    seed : int
        Of the random basis.

    Returns
    -------
    Circuit
        ``model`` and ``realizable``.
    """
    inner, realizable = _emt.circuit(task, s, d, kind=kind, hidden=hidden, gain=gain, write=write, seed=seed)
    return Circuit(model=Model(inner), realizable=realizable)


def plot_fixed_points(
    model: Model,
    fixed_points: FixedPoints,
    path: Any,
    *,
    u: Any = None,
    steps: int = 200,
    title: Optional[str] = None,
    size: tuple = (1000, 1000),
    seed: int = 0,
) -> None:
    """Draw fixed points as ``emt plot fixed-points`` does (PNG or SVG by the extension, font
    embedded): for a 2-D state, the box with both nullclines, the vector field and runs from the
    search's starts; above 2-D, the plane of the runs' two principal axes. Stable points are
    filled, saddles triangles, fully unstable points rings; the zero-input cycle, if the run from
    the model's start settles on one, is drawn bold.

    Parameters
    ----------
    model : Model
    fixed_points : FixedPoints
        From :func:`find_fixed_points` (its ``starts`` seed the drawn runs).
    path : str or os.PathLike
        ``.png`` or ``.svg``; written atomically.
    u : array_like, shape (d_in,), optional
        The constant input of the runs and the field (default: the first point's, else zero).
    steps : int
        Steps of each run (at least 50).
    title : str, optional
    size : (int, int)
        Pixels.
    seed : int
        Of the start of the zero-input run (when the model has no h0).
    """
    import os

    m = _as_model(model)
    if u is None and len(fixed_points) > 0:
        u = fixed_points.inputs[0]
    _emt.plot_fixed_points(
        m._m,
        fixed_points,
        os.fspath(path),
        u=_opt(u, "u", 1),
        starts=fixed_points.starts,
        steps=steps,
        bound=fixed_points.bound,
        title=title,
        size=tuple(size),
        seed=seed,
    )


def plot_lyapunov(spectrum: LyapunovSpectrum, path: Any, *, title: Optional[str] = None) -> None:
    """Draw a Lyapunov spectrum as ``emt plot lyapunov`` does: the exponents by index above the
    running estimates of the first eight (convergence), PNG or SVG by the extension.

    Parameters
    ----------
    spectrum : LyapunovSpectrum
    path : str or os.PathLike
    title : str, optional
    """
    import os

    _emt.plot_lyapunov(spectrum, os.fspath(path), title=title)


class _Bar:
    """A progress display on stderr: tqdm's bar when installed, else one rewritten line."""

    def __init__(self, unit: str, total: Optional[int] = None) -> None:
        self.unit = unit
        self.total = total
        self.done = 0
        self.postfix = ""
        try:
            from tqdm.auto import tqdm  # type: ignore[import-not-found]

            self.bar: Any = tqdm(total=total, unit=unit, leave=False)
        except ImportError:
            self.bar = None

    def update(self, done: int, total: Optional[int] = None, postfix: str = "") -> None:
        """``done`` of ``total`` units so far."""
        if total is not None and total != self.total:
            self.total = total
            if self.bar is not None:
                self.bar.total = total
        if self.bar is not None:
            self.bar.update(done - self.done)
            if postfix:
                self.bar.set_postfix_str(postfix)
        else:
            sys.stderr.write(f"\r{self.unit} {done}/{self.total} {postfix}")
            sys.stderr.flush()
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            sys.stderr.write("\n")
            sys.stderr.flush()


class _Progress:
    """Training's display: steps with the loss, batch accuracy and last evaluation."""

    def __init__(self, total: int) -> None:
        self.bar = _Bar("steps", total)
        self.eval = float("nan")

    def update(self, event: dict) -> None:
        if event["event"] == "eval":
            self.eval = event["accuracy"]
        if event["event"] == "step":
            self.bar.update(
                event["step"],
                postfix=f"H={event['horizon']} loss {event['loss']:.4f} acc {event['accuracy']:.4f} eval {self.eval:.4f}",
            )

    def close(self) -> None:
        self.bar.close()


def train(
    task: Optional[str] = None,
    *,
    s: int = 8,
    d: int = 8,
    flipflop: Optional[int] = None,
    p_flip: float = 0.05,
    horizon: int = 100,
    cell: str = "elman",
    nonlinearity: str = "tanh",
    hidden: int = 128,
    seed: int = 0,
    max_steps: int = 20_000,
    threads: int = 1,
    optimizer: str = "adam",
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    alpha: float = 0.1,
    dt: float = 0.1,
    noise: float = 0.0,
    rate_penalty: float = 0.0,
    bias: bool = False,
    init: str = "pytorch",
    h0_ones: bool = False,
    callback: Optional[Callable[[dict], Any]] = None,
    progress: bool = True,
) -> tuple:
    """Train a network with ``emt train``'s settings (same defaults, same results for a seed).

    Variable binding (``task``, ``s``, ``d``; the paper's curriculum to 0.999 at H = 200) or the
    flip-flop task (``flipflop`` bits, sequences of ``horizon`` steps).

    Parameters
    ----------
    task : str, optional
        ``"id1,id2,id3"`` or ``"repeat_copy"`` (default).
    s, d : int
    flipflop : int, optional
        Train the flip-flop task with this many bits instead.
    p_flip, horizon : float, int
        Flip-flop pulse probability and sequence length.
    cell : str
        ``"elman"``, ``"gru"``, ``"lstm"``, ``"ctrnn"``, ``"ctgru"``.
    nonlinearity : str
        ``"tanh"``, or ``"relu"`` for elman.
    hidden, seed, max_steps, threads : int
        ``threads`` splits the batch (results are bit-identical for a seed and a thread count).
    optimizer, lr, weight_decay : str, float, float
        ``"adam"`` (coupled L2) or ``"adamw"``.
    alpha, dt, noise, rate_penalty : float
        ctrnn's ``alpha`` and training noise, ctgru's ``dt``, the rate penalty.
    bias, h0_ones : bool
    init : str
        ``"pytorch"`` or ``"glorot"``.
    callback : callable, optional
        Called with a dict after every evaluation (``step``, ``horizon``, ``loss``, ``accuracy``);
        returning ``False`` stops the run. An exception it raises stops the run and propagates.
    progress : bool
        Show a progress bar on stderr (tqdm's when installed).

    Returns
    -------
    (Model, TrainReport)
        Ctrl-C stops the run after the step in flight and returns the model so far (with
        ``report.stop == "interrupted"``).
    """
    bar = _Progress(max_steps) if progress else None

    def observer(event: dict) -> Any:
        if bar is not None:
            bar.update(event)
        if callback is not None and event["event"] == "eval":
            return callback(event)
        return True

    try:
        inner, raw = _emt.train(
            task=task,
            s=s,
            d=d,
            flipflop=flipflop,
            p_flip=p_flip,
            horizon=horizon,
            cell=cell,
            nonlinearity=nonlinearity,
            hidden=hidden,
            seed=seed,
            max_steps=max_steps,
            threads=threads,
            optimizer=optimizer,
            lr=lr,
            weight_decay=weight_decay,
            alpha=alpha,
            dt=dt,
            noise=noise,
            rate_penalty=rate_penalty,
            bias=bias,
            init=init,
            h0_ones=h0_ones,
            observer=observer if (bar is not None or callback is not None) else None,
        )
    finally:
        if bar is not None:
            bar.close()
    report = TrainReport(**raw)
    if report.stop == "interrupted":
        warnings.warn(f"training interrupted at step {report.steps}: returning the model so far", stacklevel=2)
    return Model(inner), report
