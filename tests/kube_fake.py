"""A small fake Kubernetes API server over TLS on 127.0.0.1, for the tests (no cluster runs here).

It answers the calls vault-state, OpenBao's kubernetes auth and its kubernetes secrets engine
make, with the real API's JSON shapes: TokenReview, TokenRequest (also sent as protobuf, as the
secrets engine's client-go does), ServiceAccount and ConfigMap reads, SubjectAccessReview and
/version. Tokens it issues are unsigned JWTs with the projected-token claims; a TokenReview
authenticates only tokens it issued, echoing the service account's uid as the real API does.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DEFAULT_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
ADMIN_TOKEN = "fake-kube-admin-token"


def make_certs(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 (an IP SAN: Go verifies it). Returns (ca, cert, key)."""
    ca, ca_key, cert, key = (directory / n for n in ("ca.pem", "ca.key", "server.pem", "server.key"))
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, cwd=directory)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "30",
        "-subj", "/CN=fake-kube-ca", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", "server.csr",
        "-subj", "/CN=kube-apiserver")
    (directory / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "30", "-extfile", "ext.cnf")
    return ca, cert, key


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


@dataclass
class TlsFake:
    """A fake HTTPS API on 127.0.0.1: the `certs` fixture's CA, certificate and key, `serve` to start
    answering with a handler from a daemon thread, `stop` to end it."""

    ca: Path
    cert: Path
    key: Path
    _server: ThreadingHTTPServer | None = field(default=None, init=False)

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> str:
        return self.ca.read_text()

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class FakeKube(TlsFake):
    """The fake API's state: service accounts (namespace, name) -> uid, who may review tokens, issued tokens."""

    service_accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    reviewers: set[tuple[str, str]] = field(default_factory=set)
    issued: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    def add_service_account(self, namespace: str, name: str, *, reviewer: bool = False) -> None:
        self.service_accounts[(namespace, name)] = f"uid-{namespace}-{name}"
        if reviewer:
            self.reviewers.add((namespace, name))

    def start(self) -> FakeKube:
        fake = self

        class Handler(_Handler):
            state = fake

        self.serve(Handler)
        return self

    def kubeconfig(self, path: Path, *, ca_data: str | None = None) -> Path:
        """A kubeconfig with context `fake` (current) and `broken` (a port nothing listens on)."""
        data = base64.b64encode((ca_data if ca_data is not None else self.ca_pem).encode()).decode()
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url, "certificate-authority-data": data}},
                         {"name": "broken", "cluster": {"server": "https://127.0.0.1:1",
                                                        "certificate-authority-data": data}}],
            "users": [{"name": "admin", "user": {"token": ADMIN_TOKEN}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "admin"}},
                         {"name": "broken", "context": {"cluster": "broken", "user": "admin"}}],
        }))
        return path

    def issue(self, namespace: str, name: str, audiences: list[str], seconds: int) -> str:
        now = int(time.time())
        uid = self.service_accounts[(namespace, name)]
        claims = {"aud": audiences, "exp": now + seconds, "iat": now, "nbf": now, "iss": DEFAULT_AUDIENCE,
                  "jti": secrets.token_hex(8),
                  "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
                  "sub": f"system:serviceaccount:{namespace}:{name}"}
        header = _b64u(json.dumps({"alg": "RS256", "kid": "fake"}).encode())
        token = f"{header}.{_b64u(json.dumps(claims).encode())}.{_b64u(b'not-a-real-signature')}"
        self.issued[token] = (namespace, name, audiences)
        return token

    # --- API handlers: (status, body) ---------------------------------------------------------

    def token_review(self, bearer: str, review: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        caller = self.issued.get(bearer)
        if caller is not None and caller[:2] not in self.reviewers:
            return 403, _status(403, "Forbidden", f'tokenreviews.authentication.k8s.io is forbidden: User '
                                f'"system:serviceaccount:{caller[0]}:{caller[1]}" cannot create resource')
        spec = review.get("spec", {})
        found = self.issued.get(spec.get("token", ""))
        wanted = spec.get("audiences") or [DEFAULT_AUDIENCE]
        status: dict[str, Any] = {"authenticated": False, "error": "invalid bearer token"}
        if found is not None and set(wanted) & set(found[2] or [DEFAULT_AUDIENCE]):
            namespace, name, _ = found
            status = {"authenticated": True, "audiences": wanted, "user": {
                "username": f"system:serviceaccount:{namespace}:{name}",
                "uid": self.service_accounts[(namespace, name)],
                "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"]}}
        return 201, {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                     "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}

    def token_request(self, namespace: str, name: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if (namespace, name) not in self.service_accounts:
            return 404, _status(404, "NotFound", f'serviceaccounts "{name}" not found')
        spec = request.get("spec") or {}
        seconds = int(spec.get("expirationSeconds") or 3600)
        audiences = spec.get("audiences") or [DEFAULT_AUDIENCE]
        token = self.issue(namespace, name, audiences, seconds)
        expires = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                     "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
                     "spec": {"audiences": audiences, "expirationSeconds": seconds, "boundObjectRef": None},
                     "status": {"token": token, "expirationTimestamp": expires}}

    def service_account(self, namespace: str, name: str) -> tuple[int, dict[str, Any]]:
        if (namespace, name) not in self.service_accounts:
            return 404, _status(404, "NotFound", f'serviceaccounts "{name}" not found')
        return 200, {"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {
            "name": name, "namespace": namespace, "uid": self.service_accounts[(namespace, name)],
            "resourceVersion": "1", "creationTimestamp": "2026-01-01T00:00:00Z"}}

    def root_ca(self, namespace: str) -> tuple[int, dict[str, Any]]:
        return 200, {"kind": "ConfigMap", "apiVersion": "v1",
                     "metadata": {"name": "kube-root-ca.crt", "namespace": namespace},
                     "data": {"ca.crt": self.ca_pem}}

    def access_review(self, review: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        spec = review.get("spec", {})
        attributes = spec.get("resourceAttributes") or {}
        user = str(spec.get("user", "")).split(":")
        account = (user[2], user[3]) if len(user) == 4 and user[1] == "serviceaccount" else None
        wanted = (attributes.get("group"), attributes.get("resource"), attributes.get("verb"))
        allowed = account in self.reviewers and wanted == ("authentication.k8s.io", "tokenreviews", "create")
        status = {"allowed": allowed}
        if allowed:
            status["reason"] = 'RBAC: allowed by ClusterRoleBinding "vault-tokenreview" of ClusterRole ' \
                '"system:auth-delegator"'
        return 201, {"kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                     "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}


def _fields(data: bytes) -> dict[int, list[Any]]:
    """Protocol buffers' wire format: field number -> its values (varints as int, the rest as bytes)."""
    found: dict[int, list[Any]] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        value = shift = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value: Any = varint()
        elif wire == 2:
            size = varint()
            value, i = data[i:i + size], i + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, i = data[i:i + size], i + size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        found.setdefault(number, []).append(value)
    return found


def token_request_from_protobuf(body: bytes) -> dict[str, Any]:
    """A TokenRequest sent as `application/vnd.kubernetes.protobuf` (client-go's default, as the
    kubernetes secrets engine sends it): the `k8s\\x00` envelope (runtime.Unknown) holds the object
    in its field 2; TokenRequest.spec is field 2, with audiences (1) and expirationSeconds (4)."""
    if not body.startswith(b"k8s\x00"):
        raise ValueError("not a Kubernetes protobuf envelope")
    raw = _fields(body[4:])[2][0]
    spec = _fields(_fields(raw).get(2, [b""])[0])
    return {"spec": {"audiences": [a.decode() for a in spec.get(1, [])],
                     "expirationSeconds": spec.get(4, [None])[0]}}


_SA = re.compile(r"/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)")
_TOKEN = re.compile(r"/api/v1/namespaces/([^/]+)/serviceaccounts/([^/]+)/token")
_CM = re.compile(r"/api/v1/namespaces/([^/]+)/configmaps/kube-root-ca\.crt")


class _Handler(BaseHTTPRequestHandler):
    state: FakeKube

    def _send(self, code: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _bearer(self) -> str:
        return self.headers.get("Authorization", "").removeprefix("Bearer ").strip()

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.state.calls.append(("GET", path))
        if path == "/version":
            return self._send(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake"})
        if self._bearer() != ADMIN_TOKEN:
            return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
        if m := _SA.fullmatch(path):
            return self._send(*self.state.service_account(m[1], m[2]))
        if m := _CM.fullmatch(path):
            return self._send(*self.state.root_ca(m[1]))
        return self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        self.state.calls.append(("POST", path))
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        protobuf = self.headers.get("Content-Type", "").startswith("application/vnd.kubernetes.protobuf")
        if protobuf and not _TOKEN.fullmatch(path):
            return self._send(415, _status(415, "UnsupportedMediaType", "the fake takes protobuf for TokenRequest only"))
        body = token_request_from_protobuf(raw) if protobuf else json.loads(raw or b"{}")
        if path == "/apis/authentication.k8s.io/v1/tokenreviews":
            return self._send(*self.state.token_review(self._bearer(), body))
        if self._bearer() != ADMIN_TOKEN:
            return self._send(401, _status(401, "Unauthorized", "Unauthorized"))
        if m := _TOKEN.fullmatch(path):
            return self._send(*self.state.token_request(m[1], m[2], body))
        if path == "/apis/authorization.k8s.io/v1/subjectaccessreviews":
            return self._send(*self.state.access_review(body))
        return self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))

    def log_message(self, *args: Any) -> None:
        pass
