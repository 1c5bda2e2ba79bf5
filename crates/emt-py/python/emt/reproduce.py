"""The reproductions of ``emt reproduce``, as calls: each returns its report.

Settings are the paper's (``quick=False``) or the fast check's (``quick=True``), and any keyword
overrides one of them by the name of its ``emt_repro`` settings field (an unknown name is an
error). Progress lines go to ``say`` (default: nowhere; ``say=print`` shows them).

>>> import emt
>>> report = emt.reproduce.gru(quick=True, out="out/gru")   # doctest: +SKIP
>>> report.constructed_u_h_3i                                # doctest: +SKIP
{'fixed_points': 9, 'stable': 4}
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Optional

from . import _emt
from ._results import Report


def _run(paper: str, quick: bool, say: Optional[Callable[[str], Any]], overrides: dict) -> Report:
    settings = {k: (os.fspath(v) if isinstance(v, os.PathLike) else v) for k, v in overrides.items()}
    return Report(paper=paper, data=json.loads(_emt.reproduce(paper, bool(quick), settings, say)))


def gating(quick: bool = True, say: Optional[Callable[[str], Any]] = None, **settings: Any) -> Report:
    """The theory-of-gating paper: zero-state stability, timescales, the chaos transitions, the
    input-driven fixed points and their census (``emt reproduce gating``).

    Parameters
    ----------
    quick : bool
        The fast check's settings (N = 100) instead of the paper's (N = 400, minutes).
    say : callable, optional
        Called with one progress line per panel.
    **settings
        Overrides: ``n``, ``seed``, ``g_h``, ``alpha_r``, ``inputs``, ``threads``, ``figure`` (a
        path to draw the figure to), ... (``emt_repro::gating::GatingSettings``).

    Returns
    -------
    Report
    """
    return _run("gating", quick, say, settings)


def gru(quick: bool = True, say: Optional[Callable[[str], Any]] = None, **settings: Any) -> Report:
    """The continuous-time GRU paper: multistability, limit cycles, the SNIC, pseudo-line
    attractors, the certified census (``emt reproduce gru``); networks are saved under ``out``.

    Parameters
    ----------
    quick : bool
    say : callable, optional
    **settings
        Overrides: ``out`` (directory, default ``runs/gru``), ``samples``, ``seed``, ``line_steps``,
        ... (``emt_repro::gru::GruSettings``).

    Returns
    -------
    Report
    """
    return _run("gru", quick, say, settings)


def phase_codes(quick: bool = True, say: Optional[Callable[[str], Any]] = None, **settings: Any) -> Report:
    """The SET-task paper: trains networks, extracts their automata and phase codes
    (``emt reproduce phase-codes``); networks are saved under ``out``.

    Parameters
    ----------
    quick : bool
    say : callable, optional
    **settings
        Overrides: ``out`` (default ``runs/phase_codes``), ``seeds``, ``epochs``, ``hidden``,
        ``repeats`` (``emt_repro::phase_codes::PhaseSettings``).

    Returns
    -------
    Report
    """
    return _run("phase_codes", quick, say, settings)
