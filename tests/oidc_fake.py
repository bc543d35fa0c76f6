"""A small OIDC identity provider over TLS on 127.0.0.1, for the tests (no IdP runs here).

It serves what OpenBao's jwt auth fetches when a config names it: the discovery document at
`/.well-known/openid-configuration` and the signing key set at `/keys` (JWKS). Its RSA key is made
with openssl, which also signs the RS256 tokens `sign` issues, so a jwt login proves the config.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from kube_fake import TlsFake


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class FakeOidc(TlsFake):
    """The provider: a TLS certificate for 127.0.0.1 (from the `certs` fixture) and its signing key."""

    workdir: Path
    kid: str = "test-key-1"
    requests: list[str] = field(default_factory=list)

    @property
    def signing_key(self) -> Path:
        return self.workdir / "signing.key"

    def jwks(self) -> dict[str, Any]:
        out = subprocess.run(["openssl", "rsa", "-in", str(self.signing_key), "-noout", "-modulus"],
                             check=True, capture_output=True, text=True).stdout
        modulus = bytes.fromhex(out.strip().split("=", 1)[1])
        return {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                          "n": _b64u(modulus), "e": "AQAB"}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url, "jwks_uri": f"{self.url}/keys",
            "authorization_endpoint": f"{self.url}/auth", "token_endpoint": f"{self.url}/token",
            "response_types_supported": ["code", "id_token"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def sign(self, claims: dict[str, Any], seconds: int = 300) -> str:
        """An RS256 JWT with this provider as issuer, valid for `seconds`."""
        now = int(time.time())
        body = {"iss": self.url, "iat": now, "nbf": now, "exp": now + seconds, **claims}
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signed = f"{_b64u(json.dumps(header).encode())}.{_b64u(json.dumps(body).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.signing_key)],
                                   input=signed.encode(), check=True, capture_output=True).stdout
        return f"{signed}.{_b64u(signature)}"

    def start(self) -> FakeOidc:
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                        "-out", str(self.signing_key)], check=True, capture_output=True)
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests.append(self.path)
                pages = {"/.well-known/openid-configuration": provider.discovery, "/keys": provider.jwks}
                page = pages.get(self.path.split("?")[0])
                body = json.dumps(page() if page else {"error": "not found"}).encode()
                self.send_response(200 if page else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.serve(Handler)
        return self
