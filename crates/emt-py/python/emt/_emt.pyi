# Type stubs of the compiled module emt._emt (crates/emt-py/src). tests/test_stubs.py checks
# every name and parameter here against the built extension.
from typing import Any, Callable, Optional

import numpy as np
import numpy.typing as npt

__version__: str

F64 = npt.NDArray[np.float64]

class EmtError(ValueError): ...
class ShapeError(EmtError): ...
class NonFiniteError(EmtError): ...
class ParameterError(EmtError): ...
class TaskIdError(EmtError): ...
class SingularError(EmtError): ...
class FormatError(EmtError): ...
class NotConvergedError(EmtError): ...
class ParseError(EmtError): ...
class DivergedError(EmtError): ...

class Model:
    @staticmethod
    def load(
        path: str,
        cell: Optional[str] = None,
        nonlinearity: Optional[str] = None,
        prefix: Optional[str] = None,
        readout: Optional[str] = None,
    ) -> Model: ...
    @staticmethod
    def from_arrays(
        tensors: dict[str, F64],
        dtypes: dict[str, str],
        metadata: dict[str, str],
        cell: Optional[str] = None,
        nonlinearity: Optional[str] = None,
        prefix: Optional[str] = None,
        readout: Optional[str] = None,
    ) -> Model: ...
    @staticmethod
    def from_bytes(bytes: bytes) -> Model: ...
    def to_bytes(self) -> bytes: ...
    def save(self, path: str, dtype: Optional[str] = None) -> None: ...
    def tensors(self) -> tuple[dict[str, F64], dict[str, str]]: ...
    @property
    def cell(self) -> str: ...
    @property
    def state_dim(self) -> int: ...
    @property
    def input_dim(self) -> int: ...
    @property
    def output_dim(self) -> int: ...
    @property
    def num_layers(self) -> int: ...
    @property
    def nonlinearity(self) -> str: ...
    @property
    def is_flow(self) -> bool: ...
    @property
    def step_time(self) -> float: ...
    @property
    def dtype(self) -> str: ...
    @property
    def h0(self) -> Optional[F64]: ...
    @property
    def hidden_range(self) -> tuple[int, int]: ...
    def start_state(self, seed: int) -> F64: ...
    def initial_state(self, h0: F64, c0: Optional[F64] = None) -> F64: ...
    def simulate(self, inputs: F64, h0: Optional[F64] = None) -> tuple[F64, F64]: ...
    def step(self, x: F64, u: F64) -> F64: ...
    def field(self, x: F64, u: F64) -> F64: ...
    def jacobian(self, x: F64, u: F64) -> F64: ...
    def input_jacobian(self, x: F64, u: F64) -> F64: ...
    def readout(self, states: F64) -> F64: ...

def find_fixed_points(
    model: Model,
    initial_states: Optional[F64] = None,
    inputs: Optional[F64] = None,
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
    progress: Optional[Callable[[int, int], Any]] = None,
) -> dict[str, Any]: ...
def sample_states(states: F64, n_inits: int, noise_scale: float = 0.0, seed: int = 0) -> F64: ...
def lyapunov_spectrum(
    model: Model,
    x0: Optional[F64] = None,
    inputs: Optional[F64] = None,
    *,
    k: Optional[int] = None,
    steps: int = 10000,
    transient: int = 1000,
    dt: float = 0.01,
    renormalize_every: int = 1,
    seed: int = 0,
) -> dict[str, Any]: ...
def lambda_max(
    model: Model,
    x0: Optional[F64] = None,
    inputs: Optional[F64] = None,
    *,
    steps: int = 10000,
    transient: int = 1000,
    dt: float = 0.01,
    renormalize_every: int = 1,
    seed: int = 0,
) -> float: ...
def classify_attractor(
    model: Model,
    x0: Optional[F64] = None,
    u: Optional[F64] = None,
    *,
    transient: Optional[float] = None,
    length: Optional[float] = None,
    seed: int = 0,
) -> dict[str, Any]: ...
def limit_cycle(
    model: Model,
    x0: Optional[F64] = None,
    u: Optional[F64] = None,
    *,
    transient: float = 200.0,
    search: float = 200.0,
    steps: int = 4000,
    max_iters: int = 30,
    tol: float = 1e-10,
    seed: int = 0,
) -> dict[str, Any]: ...
def phase_response(
    model: Model,
    pulses: dict[str, F64],
    *,
    pulse_steps: int = 2,
    arrivals: int = 16,
    transient: int = 2000,
    seed: int = 0,
) -> dict[str, Any]: ...
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
) -> dict[str, Any]: ...
def certified_fixed_points(
    model: Model, u: Optional[F64] = None, *, max_boxes: int = 200000, min_width: float = 1e-9
) -> dict[str, Any]: ...
def train(
    *,
    task: Optional[str] = None,
    s: int = 8,
    d: int = 8,
    flipflop: Optional[int] = None,
    p_flip: float = 0.05,
    horizon: int = 100,
    cell: str = "elman",
    nonlinearity: str = "tanh",
    hidden: int = 128,
    seed: int = 0,
    max_steps: int = 20000,
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
    observer: Optional[Callable[[dict[str, Any]], Any]] = None,
    observe_every: int = 10,
) -> tuple[Model, dict[str, Any]]: ...
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
) -> tuple[Model, bool]: ...
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
) -> dict[str, Any]: ...
def extract_automaton(
    states: F64,
    words: npt.NDArray[np.int64],
    letters: int,
    *,
    tol: float = 1e-3,
    min_share: float = 0.05,
) -> dict[str, Any]: ...
def automaton_cyclic_group(
    delta: npt.NDArray[np.int64], start: int, k: int
) -> Optional[tuple[list[int], list[int]]]: ...
def reproduce(
    paper: str,
    quick: bool,
    overrides: dict[str, Any],
    say: Optional[Callable[[str], Any]] = None,
) -> str: ...
def plot_fixed_points(
    model: Model,
    fixed_points: Any,
    path: str,
    *,
    u: Optional[F64] = None,
    starts: Optional[F64] = None,
    steps: int = 200,
    bound: float = 1.0,
    title: Optional[str] = None,
    size: tuple[int, int] = (1000, 1000),
    seed: int = 0,
) -> None: ...
def plot_lyapunov(spectrum: Any, path: str, *, title: Optional[str] = None) -> None: ...
