"""maturin's PEP 517 backend, told never to fetch a Rust toolchain.

Without cargo on PATH, maturin would download one (through puccinialin); emt builds only with
the machine's own toolchain, so a missing cargo is an error that says so.
"""

import os

os.environ.setdefault("MATURIN_NO_INSTALL_RUST", "1")

from maturin import (  # noqa: E402  (the environment must be set before maturin reads it)
    build_editable,
    build_sdist,
    build_wheel,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
    prepare_metadata_for_build_editable,
    prepare_metadata_for_build_wheel,
)

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "get_requires_for_build_editable",
    "get_requires_for_build_sdist",
    "get_requires_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]
