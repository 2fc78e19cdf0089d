"""Run a risky call in a child process under an address-space limit, so a regression cannot take the machine down.

``run_limited(code, limit_mb)`` runs ``code`` with ``python -c`` under ``RLIMIT_AS`` (and a timeout)
and returns the finished process: a test then checks the one-line error the code printed, or that
it did not run out of memory. The child inherits the environment (data path, cache, offline).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap


def _limit(limit_bytes: int):  # type: ignore[no-untyped-def]
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return apply


def run_limited(code: str, limit_mb: int = 1024, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -c code`` under an address-space limit of ``limit_mb`` MiB; stdout and stderr captured."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit(limit_mb * 2**20),  # noqa: PLW1509 - no threads in the test process are at risk here
    )


def cli_limited(args: list[str], limit_mb: int = 1024, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m codecbench ARGS`` under the same limit."""
    return subprocess.run(
        [sys.executable, "-m", "codecbench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_limit(limit_mb * 2**20),  # noqa: PLW1509
    )


def one_line_error(stderr: str) -> str:
    """The single non-empty line a failed command printed (asserting there is exactly one, no traceback)."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert len(lines) == 1, f"expected one line, got:\n{stderr[-3000:]}"
    return lines[0]
