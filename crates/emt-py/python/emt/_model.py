"""``emt.Model``: a recurrent network of any cell, from a file, a state dict or a torch module."""

from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Union

import numpy as np

from . import _emt
from ._results import Trajectory

PathLike = Union[str, "os.PathLike[str]"]

#: PyTorch module class names and the cell each one is.
_TORCH_CELLS = {"RNN": "elman", "GRU": "gru", "LSTM": "lstm"}


def _to_numpy(value: Any, what: str) -> np.ndarray:
    """A numpy array from an array or a torch tensor (duck-typed: ``.detach().cpu().numpy()``)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in "fiu" or array.dtype.kind == "b":
        raise _emt.FormatError(f"invalid file state dict: tensor {what} has dtype {array.dtype}, not a real number")
    return array


def _dtype_name(array: np.ndarray, what: str) -> str:
    if array.dtype == np.float32:
        return "f32"
    if array.dtype == np.float64:
        return "f64"
    raise _emt.FormatError(
        f"invalid file state dict: tensor {what} has dtype {array.dtype}; emt reads float32 and float64 "
        "(convert with .float() or .double())"
    )


def as_f64(value: Any, what: str, ndim: Optional[int] = None) -> np.ndarray:
    """``value`` as a float64 array (no copy when it already is one), with ``ndim`` checked."""
    array = np.asarray(_to_numpy(value, what), dtype=np.float64)
    if ndim is not None and array.ndim != ndim:
        raise _emt.ShapeError(f"shape mismatch in {what}: expected {ndim} dimensions, got {array.shape}")
    return array


class Model:
    """A recurrent network of any cell: elman (tanh / relu), gru, lstm, ctrnn, ctgru, gated,
    oscillator, and stacks of PyTorch layers, with an optional readout.

    Immutable. Built by :meth:`load`, :meth:`from_state_dict`, :meth:`from_torch`, or by
    :func:`emt.train` and :func:`emt.circuit`. Picklable (as its safetensors bytes).

    Examples
    --------
    >>> import emt
    >>> m = emt.Model.load("docs/models/ctgru_rotation.safetensors")  # doctest: +SKIP
    >>> m.cell, m.state_dim  # doctest: +SKIP
    ('ctgru', 2)
    """

    __slots__ = ("_m",)

    def __init__(self, inner: "_emt.Model") -> None:
        if not isinstance(inner, _emt.Model):
            raise TypeError("build a Model with Model.load, Model.from_state_dict or Model.from_torch")
        self._m = inner

    # --- construction -----------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: PathLike,
        *,
        cell: Optional[str] = None,
        nonlinearity: Optional[str] = None,
        prefix: Optional[str] = None,
        readout: Optional[str] = None,
    ) -> "Model":
        """Read a safetensors model file: emt's, or a PyTorch state dict saved with safetensors.

        Parameters
        ----------
        path : str or os.PathLike
        cell : str, optional
            The cell of a file that does not say (``"rnn"``/``"elman"``, ``"gru"``, ``"lstm"``, ...);
            else read from the metadata or the shapes.
        nonlinearity : str, optional
            ``"tanh"`` or ``"relu"`` for an Elman file without that metadata.
        prefix, readout : str, optional
            Module prefixes of the recurrent tensors (``"rnn"`` for ``rnn.weight_ih_l0``) and of the
            readout ``Linear`` (``"fc"``), where a whole module's state dict leaves a choice.

        Raises
        ------
        FileNotFoundError, PermissionError, OSError
            The file cannot be read.
        emt.FormatError
            The file is not a model file emt can read exactly (a tensor or metadata key it would
            not use is an error, never ignored).
        """
        return cls(_emt.Model.load(os.fspath(path), cell, nonlinearity, prefix, readout))

    @classmethod
    def from_state_dict(
        cls,
        state_dict: Mapping[str, Any],
        cell: Optional[str] = None,
        nonlinearity: str = "tanh",
        prefix: Optional[str] = None,
        readout: Optional[str] = None,
        *,
        metadata: Optional[Mapping[str, Any]] = None,
    ) -> "Model":
        """A model from a PyTorch ``state_dict`` (numpy arrays or CPU torch tensors).

        torch is never imported: tensors are read through ``.detach().cpu().numpy()``.

        Parameters
        ----------
        state_dict : mapping of str to array
            ``weight_ih_l0`` ``(G*H, d_in)``, ``weight_hh_l0`` ``(G*H, H)``, optional biases, more
            layers ``_l1 ...``, and optionally a readout ``weight`` ``(d_out, H)`` / ``bias``; or a
            whole module's (``rnn.weight_ih_l0``, ``fc.weight``, ...) with ``prefix`` / ``readout``.
            float32 tensors are stored as f32, float64 as f64.
        cell : str, optional
            ``"rnn"``, ``"gru"``, ``"lstm"``, ... (else read from the shapes: ``G`` = 1, 3, 4).
        nonlinearity : str
            The Elman nonlinearity, ``"tanh"`` or ``"relu"`` (PyTorch's ``nn.RNN(nonlinearity=)``).
        prefix, readout : str, optional
            Module prefixes, as in :meth:`load`.
        metadata : mapping, optional
            What a model file's metadata would say (``alpha`` of a ctrnn, ``dt`` of a ctgru, ``task``...).

        Raises
        ------
        emt.FormatError
            A tensor the cell would not use, a missing one, a dtype other than float32/float64.
        emt.ShapeError
            Tensors whose shapes do not fit together.
        """
        tensors, dtypes = {}, {}
        for name, value in state_dict.items():
            array = _to_numpy(value, str(name))
            dtypes[str(name)] = _dtype_name(array, str(name))
            tensors[str(name)] = np.asarray(array, dtype=np.float64)
        meta = {str(k): str(v) for k, v in (metadata or {}).items()}
        return cls(_emt.Model.from_arrays(tensors, dtypes, meta, cell, nonlinearity, prefix, readout))

    @classmethod
    def from_torch(cls, module: Any, readout: Any = None) -> "Model":
        """A model from a PyTorch ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` (and an ``nn.Linear`` readout).

        Duck-typed: the module's class name, ``state_dict()``, ``nonlinearity`` (RNN),
        and ``bidirectional`` are read; torch is never imported.

        Parameters
        ----------
        module : torch.nn.RNN, torch.nn.GRU or torch.nn.LSTM
            Unidirectional, any number of layers, with or without biases (an LSTM's ``proj_size`` too).
        readout : torch.nn.Linear, optional
            Maps the top layer's ``h`` to outputs.

        Raises
        ------
        emt.ParameterError
            Another module type, or a bidirectional module.
        """
        kind = type(module).__name__
        if kind not in _TORCH_CELLS:
            raise _emt.ParameterError(
                f"invalid parameter module = {kind}: must be torch.nn.RNN, GRU or LSTM "
                "(for another module, pass its state_dict() to Model.from_state_dict)"
            )
        if getattr(module, "bidirectional", False):
            raise _emt.ParameterError(f"invalid parameter module = {kind}(bidirectional=True): emt reads one direction")
        state = {f"rnn.{k}": v for k, v in module.state_dict().items()}
        if readout is not None:
            if type(readout).__name__ != "Linear":
                raise _emt.ParameterError(f"invalid parameter readout = {type(readout).__name__}: must be torch.nn.Linear")
            state.update({f"fc.{k}": v for k, v in readout.state_dict().items()})
        nonlinearity = getattr(module, "nonlinearity", "tanh") if kind == "RNN" else "tanh"
        return cls.from_state_dict(
            state,
            cell=_TORCH_CELLS[kind],
            nonlinearity=nonlinearity,
            prefix="rnn",
            readout="fc" if readout is not None else None,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        """A model from safetensors bytes (:meth:`to_bytes`)."""
        return cls(_emt.Model.from_bytes(bytes(data)))

    def to_bytes(self) -> bytes:
        """The model file as safetensors bytes."""
        return self._m.to_bytes()

    def save(self, path: PathLike, dtype: Optional[str] = None) -> None:
        """Write the model file atomically (``dtype`` ``"f32"`` / ``"f64"``; default: its own)."""
        self._m.save(os.fspath(path), dtype)

    def state_dict(self) -> dict:
        """The tensors (PyTorch names, as the file stores them), float64 numpy arrays."""
        tensors, _ = self._m.tensors()
        return tensors

    # --- properties ---------------------------------------------------------------------------

    @property
    def cell(self) -> str:
        """``"elman"``, ``"gru"``, ``"lstm"``, ``"ctrnn"``, ``"ctgru"``, ``"gated"`` or ``"oscillator"``."""
        return self._m.cell

    @property
    def state_dim(self) -> int:
        """State size ``n`` (an LSTM's ``[h; c]`` per layer; a stack's layers together)."""
        return self._m.state_dim

    @property
    def input_dim(self) -> int:
        """Input size ``d_in``."""
        return self._m.input_dim

    @property
    def output_dim(self) -> int:
        """Readout size ``d_out`` (0 without a readout)."""
        return self._m.output_dim

    @property
    def num_layers(self) -> int:
        """PyTorch layers."""
        return self._m.num_layers

    @property
    def nonlinearity(self) -> str:
        """The Elman nonlinearity (``"tanh"`` for every other cell)."""
        return self._m.nonlinearity

    @property
    def is_flow(self) -> bool:
        """True for continuous-time cells (ctgru, gated), whose fixed points are zeros of ``f``."""
        return self._m.is_flow

    @property
    def step_time(self) -> float:
        """Time one step covers (a flow's Euler ``dt``; 1 for maps)."""
        return self._m.step_time

    @property
    def dtype(self) -> str:
        """Storage dtype, ``"f32"`` or ``"f64"``."""
        return self._m.dtype

    @property
    def h0(self) -> Optional[np.ndarray]:
        """The file's initial state ``(n,)``, or None."""
        return self._m.h0

    @property
    def metadata(self) -> dict:
        """The file's metadata (task, seed, step, cell constants ...)."""
        return self._m.tensors()[1]

    # --- running ------------------------------------------------------------------------------

    def _h0_batch(self, h0: Any, batch: int) -> Optional[np.ndarray]:
        """``h0`` as ``(B, n)`` from ``(n,)``, ``(B, n)``, PyTorch's ``(L, B, H)`` or ``(h0, c0)``."""
        if h0 is None:
            return None
        if isinstance(h0, tuple):
            if len(h0) != 2:
                raise _emt.ShapeError(f"shape mismatch in h0: expected an array or (h0, c0), got a {len(h0)}-tuple")
            h, c = as_f64(h0[0], "h0", 3), as_f64(h0[1], "c0", 3)
        else:
            h, c = as_f64(h0, "h0"), None
            if h.ndim == 1:
                return np.tile(h, (batch, 1))
            if h.ndim == 2:
                return h
        if h.ndim != 3 or h.shape[1] != batch or (c is not None and (c.ndim != 3 or c.shape[1] != batch)):
            raise _emt.ShapeError(
                f"shape mismatch in h0: expected (n,), (B, n) or PyTorch's (L, B, H) with B = {batch}, got {h.shape}"
            )
        rows = [
            self._m.initial_state(h[:, b : b + 1, :], None if c is None else c[:, b : b + 1, :]) for b in range(batch)
        ]
        return np.stack(rows) if rows else np.zeros((0, self.state_dim))

    def simulate(self, inputs: Any, h0: Any = None, batch_first: bool = False) -> Trajectory:
        """Run the network on a batch of input sequences.

        Parameters
        ----------
        inputs : array_like, shape (T, B, d_in) (or (B, T, d_in) with ``batch_first``)
        h0 : array_like, optional
            The initial state: ``(n,)`` for every sequence, ``(B, n)``, or PyTorch's ``h0``
            ``(L, B, H)`` (a tuple ``(h0, c0)`` for an LSTM). Default: the file's ``h0``, else zeros.
        batch_first : bool
            As PyTorch's: inputs and results are ``(B, T, ...)``.

        Returns
        -------
        Trajectory
            ``states`` (T, B, n), ``hidden`` (T, B, H), ``outputs`` (T, B, d_out).

        Raises
        ------
        emt.ShapeError, emt.NonFiniteError
            Wrong shapes, NaN or inf in the inputs or h0.
        emt.DivergedError
            The state became non-finite.
        """
        x = as_f64(inputs, "inputs", 3)
        if batch_first:
            x = x.transpose(1, 0, 2)
        start = self._h0_batch(h0, x.shape[1])
        states, outputs = self._m.simulate(x, start)
        lo, hi = self._m.hidden_range
        hidden = states[:, :, lo:hi]
        if batch_first:
            states, hidden, outputs = (a.transpose(1, 0, 2) for a in (states, hidden, outputs))
        return Trajectory(states=states, hidden=hidden, outputs=outputs)

    def _u(self, u: Any) -> np.ndarray:
        return np.zeros(self.input_dim) if u is None else as_f64(u, "input", 1)

    def step(self, x: Any, u: Any = None) -> np.ndarray:
        """One step of the cell's map ``(n,)`` from ``x`` ``(n,)`` under ``u`` ``(d_in,)`` (default 0);
        for a flow, the Euler step of its ``dt``."""
        return self._m.step(as_f64(x, "state", 1), self._u(u))

    def field(self, x: Any, u: Any = None) -> np.ndarray:
        """The vector field ``f(x, u)`` ``(n,)`` of a flow (ctgru, gated); ParameterError for maps."""
        return self._m.field(as_f64(x, "state", 1), self._u(u))

    def jacobian(self, x: Any, u: Any = None) -> np.ndarray:
        """The Jacobian ``(n, n)`` of what fixed points solve: ``dF/dx`` of a map, ``df/dx`` of a flow."""
        return self._m.jacobian(as_f64(x, "state", 1), self._u(u))

    def input_jacobian(self, x: Any, u: Any = None) -> np.ndarray:
        """``dF/du`` (maps) or ``df/du`` (flows), shape ``(n, d_in)``."""
        return self._m.input_jacobian(as_f64(x, "state", 1), self._u(u))

    def readout(self, states: Any) -> np.ndarray:
        """The readout of states ``(K, n)``: ``(K, d_out)``."""
        return self._m.readout(as_f64(states, "states", 2))

    def start_state(self, seed: int = 0) -> np.ndarray:
        """Where a zero-input analysis starts ``(n,)``: the file's h0, else a small seeded state."""
        return self._m.start_state(int(seed))

    # --- Python protocol ----------------------------------------------------------------------

    def __reduce__(self) -> tuple:
        return (Model.from_bytes, (self.to_bytes(),))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Model) and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return repr(self._m)
