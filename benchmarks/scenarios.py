"""The benchmark's two further scenarios, each a state file plus the requests a minimal raw-HTTP
client would send for the same work (the floor):

- `engines`: secrets engines' own configuration (issue 11): PKI roles, transit keys, database
  connections (`verify_connection: false`, no database needed) and database roles.
- `namespaces`: the base layout (`benchmarks.layout.Layout`) repeated in N namespaces (issue 12);
  every request inside a namespace carries X-Vault-Namespace.

A request is `Req(method, path, body, namespace)`. The floor's work is a list of phases run one
after the other; a phase is a list of tasks run up to --parallelism at a time; a task is a list
of requests sent in order (e.g. one namespace's lists, or one object's writes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from benchmarks.layout import Layout, Size

DB_PASSWORD_ENV = "BENCH_DB_PASSWORD"
CONNECTION_URL = "postgresql://{{username}}:{{password}}@127.0.0.1:5432/bench"
CREATE_USER = "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    body: dict[str, Any] | None = None
    namespace: str = ""


Phase = list[list[Req]]


@dataclass(frozen=True)
class EngineSize:
    name: str
    pki_mounts: int
    transit_mounts: int
    db_mounts: int
    pki_roles: int
    transit_keys: int
    db_roles: int

    @property
    def objects(self) -> int:
        # every mount, one connection per database mount, every role and key
        return (self.pki_mounts + self.transit_mounts + 2 * self.db_mounts
                + self.pki_roles + self.transit_keys + self.db_roles)


ENGINE_SIZES = (
    EngineSize("engines-small", 2, 2, 2, 30, 30, 32),
    EngineSize("engines", 10, 10, 10, 1650, 1650, 1660),
)


@dataclass(frozen=True)
class EnginesLayout:
    """M PKI, transit and database mounts; PKI roles, transit keys and database roles spread
    round-robin over them; one connection per database mount."""

    size: EngineSize

    def pki_role(self, i: int) -> tuple[str, str, dict[str, Any]]:
        return (f"pki{i % self.size.pki_mounts}", f"role-{i}",
                {"allowed_domains": [f"svc{i}.example.com"], "allow_subdomains": True, "max_ttl": 86400})

    def transit_key(self, i: int) -> tuple[str, str, dict[str, Any]]:
        return f"transit{i % self.size.transit_mounts}", f"key-{i}", {"type": "aes256-gcm96"}

    def db_role(self, i: int) -> tuple[str, str, dict[str, Any]]:
        return (f"db{i % self.size.db_mounts}", f"role-{i}",
                {"db_name": "pg", "creation_statements": [CREATE_USER], "default_ttl": 3600, "max_ttl": 86400})

    def connection(self) -> dict[str, Any]:
        return {"plugin_name": "postgresql-database-plugin", "connection_url": CONNECTION_URL,
                "username": "bench", "verify_connection": False, "allowed_roles": ["*"]}

    # --- the vault-state file -----------------------------------------------------------------
    def state_yaml(self) -> str:
        s = self.size
        lines = ["version: 1", "secrets_engines:"]
        pki: dict[str, list[str]] = {}
        for i in range(s.pki_roles):
            mount, name, body = self.pki_role(i)
            pki.setdefault(mount, []).append(f"        {name}: {_flow(body)}")
        for m in range(s.pki_mounts):
            lines += [f"  pki{m}:", "    type: pki", "    pki:", "      roles:", *pki.get(f"pki{m}", [])]
        transit: dict[str, list[str]] = {}
        for i in range(s.transit_keys):
            mount, name, body = self.transit_key(i)
            transit.setdefault(mount, []).append(f"        {name}: {_flow(body)}")
        for m in range(s.transit_mounts):
            lines += [f"  transit{m}:", "    type: transit", "    transit:", "      keys:",
                      *transit.get(f"transit{m}", [])]
        db: dict[str, list[str]] = {}
        for i in range(s.db_roles):
            mount, name, body = self.db_role(i)
            db.setdefault(mount, []).append(f"        {name}: {_flow(body)}")
        connection = {**self.connection(), "password": {"env": DB_PASSWORD_ENV}}
        for m in range(s.db_mounts):
            lines += [f"  db{m}:", "    type: database", "    database:", "      connections:",
                      f"        pg: {_flow(connection)}", "      roles:", *db.get(f"db{m}", [])]
        return "\n".join(lines) + "\n"

    # --- the floor ----------------------------------------------------------------------------
    def mounts(self) -> list[tuple[str, str]]:
        s = self.size
        return ([(f"pki{m}", "pki") for m in range(s.pki_mounts)]
                + [(f"transit{m}", "transit") for m in range(s.transit_mounts)]
                + [(f"db{m}", "database") for m in range(s.db_mounts)])

    def apply_phases(self, ca_cert: str = "") -> list[Phase]:
        s = self.size
        mounts = [[Req("POST", f"sys/mounts/{path}", {"type": kind})] for path, kind in self.mounts()]
        connections = [[Req("POST", f"db{m}/config/pg", {**self.connection(), "password": "bench"})]
                       for m in range(s.db_mounts)]
        objects = [[Req("POST", f"{m}/roles/{n}", b)] for m, n, b in map(self.pki_role, range(s.pki_roles))]
        # a transit key: created, then its config written (what vault-state sends: two calls per key)
        objects += [[Req("POST", f"{m}/keys/{n}", b), Req("POST", f"{m}/keys/{n}/config", {"deletion_allowed": False})]
                    for m, n, b in map(self.transit_key, range(s.transit_keys))]
        objects += [[Req("POST", f"{m}/roles/{n}", b)] for m, n, b in map(self.db_role, range(s.db_roles))]
        return [[[Req("GET", "sys/mounts")]], mounts, connections, objects]

    def plan_phases(self) -> list[Phase]:
        s = self.size
        lists = [Req("GET", "sys/mounts")]
        lists += [Req("LIST", f"pki{m}/roles") for m in range(s.pki_mounts)]
        lists += [Req("LIST", f"transit{m}/keys") for m in range(s.transit_mounts)]
        lists += [Req("LIST", f"db{m}/{what}") for m in range(s.db_mounts) for what in ("config", "roles")]
        gets = [f"{m}/roles/{n}" for m, n, _ in map(self.pki_role, range(s.pki_roles))]
        gets += [f"{m}/keys/{n}" for m, n, _ in map(self.transit_key, range(s.transit_keys))]
        gets += [f"db{m}/config/pg" for m in range(s.db_mounts)]
        gets += [f"{m}/roles/{n}" for m, n, _ in map(self.db_role, range(s.db_roles))]
        return [[lists], [[Req("GET", p)] for p in gets]]


@dataclass(frozen=True)
class NamespaceSize:
    name: str
    namespaces: int
    inner: Size = field(default_factory=lambda: Size("ns-inner", 40, 5, 4, 51))

    @property
    def objects(self) -> int:
        return self.namespaces * (1 + self.inner.objects)


NAMESPACE_SIZES = (
    NamespaceSize("ns-small", 10, Size("ns-inner", 40, 5, 4, 51)),        # 1,010 objects
    NamespaceSize("ns-10k", 100, Size("ns-inner", 40, 5, 4, 51)),         # 10,100 objects
    NamespaceSize("ns-50k", 100, Size("ns-inner", 200, 5, 5, 290)),       # 50,100 objects
)


@dataclass(frozen=True)
class NamespacesLayout:
    """`namespaces: {team-0 .. team-N-1}`, each holding the base layout of `inner` objects."""

    size: NamespaceSize

    @property
    def inner(self) -> Layout:
        return Layout(self.size.inner)

    def namespace(self, n: int) -> str:
        return f"team-{n}"

    def state_yaml(self) -> str:
        body = self.inner.state_yaml().splitlines()[1:]  # without `version: 1`
        lines = ["version: 1", "namespaces:"]
        for n in range(self.size.namespaces):
            lines.append(f"  {self.namespace(n)}:")
            lines += [f"    {line}" for line in body]
        return "\n".join(lines) + "\n"

    def apply_phases(self, ca_cert: str) -> list[Phase]:
        names = [self.namespace(n) for n in range(self.size.namespaces)]
        phases: list[Phase] = [[[Req("GET", "sys/namespaces?list=true")]],
                               [[Req("POST", f"sys/namespaces/{ns}", {})] for ns in names]]
        for stage in self.inner.write_stages(ca_cert):  # each stage in every namespace at once
            phases.append([[Req(w.method, w.path, w.body, ns)] for ns in names for w in stage])
        return phases

    def plan_phases(self) -> list[Phase]:
        names = [self.namespace(n) for n in range(self.size.namespaces)]
        lists, gets = self.inner.reads()
        per_namespace = [[Req(m, p, None, ns) for m, p in lists] for ns in names]
        return [[[Req("GET", "sys/namespaces?list=true")]], per_namespace,
                [[Req("GET", p, None, ns)] for ns in names for p in gets]]


def _flow(value: Any) -> str:
    """A YAML flow value (JSON is YAML)."""
    import json

    return json.dumps(value)


ScenarioLayout = EnginesLayout | NamespacesLayout


def scenario_layout(name: str) -> ScenarioLayout:
    for size in ENGINE_SIZES:
        if size.name == name:
            return EnginesLayout(size)
    for ns in NAMESPACE_SIZES:
        if ns.name == name:
            return NamespacesLayout(ns)
    raise SystemExit(f"no scenario size {name!r}")
