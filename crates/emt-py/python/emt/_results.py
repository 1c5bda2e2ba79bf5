"""Result types: frozen dataclasses over numpy arrays, picklable, with ``to_dict()``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np


def _plain(value: Any) -> Any:
    """Arrays to nested lists (complex numbers as [re, im]), results to dicts, recursively."""
    if isinstance(value, np.ndarray):
        if np.iscomplexobj(value):
            return np.stack([value.real, value.imag], axis=-1).tolist()
        return value.tolist()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, complex):
        return [value.real, value.imag]
    if isinstance(value, np.generic):
        return value.item()
    return value


class _Result:
    """Shared behaviour: ``to_dict()`` (JSON-ready: arrays as lists, complex as [re, im])."""

    def to_dict(self) -> dict:
        """Every field as plain Python data (arrays as nested lists, complex as ``[re, im]``)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _complex(pairs: Any) -> np.ndarray:
    """``[(re, im), ...]`` to a complex128 array."""
    a = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
    return (a[:, 0] + 1j * a[:, 1]).astype(np.complex128)


@dataclass(frozen=True, eq=False)
class Trajectory(_Result):
    """A simulation.

    Attributes
    ----------
    states : ndarray, shape (T, B, n)
        The full state after each step (an LSTM's ``[h; c]`` per layer; every layer of a stack).
    hidden : ndarray, shape (T, B, H)
        PyTorch's ``output``: the top layer's ``h`` (the whole state for single-layer cells
        without a separate memory).
    outputs : ndarray, shape (T, B, d_out)
        The readout of each state (``d_out = 0`` without a readout).
    """

    states: np.ndarray
    hidden: np.ndarray
    outputs: np.ndarray

    def __repr__(self) -> str:
        t, b, n = self.states.shape
        return f"Trajectory(T={t}, B={b}, n={n}, hidden={self.hidden.shape[-1]}, d_out={self.outputs.shape[-1]})"


@dataclass(frozen=True, eq=False)
class FixedPoints(_Result):
    """Fixed (or slow) points, with FixedPointFinder's attribute names.

    Indexable and maskable like FixedPointFinder's ``FixedPoints``: ``fps[0]``, ``fps[2:5]``,
    ``fps[fps.is_stable]`` give a ``FixedPoints`` of those points (the search counts are kept,
    ``slow`` is dropped).

    Attributes
    ----------
    xstar : ndarray, shape (K, n)
        The points.
    inputs : ndarray, shape (K, d_in)
        The constant input each point is a fixed point under.
    qstar : ndarray, shape (K,)
        ``q = 1/2 |F(x) - x|^2`` (maps) or ``1/2 |f(x)|^2`` (flows) there.
    speed : ndarray, shape (K,)
        ``|F(x) - x|`` per step, or ``|f(x)|`` per unit time.
    is_stable : ndarray of bool, shape (K,)
        Every multiplier inside the unit circle (maps) / every eigenvalue in the left half-plane
        (flows), outside the marginal band.
    is_marginal : ndarray of bool, shape (K,)
        The leading eigenvalue within ``boundary_tol`` of the boundary: undecided.
    unstable_dims : ndarray of int, shape (K,)
        Eigenvalues beyond the boundary.
    eigval_J_xstar : ndarray of complex128, shape (K, n)
        Eigenvalues of the Jacobian, leading first (largest modulus for maps, real part for flows).
    eigvec_J_xstar : ndarray of complex128, shape (K, n, n) or None
        Matching eigenvectors as columns (None when ``decompose_jacobians=False``).
    J_xstar : ndarray, shape (K, n, n) or None
        The Jacobian ``dF/dx`` (maps) or ``df/dx`` (flows) at each point (None when
        ``compute_jacobians=False``).
    slow : FixedPoints or None
        Slow points: local minima of ``q`` above ``tol_q`` (None on an indexed subset).
    n_seeds, n_outliers, n_saturated, n_out_of_bounds, n_inputs : int
        The search: seeds minimised, candidates dropped as outliers, as numerically frozen
        states, as outside the box that holds every fixed point; distinct inputs searched.
    is_flow : bool
        True when the points are zeros of a vector field (ctgru, gated).
    cell : str
        The model's cell.
    starts : ndarray, shape (S, n) or None
        The search's starting states (the runs :func:`emt.plot_fixed_points` draws start there).
    bound : float
        Half-width of the box that holds every fixed point (the 2-D portrait's extent).
    """

    xstar: np.ndarray
    inputs: np.ndarray
    qstar: np.ndarray
    speed: np.ndarray
    is_stable: np.ndarray
    is_marginal: np.ndarray
    unstable_dims: np.ndarray
    eigval_J_xstar: np.ndarray
    eigvec_J_xstar: Optional[np.ndarray] = None
    J_xstar: Optional[np.ndarray] = None
    slow: Optional["FixedPoints"] = None
    n_seeds: int = 0
    n_outliers: int = 0
    n_saturated: int = 0
    n_out_of_bounds: int = 0
    n_inputs: int = 1
    is_flow: bool = False
    cell: str = ""
    starts: Optional[np.ndarray] = None
    bound: float = 1.0

    _PER_POINT = (
        "xstar",
        "inputs",
        "qstar",
        "speed",
        "is_stable",
        "is_marginal",
        "unstable_dims",
        "eigval_J_xstar",
        "eigvec_J_xstar",
        "J_xstar",
    )

    @classmethod
    def _from_raw(cls, raw: dict, search: dict, slow: Optional["FixedPoints"] = None) -> "FixedPoints":
        return cls(
            xstar=raw["xstar"],
            inputs=raw["inputs"],
            qstar=raw["qstar"],
            speed=raw["speed"],
            is_stable=np.asarray(raw["is_stable"], dtype=bool),
            is_marginal=np.asarray(raw["is_marginal"], dtype=bool),
            unstable_dims=np.asarray(raw["unstable_dims"], dtype=np.int64),
            eigval_J_xstar=raw["eigval_J_xstar"],
            eigvec_J_xstar=raw["eigvec_J_xstar"],
            J_xstar=raw["J_xstar"],
            slow=slow,
            n_seeds=search["n_seeds"],
            n_outliers=search["n_outliers"],
            n_saturated=search["n_saturated"],
            n_out_of_bounds=search["n_out_of_bounds"],
            n_inputs=search["n_inputs"],
            is_flow=search["is_flow"],
            cell=search["cell"],
            starts=search["starts"],
            bound=search["bound"],
        )

    @property
    def n(self) -> int:
        """Number of points ``K``."""
        return int(self.xstar.shape[0])

    @property
    def n_stable(self) -> int:
        """Number of stable points."""
        return int(np.count_nonzero(self.is_stable))

    @property
    def state_dim(self) -> int:
        """State size ``n``."""
        return int(self.xstar.shape[1])

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: Any) -> "FixedPoints":
        if isinstance(index, (int, np.integer)):
            if not -self.n <= int(index) < self.n:
                raise IndexError(f"fixed point index {index} out of range for {self.n} points")
            index = [int(index)]
        picked = {
            name: (None if getattr(self, name) is None else getattr(self, name)[index]) for name in self._PER_POINT
        }
        return dataclasses.replace(self, slow=None, **picked)

    def __repr__(self) -> str:
        kind = "zeros of the field" if self.is_flow else "fixed points"
        slow = "" if self.slow is None else f", {self.slow.n} slow points"
        return (
            f"FixedPoints({self.n} {kind} ({self.n_stable} stable) of a {self.state_dim}-dimensional "
            f"{self.cell or 'model'}{slow}; {self.n_seeds} seeds, {self.n_outliers} outliers, "
            f"{self.n_saturated} frozen, {self.n_out_of_bounds} out of bounds)"
        )


@dataclass(frozen=True, eq=False)
class LyapunovSpectrum(_Result):
    """Lyapunov exponents.

    Attributes
    ----------
    exponents : ndarray, shape (k,)
        In descending order, per step (maps) or per unit time (flows); ``-inf`` for a direction
        the map annihilates.
    time_unit : str
        ``"step"`` or ``"time"``.
    kaplan_yorke : float or None
        The Kaplan-Yorke dimension (None when more exponents are needed to decide it).
    sum : float
        Sum of the exponents.
    sum_rule_reference : float or None
        The time average of ``ln|det DF|`` (maps) or ``tr Df`` (flows), which the sum of all
        ``n`` exponents must equal (None when ``k < n``).
    trace_times : ndarray, shape (P,)
        When the running estimates were recorded.
    trace : ndarray, shape (P, k)
        The running estimates (convergence).
    final_state : ndarray, shape (n,)
        Where the run ended.
    cell : str
        The model's cell.
    """

    exponents: np.ndarray
    time_unit: str
    kaplan_yorke: Optional[float]
    sum: float
    sum_rule_reference: Optional[float]
    trace_times: np.ndarray
    trace: np.ndarray
    final_state: np.ndarray
    cell: str

    @property
    def lambda_max(self) -> float:
        """The largest exponent."""
        return float(self.exponents[0])

    def __repr__(self) -> str:
        shown = ", ".join(f"{x:+.4f}" for x in self.exponents[:6])
        more = ", ..." if len(self.exponents) > 6 else ""
        ky = "undetermined" if self.kaplan_yorke is None else f"{self.kaplan_yorke:.4f}"
        return f"LyapunovSpectrum([{shown}{more}] per {self.time_unit}, Kaplan-Yorke {ky}, {self.cell})"


@dataclass(frozen=True, eq=False)
class Attractor(_Result):
    """What a run settles on.

    Attributes
    ----------
    kind : str
        ``"fixed_point"``, ``"limit_cycle"``, ``"invariant_circle"``, ``"chaotic"`` or ``"undecided"``.
    period : float or None
        In steps (maps) or time units (flows).
    floquet : ndarray of complex128
        Floquet multipliers of a cycle, largest first (empty otherwise).
    trivial_multiplier : complex or None
        The multiplier along the flow (about 1 for a flow's cycle).
    rotation_number : float or None
        Of an invariant circle.
    lambda_max : float
        Largest Lyapunov exponent measured on the way.
    pc_variance : ndarray
        Variance along the run's principal components (how many dimensions it fills).
    state : ndarray, shape (n,)
        A state on the attractor.
    time_unit : str
        ``"step"`` or ``"time"``.
    cell : str
        The model's cell.
    evidence : str
        Why this kind (the test that decided it).
    """

    kind: str
    period: Optional[float]
    floquet: np.ndarray
    trivial_multiplier: Optional[complex]
    rotation_number: Optional[float]
    lambda_max: float
    pc_variance: np.ndarray
    state: np.ndarray
    time_unit: str
    cell: str
    evidence: str

    def __repr__(self) -> str:
        unit = "steps" if self.time_unit == "step" else "time units"
        period = "" if self.period is None else f", period {self.period:.6g} {unit}"
        return f"Attractor({self.kind}{period}, lambda_max {self.lambda_max:+.4g}: {self.evidence})"


@dataclass(frozen=True, eq=False)
class LimitCycle(_Result):
    """A flow's periodic orbit found by shooting.

    Attributes
    ----------
    point : ndarray, shape (n,)
        A point on the cycle.
    period : float
        Period in time units.
    section_period : float
        The period measured between crossings of a section (the cross-check).
    residual : float
        ``|phi_T(x) - x|`` at the end of Newton.
    trivial_multiplier : complex
        The multiplier along the flow (1 up to the solve).
    multipliers : ndarray of complex128, shape (n - 1,)
        The other Floquet multipliers, largest first.
    floquet_exponents : ndarray, shape (n - 1,)
        ``ln|multiplier| / T``.
    stable : bool
        Every non-trivial multiplier inside the unit circle.
    liouville : float
        ``|prod(multipliers) - exp(int tr Df dt)|``, relative: the Liouville cross-check.
    """

    point: np.ndarray
    period: float
    section_period: float
    residual: float
    trivial_multiplier: complex
    multipliers: np.ndarray
    floquet_exponents: np.ndarray
    stable: bool
    liouville: float

    def __repr__(self) -> str:
        return f"LimitCycle(period {self.period:.6g}, {'stable' if self.stable else 'unstable'}, residual {self.residual:.1e})"


@dataclass(frozen=True, eq=False)
class PhaseCurve(_Result):
    """One pulse's phase response.

    Attributes
    ----------
    phases : ndarray, shape (A,)
        Arrival phases (radians, one period spread over ``A`` arrivals).
    shifts : ndarray, shape (A,)
        The phase shift each arrival caused (radians, wrapped to (-pi, pi]).
    mean : float
        Circular mean shift.
    resultant : float
        Mean resultant length (1: the same shift at every phase).
    spread : float
        Circular spread ``1 - resultant``.
    """

    phases: np.ndarray
    shifts: np.ndarray
    mean: float
    resultant: float
    spread: float


@dataclass(frozen=True, eq=False)
class PhaseResponse(_Result):
    """Phase response curves of an oscillating map.

    Attributes
    ----------
    kind : str
        The zero-input attractor (``"limit_cycle"`` or ``"invariant_circle"``).
    period : float
        In steps.
    curves : dict of str to PhaseCurve
        One curve per pulse name.
    cell : str
        The model's cell.
    """

    kind: str
    period: float
    curves: dict
    cell: str

    def __repr__(self) -> str:
        shifts = ", ".join(f"{k}: {c.mean:+.4f} rad" for k, c in self.curves.items())
        return f"PhaseResponse({self.kind}, period {self.period:.4f} steps; {shifts})"


@dataclass(frozen=True, eq=False)
class Bifurcation(_Result):
    """A located bifurcation.

    Attributes
    ----------
    kind : str
        ``"saddle_node"``, ``"hopf"``, ``"neimark_sacker"`` or ``"flip"``.
    parameter : float
        Where.
    state : ndarray, shape (n,)
        The fixed point there.
    omega : float or None
        Hopf: the frequency.
    angle : float or None
        Neimark-Sacker: the multipliers' angle.
    """

    kind: str
    parameter: float
    state: np.ndarray
    omega: Optional[float] = None
    angle: Optional[float] = None


@dataclass(frozen=True, eq=False)
class Sweep(_Result):
    """Fixed points along a parameter and the bifurcations between them.

    Attributes
    ----------
    param : str
        The swept scalar (``TENSOR[INDEX]`` or a metadata constant).
    original : float
        Its value in the model.
    parameters : ndarray, shape (V,)
        The values.
    points : list of list of dict
        Per value, its fixed points: ``state``, ``stable``, ``unstable_dims``,
        ``leading_eigenvalue`` (complex).
    bifurcations : list of Bifurcation
        Located between the values, in order.
    attractors : list of str
        Per value, what the zero-input run settles on (``"fixed_point"``, ``"limit_cycle"``, ...).
    periods : ndarray, shape (V,)
        Its period (NaN where it has none).
    ranges : ndarray, shape (V, 2)
        ``[min, max]`` of coordinate ``coord`` over it.
    period_divergence : dict or None
        Where a cycle is lost: ``kind`` (``"saddle_node_on_cycle"`` or ``"homoclinic"``),
        ``critical``, ``residual``, ``fits`` per law, ``periods``, ``parameters``.
    branches : list of dict
        With ``continuation=True``: per first-value fixed point, ``parameters`` (P,), ``states``
        (P, n), ``stable`` (P,), ``folds``, ``end``.
    """

    param: str
    original: float
    parameters: np.ndarray
    points: list
    bifurcations: list
    attractors: list = field(default_factory=list)
    periods: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ranges: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    period_divergence: Optional[dict] = None
    branches: list = field(default_factory=list)

    @property
    def counts(self) -> np.ndarray:
        """Fixed points per value, shape (V,)."""
        return np.array([len(p) for p in self.points], dtype=np.int64)

    def __repr__(self) -> str:
        kinds = ", ".join(f"{b.kind} at {b.parameter:.6g}" for b in self.bifurcations) or "no bifurcation"
        return f"Sweep({self.param} over {len(self.parameters)} values: {kinds})"


@dataclass(frozen=True, eq=False)
class CertifiedFixedPoints(_Result):
    """Fixed points proven by interval arithmetic (each unique in its box).

    Attributes
    ----------
    xstar : ndarray, shape (K, n)
        The points.
    is_stable : ndarray of bool, shape (K,)
    complete : bool
        True when every box was decided: these are *all* the fixed points in the domain.
    undecided : int
        Boxes left undecided.
    boxes : int
        Boxes examined.
    """

    xstar: np.ndarray
    is_stable: np.ndarray
    complete: bool
    undecided: int
    boxes: int

    def __repr__(self) -> str:
        done = "complete" if self.complete else f"INCOMPLETE ({self.undecided} boxes undecided)"
        return f"CertifiedFixedPoints({len(self.xstar)} points, {int(np.count_nonzero(self.is_stable))} stable, {done})"


@dataclass(frozen=True, eq=False)
class Automaton(_Result):
    """A finite automaton read off a system's states.

    Attributes
    ----------
    states : int
        Number of states.
    letters : int
        Alphabet size (letters are ``0..letters-1``).
    start : int
        The start state.
    delta : ndarray of int, shape (states, letters)
        Majority successor (``-1`` where no run went).
    determinism : ndarray, shape (states, letters)
        Share of runs that took the majority successor (NaN where none went).
    labels : ndarray of int, shape (B, T + 1) or None
        Each run's automaton state at each moment.
    """

    states: int
    letters: int
    start: int
    delta: np.ndarray
    determinism: np.ndarray
    labels: Optional[np.ndarray] = None

    def run(self, word: Any) -> Optional[int]:
        """The state reached from ``start`` by ``word`` (None where the table has no entry)."""
        q = self.start
        for c in word:
            q = int(self.delta[q, int(c)])
            if q < 0:
                return None
        return q

    def cyclic_group(self, k: int) -> Optional[tuple]:
        """``(element_of_state, power_of_letter)`` if the automaton is the cyclic group Z_k, else None."""
        from . import _emt

        return _emt.automaton_cyclic_group(np.ascontiguousarray(self.delta, dtype=np.int64), self.start, int(k))

    def __repr__(self) -> str:
        return f"Automaton({self.states} states, {self.letters} letters, start {self.start})"


@dataclass(frozen=True, eq=False)
class VariableBasis(_Result):
    """The variable-memory basis of an Elman network (docs/EMT.md).

    Attributes
    ----------
    method : str
        ``"dual"``, ``"paper"`` or ``"least_squares"``.
    task : str
        Task id ``"id1,id2,id3"``; ``s``, ``d``: variables and bits.
    psi : ndarray, shape (N, s*d)
        The basis vectors (columns), one per (slot, bit).
    psi_dual : ndarray, shape (s*d, N)
        The dual basis: ``psi_dual @ h`` reads the variables out of a hidden state.
    phi_emp : ndarray, shape (s*d, s*d)
        ``W_hh`` written in the basis.
    phi_theory : ndarray, shape (s*d, s*d)
        The task's operator Phi.
    coordinates : list of int
        Which of Phi's coordinates the basis spans.
    projection : ndarray, shape (200, s*d) or None
        One evaluation sequence's hidden states in the basis.
    phi_error : float
        ``max |phi_emp - phi_theory|``.
    max_closure_residual : float
    gain : float
    decoding_accuracy : float
        Mean sign accuracy of the decoded variables.
    decoding_by_slot : list of float or None
        Per slot, oldest first.
    accuracy_h200 : float
        The network's task accuracy at H = 200.
    spectral_error_rad : float
        Spectral error of ``W_hh`` against Phi (eigenvalues with ``|lambda| > 0.9``).
    methods : dict
        The three extractions side by side (summary numbers, or ``error``).
    """

    method: str
    task: str
    s: int
    d: int
    psi: np.ndarray
    psi_dual: np.ndarray
    phi_emp: np.ndarray
    phi_theory: np.ndarray
    coordinates: list
    projection: Optional[np.ndarray]
    phi_error: float
    max_closure_residual: float
    gain: float
    decoding_accuracy: float
    decoding_by_slot: list
    accuracy_h200: float
    spectral_error_rad: float
    methods: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"VariableBasis({self.method}: {len(self.coordinates)} coordinates, phi_error {self.phi_error:.3e}, "
            f"decoding {self.decoding_accuracy:.4f}, task accuracy {self.accuracy_h200:.4f})"
        )


@dataclass(frozen=True, eq=False)
class TrainReport(_Result):
    """How a training run ended.

    Attributes
    ----------
    steps : int
    stop : str
        ``"target_reached"``, ``"max_steps"``, ``"observer"`` (the callback returned False) or
        ``"interrupted"`` (Ctrl-C).
    train_seconds, eval_seconds : float
    eval_horizon : int
    eval_accuracy, eval_loss, final_loss : float
    level : int
        Curriculum level reached.
    cell : str
    """

    steps: int
    stop: str
    train_seconds: float
    eval_seconds: float
    eval_horizon: int
    eval_accuracy: float
    eval_loss: float
    final_loss: float
    level: int
    cell: str


@dataclass(frozen=True, eq=False)
class Circuit(_Result):
    """A closed-form circuit.

    Attributes
    ----------
    model : Model
        The Elman network.
    realizable : bool
        Whether the linear circuit realises the task exactly (docs/EMT.md's criterion; always
        True for the tanh circuit, which solves every task).
    """

    model: Any
    realizable: bool


@dataclass(frozen=True, eq=False)
class Report(_Result):
    """A reproduction's report: the JSON the ``emt reproduce`` command prints, as attributes.

    Attributes
    ----------
    paper : str
    data : dict
        The whole report (``report["key"]`` and ``report.key`` read it).
    """

    paper: str
    data: dict

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "data")
        if name in data:
            return data[name]
        raise AttributeError(f"the {object.__getattribute__(self, 'paper')} report has no {name!r}")

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def keys(self) -> Any:
        """The report's keys."""
        return self.data.keys()

    def to_dict(self) -> dict:
        """The report as plain data (what ``emt reproduce`` prints)."""
        return dict(self.data)

    def __repr__(self) -> str:
        return f"Report({self.paper}: {', '.join(sorted(self.data))})"
