"""Audit the locked dependencies (uv.lock) with pip-audit, and say plainly when that was not possible.

pip-audit asks PyPI's JSON API for each pinned release's known vulnerabilities. Where that API cannot
be reached it reports each package as "not found on PyPI", skips it, and still prints "No known
vulnerabilities found" with exit status 0; this wrapper counts what was really audited instead.

Exit status: 1 when a vulnerability is known for a locked release (or pip-audit itself failed), else 0;
a lock that could not be audited (feed unreachable) is reported, not failed, since that says nothing
about the code.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".tools" / "uv" / "bin" / "uv"


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "requirements.txt"
        # Our own packages (the project, the FL servers' client) are not on PyPI: nothing to audit.
        export = [UV, "export", "--frozen", "--all-extras", "--no-emit-project", "--no-emit-local", "--quiet"]
        subprocess.run([*export, "--format", "requirements-txt", "-o", requirements], check=True, cwd=ROOT)  # noqa: S603
        audit = [
            Path(sys.executable).with_name("pip-audit"),
            "--requirement",
            requirements,
            "--require-hashes",
        ]
        options = ["--disable-pip", "--progress-spinner", "off", "--format", "json"]
        result = subprocess.run([*audit, *options], capture_output=True, text=True, check=False)  # noqa: S603
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit failed (exit {result.returncode}):\n{result.stderr.strip()}", file=sys.stderr)
        return 1
    dependencies = report.get("dependencies", [])
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = [d for d in dependencies if "skip_reason" not in d]
    vulnerable = [d for d in audited if d.get("vulns")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            pin = f"{dependency['name']}=={dependency['version']}"
            print(f"VULNERABLE {pin}: {vuln['id']} (fixed in {fixes})")
    if skipped:
        reason = skipped[0]["skip_reason"]
        if not audited:
            print(
                f"pip-audit: its vulnerability feed could not be reached ({len(skipped)} locked packages, "
                f"e.g. {reason!r}): the lock was NOT audited. Run `make audit` where PyPI's JSON API answers."
            )
        else:
            names = ", ".join(d["name"] for d in skipped)
            print(f"pip-audit: {len(skipped)} locked packages could not be audited: {names}")
    if audited:
        print(f"pip-audit: {len(audited)} locked packages audited, {len(vulnerable)} known to be vulnerable")
    if vulnerable:
        return 1
    if result.returncode != 0 and not skipped:
        print(f"pip-audit failed (exit {result.returncode}):\n{result.stderr.strip()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
