"""The shared layer: built by shared/Makefile from the lock (every file hash-checked), with the RDS CA
bundle that DB_SSL_ROOT_CERT names. tests/deploy/ builds it for real with ``sam build``."""

from __future__ import annotations

import datetime
import hashlib
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.template import sam
from tests.template.ca_bundle import certificates
from tests.template.test_template import ROOT

LAYER = sam.source()["Resources"]["SharedLayer"]
SHARED = ROOT / LAYER["Properties"]["ContentUri"]
REQUIREMENTS = SHARED / "requirements.txt"
UV = ROOT / ".tools" / "uv" / "bin" / "uv"
BUNDLE_PATH = sam.source()["Globals"]["Function"]["Environment"]["Variables"]["DB_SSL_ROOT_CERT"]
BUNDLE = SHARED / "certs" / Path(BUNDLE_PATH).name


def _name(requirement: str) -> str:
    return re.split(r"[\[=<>; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_the_layer_is_built_by_the_makefile_for_arm64() -> None:
    makefile = (SHARED / "Makefile").read_text()

    assert LAYER["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert "build-SharedLayer:" in makefile
    assert "--require-hashes" in makefile
    assert "-r requirements.txt" in makefile
    assert "manylinux2014_aarch64" in makefile


def test_the_layer_requirements_are_uv_locks_runtime_dependencies_exported() -> None:
    assert UV.exists(), f"{UV} is missing: make test installs it (scripts/lib.sh ensure_uv)"
    exported = subprocess.run(
        [str(UV), "export", "--frozen", "--no-dev", "--no-emit-project", "--format", "requirements-txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr

    def body(text: str) -> list[str]:  # the header names the command's output file
        return [line for line in text.splitlines() if not line.startswith("#")]

    assert body(REQUIREMENTS.read_text()) == body(exported.stdout), (
        "shared/requirements.txt is not uv.lock's export: run `make lock`"
    )


def test_every_layer_requirement_is_pinned_with_hashes_and_covers_the_projects_dependencies() -> None:
    text = REQUIREMENTS.read_text()
    entries = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2].strip())
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]

    pinned = {}
    for entry in entries:
        requirement = entry.splitlines()[0]
        assert re.match(r"^[a-z0-9._-]+==[^ ]+ \\$", requirement), requirement
        assert "--hash=sha256:" in entry, requirement
        pinned[_name(requirement)] = requirement
    assert {_name(d) for d in declared} <= set(pinned)
    assert "boto3" in pinned  # shipped, so the layer runs the boto3 the tests ran


def test_the_rds_ca_bundle_is_the_documented_file_and_still_valid() -> None:
    readme = (BUNDLE.parent / "README.md").read_text()
    loaded = certificates(BUNDLE)
    in_the_file = BUNDLE.read_text().count("-----BEGIN CERTIFICATE-----")
    subjects = [c.subject for c in loaded]
    now = datetime.datetime.now(datetime.UTC)

    assert Path("/opt/certs") / BUNDLE.name == Path(BUNDLE_PATH)
    assert hashlib.sha256(BUNDLE.read_bytes()).hexdigest() in readme
    assert len(loaded) == in_the_file  # OpenSSL loads every one (none a duplicate)
    assert f"{len(loaded)} certificates" in readme
    expired = [c.subject for c in loaded if c.not_valid_after <= now]
    assert expired == [], "refresh shared/certs (see its README)"
    for kind in ("RSA2048 G1", "RSA4096 G1", "ECC384 G1"):
        assert any(f"CN=Amazon RDS {sam.REGION} Root CA {kind}" in s for s in subjects), kind
    assert any("CN=Amazon Root CA 1" in s for s in subjects)  # RDS Proxy's chain


@pytest.mark.parametrize("name", ["flip_models", "certs"])
def test_the_makefile_ships_what_the_functions_load(name: str) -> None:
    assert (SHARED / name).is_dir()
    assert name in (SHARED / "Makefile").read_text()
