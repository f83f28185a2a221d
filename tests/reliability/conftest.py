"""Fixtures of the reliability suites (issue 7): the local stack as a process, demo data, figures.

Every suite records what it tried (cases, faults, messages sent/applied/rejected/duplicated) in
:data:`FIGURES`; at the end of the run they are printed and written to ``last-run.json`` beside this
file (git-ignored), which is where ``docs/reliability.md`` takes its figures from.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import sessionmaker

from flip_local.demo import DemoSummary, seed_demo
from tests.conftest import TEST_TABLES
from tests.dev_stack import RunningStack, running_dev_stack
from tests.handlers.conftest import dead_letter_queue  # noqa: F401 (moto DLQs, a shared fixture)
from tests.integration.conftest import fl_queues, localstack_endpoint, sqs  # noqa: F401 (LocalStack)
from tests.lambda_support import ROOT

HERE = Path(__file__).resolve().parent
LAST_RUN = HERE / "last-run.json"

#: In CI the fuzzers replay one fixed sequence of choices (a red build means a change broke
#: something, not that a new case was drawn); elsewhere every run explores new cases.
DERANDOMIZE = os.environ.get("CI", "").lower() == "true"

#: suite → figure → count, filled by the suites of this run.
FIGURES: dict[str, dict[str, Any]] = {}


def record(suite: str, **figures: Any) -> None:
    """Add ``figures`` to the suite's counts (numbers are summed, anything else replaced)."""
    found = FIGURES.setdefault(suite, {})
    for name, value in figures.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[name] = found.get(name, 0) + value
        else:
            found[name] = value


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for suite, figures in sorted(FIGURES.items()):
        shown = ", ".join(f"{name}={value}" for name, value in figures.items())
        terminalreporter.write_line(f"{suite}: {shown}")
    LAST_RUN.write_text(json.dumps(FIGURES, indent=2, sort_keys=True) + "\n")
    terminalreporter.write_line(f"(written to {LAST_RUN.relative_to(ROOT)})")


def reset_to_demo(engine: Engine) -> DemoSummary:
    """Empty every table and insert the demo data again (a known world for the next cases)."""
    tables = ", ".join(f'"{table}"' for table in TEST_TABLES)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} CASCADE"))
    with sessionmaker(bind=engine)() as session:
        summary = seed_demo(session)
        session.commit()
    return summary


#: Rows of the running demo model that FLIP's schema allows and other writers may store (issue 22):
#: dates NULL, ±infinity, BC and year 20000; texts of quotes, escapes and multi-byte characters at
#: the cut (32,768 characters: each escapes in JSON to 2–6 bytes); a metric that is not a number.
_ODD_LOGS = [
    ("NULL", "undated"),
    ("'infinity'", "dated infinity"),
    ("'-infinity'", "dated -infinity"),
    ("'0044-03-15 12:00:00 BC'", "dated BC"),
    ("'20000-01-01 00:00:00'", "dated in year 20000"),
    ("now()", '{"quoted": "json", "a": [1, 2]}' * 1_000),
    ("now()", '"\\\u2028€😀\x01' * 4_681),
]


def add_odd_rows(engine: Engine, model_id: object) -> None:
    with engine.begin() as connection:
        for date, line in _ODD_LOGS:
            connection.execute(
                text(
                    "INSERT INTO fl_logs (id, model_id, log_date, success, log) "
                    f"VALUES (gen_random_uuid(), :model, {date}, true, :line)"
                ),
                {"model": model_id, "line": line[:32_768]},
            )
        connection.execute(
            text(
                "INSERT INTO fl_metrics (id, trust, fl_client_name, model_id, global_round, timestamp, "
                "label, result, x_label, x_value) SELECT gen_random_uuid(), trust, fl_client_name, model_id, "
                "1, 'infinity', label, 'NaN', x_label, '-Infinity' FROM fl_metrics WHERE model_id = :model "
                "LIMIT 1"
            ),
            {"model": model_id},
        )


@pytest.fixture(scope="module")
def local_stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """``flip-models dev`` as a subprocess on free ports, on this test run's database, moto for SQS.

    Stopped with SIGTERM (as Ctrl-C would) at the end of the module.
    """
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_ENDPOINT_URL")}
    environment |= {"DATABASE_URL": database_url, "FLIP_LOCAL_LOG_LEVEL": "WARNING"}
    # No stale-run sweep: it would change the demo models behind the fuzzer's back, and race the
    # TRUNCATE that resets them (the sweep has its own tests).
    arguments = ["--sweep-every", "0"]
    with running_dev_stack(environment, arguments, tmp_path_factory.mktemp("local-stack")) as stack:
        yield stack
