"""The local API browser in a real browser: headless Chromium loads ``/docs`` from the local stack, and
Swagger UI renders every route of ``openapi.json`` (an OpenAPI 3.1 document, which the old Swagger UI 4
could not read). A screenshot is kept as a test artifact under ``.local/artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.dev_stack import RunningStack, running_dev_stack
from tests.lambda_support import ROOT

ARTIFACTS = ROOT / ".local" / "artifacts"
#: As the machine notes prescribe for a closed network: no background traffic, no sandbox as root.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # Let Swagger UI fetch openapi.json and render before the page is read.
    "--virtual-time-budget=15000",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Chromium is missing: `make test` installs Debian's chromium package"
    return found


@pytest.fixture(scope="module")
def local_api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_ENDPOINT_URL")}
    environment |= {"DATABASE_URL": database_url, "FLIP_LOCAL_LOG_LEVEL": "WARNING"}
    with running_dev_stack(environment, [], tmp_path_factory.mktemp("docs-stack")) as stack:
        yield stack


def browse(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_swagger_ui_renders_every_route(local_api: RunningStack, engine: Engine, tmp_path: Path) -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    routes = {(method.upper(), path) for path, item in document["paths"].items() for method in item}

    dom = browse(f"{local_api.api}/docs", tmp_path / "profile", "--dump-dom")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = browse(
        f"{local_api.api}/docs",
        tmp_path / "profile-shot",
        f"--screenshot={ARTIFACTS / 'docs.png'}",
        "--window-size=1280,3000",
    )

    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert "Unable to render this definition" not in page
    assert "FLIP model service" in page  # the document's title, rendered by Swagger UI
    rendered = set(
        re.findall(r'opblock-summary-method">(\w+)</span>.*?data-path="([^"]+)"', page, flags=re.S)
    )
    assert rendered == routes
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert (ARTIFACTS / "docs.png").stat().st_size > 10_000
