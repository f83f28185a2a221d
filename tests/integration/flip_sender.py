"""The HTTP calls of FLIP's FL server to the hub, made as flip-utils' ``FLIPStandardProd`` makes them.

Runs on Python 3.9 with ``requests``, as in FL server images (the test gives it its own venv): the
base URL from ``FLIP_API_INTERNAL_URL`` joined as flip-utils' ``_join_url`` joins it (trailing
slash of the base dropped, leading slash of the path dropped), the key in ``X-Internal-Service-Key``
from ``INTERNAL_SERVICE_KEY``, one request per call, no retry: ``PUT model/{id}/status/{status}``
without a body, ``POST model/{id}/metrics`` and ``POST model/{id}/logs`` with ``json=`` (requests
sets ``Content-Type: application/json``). Reads the calls as JSON lines on stdin
(``{"method", "path", "body"?}``), prints each answer as a JSON line (``status``, ``text``).
"""

import json
import os
import sys
from typing import Any

import requests


def join_url(base: object, path: str) -> str:
    return f"{str(base).rstrip('/')}/{path.lstrip('/')}"


def hub_headers() -> dict[str, str]:
    return {"X-Internal-Service-Key": os.environ["INTERNAL_SERVICE_KEY"]}


def call(request: dict[str, Any]) -> dict[str, Any]:
    endpoint = join_url(os.environ["FLIP_API_INTERNAL_URL"], request["path"])
    if request["method"] == "PUT":
        response = requests.put(endpoint, headers=hub_headers())  # noqa: S113 (as flip-utils: no timeout)
    else:
        response = requests.post(endpoint, json=request["body"], headers=hub_headers())  # noqa: S113
    return {"status": response.status_code, "text": response.text, "url": endpoint}


def main() -> None:
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(call(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
