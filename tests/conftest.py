"""Every test runs in a folder of its own, so that nothing a test writes lands in the repository.

Tests find their fixtures through `Path(__file__).parent`, never through the working folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _session_workdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Module- and session-scoped fixtures are set up before any per-test folder: give them
    a scratch folder too."""
    path = tmp_path_factory.mktemp("session-cwd")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(path)
        yield path


@pytest.fixture(autouse=True)
def _test_workdir(_session_workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The URL of a throwaway PostgreSQL server for this test session (tests/pgserver.py).

    Locally, tests that need it skip with one line when no server can be started; in CI
    (`CI` set), where `.ci/run` installs PostgreSQL, they fail instead."""
    import os

    from tests.pgserver import PgUnavailable, pg_server

    try:
        context = pg_server()
        url = context.__enter__()
    except PgUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is needed in CI: {exc}")
        pytest.skip(f"no PostgreSQL server here: {exc}")
    try:
        yield url
    finally:
        context.__exit__(None, None, None)
