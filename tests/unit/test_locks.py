"""Every environment the README's commands create is installed from a lock with hashes (issue 27):
the project's (uv.lock), and each of requirements/<name>.txt, compiled from its .in by `make lock`
(scripts/lock.sh): uv, the SAM CLI, checkov, the FL client's Python 3.9 venv, LocalStack's venv."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.lambda_support import ROOT

REQUIREMENTS = ROOT / "requirements"
SCRIPTS = sorted((ROOT / "scripts").glob("*.sh"))


@pytest.mark.parametrize("source", sorted(REQUIREMENTS.glob("*.in")), ids=lambda path: path.name)
def test_each_requirements_source_has_a_lock_of_pins_with_hashes_made_by_make_lock(source: Path) -> None:
    lock = source.with_suffix(".txt")
    entries = re.split(r"\n(?=[a-z0-9])", lock.read_text().split("\n", 2)[2].strip())

    assert entries
    for entry in entries:
        requirement = entry.splitlines()[0]
        assert re.match(r"^[a-z0-9._-]+(\[[a-z0-9,_-]+\])?==[^ ]+( ;[^\\]+)? \\$", requirement), requirement
        assert "--hash=sha256:" in entry, requirement
    assert source.stem in (ROOT / "scripts" / "lock.sh").read_text()  # refreshed by make lock


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_scripts_install_only_from_a_lock_with_hashes_or_a_local_path_without_dependencies(
    script: Path,
) -> None:
    """``pip install``/``uv pip install``/``uv pip sync``: from a lock (``--require-hashes``), or the
    repository's own package on top (``--no-deps``), never resolved on the spot."""
    text = script.read_text().replace("\\\n", " ")
    installs = [line for line in text.splitlines() if re.search(r"pip (install|sync)\b", line)]
    loose = [line.strip() for line in installs if "--require-hashes" not in line and "--no-deps" not in line]

    assert loose == [], f"{script.name} resolves on the spot: {loose}"
