"""Helpers shared by test modules: where the real test footage and labels live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REQUIRE_ENV = "BALLTRACK_REQUIRE_SHARED"


def shared_realdata() -> Path:
    """``<repo>/../shared/realdata``: real clips and label files (see its README).

    Skips the calling test when the folder is absent (a user's clone has no
    ``../shared``), unless ``BALLTRACK_REQUIRE_SHARED=1`` (set by CI), which makes it a
    failure instead.
    """
    return require_dir(Path(__file__).resolve().parents[1] / ".." / "shared" / "realdata")


def require_dir(path: Path) -> Path:
    """``path`` resolved if it is a directory, else skip (or fail under
    ``BALLTRACK_REQUIRE_SHARED=1``) with a reason naming it."""
    resolved = path.resolve()
    if resolved.is_dir():
        return resolved
    reason = f"shared real test data not found at {resolved} (only present beside the project's own checkout)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires it", pytrace=False)
    pytest.skip(reason)
