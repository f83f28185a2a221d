"""The figures README.md and docs/ give for the test suites are the suites' own (issue 27): a route
added to the template, or a case count changed in a suite, fails here until the prose says so.

Each figure is derived from what the suite runs: the fuzzer's cases per route (its constants; the
fuzz test asserts it sent at least that many) times the template's routes, and the access matrix's
routes × callers.
"""

from __future__ import annotations

import re

from flip_local.stack import INGRESS_API
from flip_local.template import load_template
from tests.lambda_support import ROOT
from tests.reliability.test_access_matrix import CASES as MATRIX_CASES
from tests.reliability.test_access_matrix import ROUTES as MATRIX_ROUTES
from tests.reliability.test_api_fuzz import CASES_WITH_IDENTITY, CASES_WITHOUT_IDENTITY

README = (ROOT / "README.md").read_text()
RELIABILITY = (ROOT / "docs" / "reliability.md").read_text()


def _routes() -> int:
    template = load_template(parameters={"Stage": "local"})
    """The users' API routes the fuzzer covers (the FL ingress has a suite of its own)."""
    return sum(route.api != INGRESS_API for spec in template.functions.values() for route in spec.api_routes)


def _prose(text: str) -> str:
    """Markdown prose with its line breaks as spaces (a figure may sit across a wrapped line)."""
    return re.sub(r"\s*\n\s*", " ", text)


def test_the_fuzzed_request_counts_are_the_fuzzers() -> None:
    routes = _routes()
    with_identity, without = routes * CASES_WITH_IDENTITY, routes * CASES_WITHOUT_IDENTITY
    total = with_identity + without
    readme, reliability = _prose(README), _prose(RELIABILITY)

    assert f"({total:,} generated requests:" in readme
    assert f"For each of the {routes} routes" in reliability
    assert f"{CASES_WITH_IDENTITY} requests per route carry a demo identity" in reliability
    assert f"{CASES_WITHOUT_IDENTITY} carry none" in reliability
    assert f"**{total:,} cases** ({with_identity:,} with identity, {without:,} without" in reliability
    assert f"401 ×{without:,}," in reliability  # exactly the cases without identity
    assert f"| API cases generated and sent | {total:,} " in reliability
    stale = {f"{n:,}" for n in (200 * r for r in range(1, 40)) if n != total} & set(
        re.findall(r"(\d[\d,]*) (?:generated requests|cases\*\*)", readme + reliability)
    )
    assert not stale, f"stale fuzz figures: {stale}"


def test_the_access_matrix_counts_are_the_matrixs() -> None:
    routes = len(MATRIX_ROUTES)
    reliability = _prose(RELIABILITY)

    assert f"the {routes} routes × admin" in reliability
    assert f"— {len(MATRIX_CASES)} cases" in reliability
    assert f"| access matrix cases | {len(MATRIX_CASES)} |" in reliability
