"""Count the cases the fuzz tests run, print them per test and in total, and hold CI to a minimum.

A fuzz test takes the ``fuzz_cases`` fixture and calls it once per generated case (a request sent);
the count travels with the test's report (``user_properties``, which pytest-xdist carries back from
its workers), so the last lines of a run read, for example::

    ------------------------------- fuzz cases -------------------------------
       2400  tests/security/test_fuzz_web.py::test_query_strings[sqlite]
      ...
      10512  in total (at least 10000 required by FUZZ_MIN_CASES)

``FUZZ_MIN_CASES`` (set by .ci/run) fails the run when fewer cases ran than that.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

PROPERTY = "fuzz_cases"
_counts: dict[str, int] = {}


class CaseCounter:
    """Call it once per case; ``count`` is how many ran."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, n: int = 1) -> None:
        self.count += n


@pytest.fixture
def fuzz_cases(request: pytest.FixtureRequest) -> Iterator[Callable[[int], None]]:
    counter = CaseCounter()
    yield counter
    request.node.user_properties.append((PROPERTY, counter.count))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "teardown":
        return
    for name, value in report.user_properties:
        if name == PROPERTY:
            _counts[report.nodeid] = int(value)


def _minimum() -> int:
    return int(os.environ.get("FUZZ_MIN_CASES") or 0)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if not _counts or hasattr(config, "workerinput"):
        return
    terminalreporter.write_sep("-", "fuzz cases")
    for nodeid, count in sorted(_counts.items()):
        terminalreporter.write_line(f"{count:7d}  {nodeid}")
    total = sum(_counts.values())
    minimum = _minimum()
    required = f" (at least {minimum} required by FUZZ_MIN_CASES)" if minimum else ""
    terminalreporter.write_line(f"{total:7d}  in total{required}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or exitstatus != 0:
        return
    minimum = _minimum()
    total = sum(_counts.values())
    if minimum and total < minimum:
        session.config.get_terminal_writer().line(
            f"fuzz: only {total} cases ran, FUZZ_MIN_CASES={minimum} asks for more", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
