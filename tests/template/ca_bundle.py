"""The layer's CA bundle as the functions load it: Python's ``ssl`` (OpenSSL), as ``store/db.py``'s
``ssl.create_default_context(cafile=...)`` does, not ``cryptography``'s x509 parser (which warns about
Starfield Services Root G2's serial number 0, an error in a future release)."""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

from tests.template.test_template import ROOT

BUNDLE = ROOT / "shared" / "certs" / "rds-ca-bundle.pem"
_SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "stateOrProvinceName": "ST",
    "localityName": "L",
}


@dataclass(frozen=True)
class Certificate:
    subject: str  # RFC 4514, as cryptography's ``rfc4514_string()`` writes it (last RDN first)
    not_valid_after: datetime.datetime


def certificates(bundle: Path = BUNDLE) -> list[Certificate]:
    """Every certificate of the bundle, as OpenSSL loads it into a verifying context."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(bundle))
    return [
        Certificate(
            ",".join(
                f"{_SHORT_NAMES.get(key, key)}={value}"
                for rdn in reversed(certificate["subject"])
                for key, value in rdn
            ),
            datetime.datetime.fromtimestamp(ssl.cert_time_to_seconds(certificate["notAfter"]), datetime.UTC),
        )
        for certificate in context.get_ca_certs()
    ]
