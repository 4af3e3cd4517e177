"""`make run` through the real switch: these tests start their own kumo and FreeSWITCH with
`fsctl run`, so the session's e2e environment (tests/e2e/conftest.py) is not started for them."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _e2e_record():
    """Replaces the parent folder's per-test recorder, which would start the e2e session."""
    yield
