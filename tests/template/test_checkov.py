"""checkov on the template CloudFormation gets: every finding is either fixed or explained in
docs/security.md, and that page explains no finding checkov no longer makes."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.template import sam
from tests.template.test_template import ROOT

CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
SECURITY = ROOT / "docs" / "security.md"


def explained_checks() -> set[str]:
    """The check ids of docs/security.md's table of accepted findings (rows starting ``| `CKV``)."""
    return set(re.findall(r"^\| `(CKV2?_AWS_\d+)`", SECURITY.read_text(), re.M))


def test_every_checkov_finding_is_fixed_or_explained(tmp_path: Path) -> None:
    assert CHECKOV.exists(), f"{CHECKOV} is missing: make test installs it (scripts/lib.sh ensure_tool)"
    # Every optional resource is in the transformed template (conditions are CloudFormation's to decide).
    template = tmp_path / "template.json"
    template.write_text(json.dumps(sam.transformed(CreateVpcEndpoints="true")))
    result = subprocess.run(
        [
            CHECKOV,
            "--file",
            template,
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--quiet",
            "--compact",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    assert report["summary"]["parsing_errors"] == 0, result.stderr
    failed: dict[str, list[str]] = {}
    for check in report["results"]["failed_checks"]:
        failed.setdefault(check["check_id"], []).append(check["resource"])

    unexplained = {check: resources for check, resources in failed.items() if check not in explained_checks()}
    assert unexplained == {}, "fix these or explain them in docs/security.md"
    assert explained_checks() - set(failed) == set(), (
        "docs/security.md explains findings checkov no longer makes"
    )
