"""Conditional reads through the local stack (issue 26): a second identical GET is a ``304``, over
HTTP from a plain client and from a real browser. Headless Chromium loads a page that fetches a
model's status twice, as the web app's polling does; the browser's own HTTP cache revalidates the
second fetch (``Cache-Control: no-cache``) with ``If-None-Match``, and its network log shows the
``304`` (the page itself sees the cached ``200``, as the web app does)."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from flip_local.demo import demo_id
from tests.dev_stack import RunningStack, running_dev_stack
from tests.integration.test_docs_in_browser import browse

RUNNING = demo_id("model:running")
PENDING = demo_id("model:pending")


@pytest.fixture(scope="module")
def local_api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_ENDPOINT_URL")}
    environment |= {"DATABASE_URL": database_url, "FLIP_LOCAL_LOG_LEVEL": "INFO"}
    with running_dev_stack(environment, [], tmp_path_factory.mktemp("conditional-stack")) as stack:
        yield stack


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"X-Dev-User": "admin", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:  # urllib raises on a 304 too
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize(
    "path",
    [
        f"/model/{RUNNING}",
        f"/model/{RUNNING}/status",
        f"/model/{RUNNING}/trusts",
        f"/model/{RUNNING}/logs",
        f"/model/{RUNNING}/metrics",
        # The running model's card counts down the time left: it changes with the clock alone, and
        # so does its tag (tests/handlers/test_api_conditional.py). A card without a countdown:
        f"/model/{PENDING}/progress",
        "/models",
    ],
)
def test_a_second_identical_get_is_a_304_through_the_local_stack(local_api: RunningStack, path: str) -> None:
    status, headers, body = get(local_api.api + path)
    again, again_headers, again_body = get(local_api.api + path, **{"If-None-Match": headers["ETag"]})

    assert status == 200
    assert body
    assert headers["Cache-Control"] == "no-cache"
    assert (again, again_body) == (304, b"")
    assert again_headers["ETag"] == headers["ETag"]
    assert again_headers["Access-Control-Allow-Origin"] == headers["Access-Control-Allow-Origin"]


PAGE = """<!doctype html><html><body><pre id="out">waiting</pre><script>
async function poll() {
  const seen = [];
  for (let n = 0; n < 2; n++) {
    const response = await fetch(%(url)s, {headers: {"X-Dev-User": "admin"}});
    seen.push([response.status, response.headers.get("ETag"), (await response.text()).length]);
  }
  document.getElementById("out").textContent = "done " + JSON.stringify(seen);
}
poll().catch((error) => { document.getElementById("out").textContent = "failed " + error; });
</script></body></html>"""


def test_a_browser_that_polls_twice_gets_a_304_the_second_time(
    local_api: RunningStack, tmp_path: Path
) -> None:
    url = f"{local_api.api}/model/{RUNNING}/status"
    page = tmp_path / "poll.html"
    page.write_text(PAGE % {"url": json.dumps(url)})
    net_log = tmp_path / "netlog.json"

    shown = browse(page.as_uri(), tmp_path / "profile", "--dump-dom", f"--log-net-log={net_log}")

    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "done " in shown.stdout, shown.stdout[-2000:]
    seen = json.loads(shown.stdout.split("done ", 1)[1].split("<", 1)[0])
    assert [status for status, _tag, _length in seen] == [200, 200]  # the page gets the cached body
    assert seen[0][1] == seen[1][1]
    assert seen[0][2] == seen[1][2] > 0
    log = net_log.read_text()
    assert "If-None-Match" in log or "if-none-match" in log
    assert "HTTP/1.1 304" in log
    statuses = [line for line in local_api.output().splitlines() if f"/model/{RUNNING}/status" in line]
    assert any("→ 200" in line for line in statuses)
    assert any("→ 304" in line for line in statuses)
