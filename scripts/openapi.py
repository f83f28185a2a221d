"""Write ``openapi.json``: the OpenAPI document of every API function, generated from its resolver.

Each ``functions/<name>/app.py`` whose ``app`` is a Powertools REST resolver contributes its routes
and schemas; they are joined into one document. ``python scripts/openapi.py`` (``make
openapi``) rewrites the file; ``--check`` exits 1 when the checked-in file is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from flip_local.runtime import load_module

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "openapi.json"
TITLE = "FLIP model service"
VERSION = "1.0.0"
SECURITY_SCHEME = "CognitoUserPool"
#: Functions of another API: the FL ingress serves FLIP's internal routes (SPEC §10), for FL servers.
NOT_THE_USERS_API = {"fl_ingress"}
DESCRIPTION = (
    "The FLIP model service's HTTP API: one Lambda function per route behind API Gateway. "
    "Every request carries a Cognito user-pool access token: `Authorization: Bearer <access token>`, "
    "as the FLIP web app sends it."
)


def _load_resolver(app_file: Path) -> APIGatewayRestResolver | None:
    module = load_module(app_file, f"openapi_{app_file.parent.name}_app")
    resolver = getattr(module, "app", None)
    return resolver if isinstance(resolver, APIGatewayRestResolver) else None


def build_openapi() -> str:
    """The merged document as JSON text (stable: functions in name order), ending with a newline.

    Each resolver documents its own route; their paths and component schemas are joined here (a
    path and method documented twice, or one schema name with two shapes, is an error).
    """
    sys.path.insert(0, str(ROOT / "shared"))
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    version = "3.1.0"
    for app_file in sorted((ROOT / "functions").glob("*/app.py")):
        if app_file.parent.name in NOT_THE_USERS_API:
            continue
        resolver = _load_resolver(app_file)
        if resolver is None:
            continue
        document = json.loads(resolver.get_openapi_json_schema(title=TITLE, version=VERSION))
        version = document.get("openapi", version)
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                if method in paths.setdefault(path, {}):
                    raise SystemExit(f"{method.upper()} {path} is documented twice ({app_file})")
                paths[path][method] = operation
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            if schemas.setdefault(name, schema) != schema:
                raise SystemExit(f"schema {name} has two shapes ({app_file})")
    merged = {
        "openapi": version,
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                SECURITY_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Cognito user-pool access token (Authorization: Bearer <access token>)",
                }
            },
        },
        "security": [{SECURITY_SCHEME: []}],
    }
    return json.dumps(merged, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when openapi.json is stale")
    args = parser.parse_args(argv)
    document = build_openapi()
    if args.check:
        if not OUTPUT.is_file() or OUTPUT.read_text() != document:
            print("openapi.json is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(document)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
