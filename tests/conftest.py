"""Shared fixtures: the real-data folder (``TSMTL_DATA_DIR``) and tiny generated data."""

from __future__ import annotations

import os

import pytest

from tsmtl.config import data_dir


@pytest.fixture(scope="session")
def real_data_dir():
    """``$TSMTL_DATA_DIR`` (default ``../shared/data``).

    Missing data skips the test on a developer machine but fails it in CI
    (``CI=true``), where ``.ci/run`` guarantees the folder.
    """
    root = data_dir()
    if not (root / "SHA256SUMS").exists():
        msg = f"real datasets not found at {root.resolve()} (set TSMTL_DATA_DIR)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return root
