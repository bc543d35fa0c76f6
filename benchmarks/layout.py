"""The benchmark's configuration of a given size, as one `Layout`, and everything derived from it:
the vault-state file, the hand-run `bao` commands, the floor's raw requests and a 1% drift."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

POLICY = 'path "{mount}/data/app-{i}/*" {{\n  capabilities = ["read", "list"]\n}}\n'
KUBE_HOST = "https://kubernetes.default.svc:443"


@dataclass(frozen=True)
class Size:
    name: str
    policies: int
    mounts: int
    auth_methods: int
    roles: int

    @property
    def objects(self) -> int:
        return self.policies + self.mounts + self.auth_methods + self.roles


SIZES = (
    Size("small", policies=40, mounts=5, auth_methods=4, roles=51),
    Size("medium", policies=400, mounts=20, auth_methods=20, roles=560),
    Size("large", policies=2000, mounts=50, auth_methods=50, roles=2900),
)


@dataclass(frozen=True)
class Write:
    method: str
    path: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Layout:
    """P policies, M KV v2 mounts, A auth methods (even: kubernetes with config, odd: approle) and
    R roles spread round-robin over them."""

    size: Size

    def mount(self, i: int) -> str:
        return f"kv{i}"

    def method(self, i: int) -> tuple[str, str]:
        return (f"k8s{i}", "kubernetes") if i % 2 == 0 else (f"approle{i}", "approle")

    def policy_text(self, i: int) -> str:
        return POLICY.format(mount=self.mount(i % self.size.mounts), i=i)

    def roles(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(method path, method type, role name, body) for every role."""
        out = []
        for i in range(self.size.roles):
            path, kind = self.method(i % self.size.auth_methods)
            body: dict[str, Any] = {"token_policies": [f"app-{i % self.size.policies}"], "token_ttl": 3600}
            if kind == "kubernetes":
                body |= {"bound_service_account_names": [f"sa-{i}"], "bound_service_account_namespaces": [f"ns-{i}"],
                         "audience": "vault"}
            out.append((path, kind, f"role-{i}", body))
        return out

    # --- the vault-state file -----------------------------------------------------------------
    def state_yaml(self) -> str:
        lines = ["version: 1", "secrets_engines:"]
        for m in range(self.size.mounts):
            lines.append(f"  {self.mount(m)}: {{type: kv, version: 2, kv_config: {{max_versions: 10}}}}")
        lines.append("policies:")
        for i in range(self.size.policies):
            lines.append(f"  app-{i}: |")
            lines += [f"    {line}" for line in self.policy_text(i).splitlines()]
        lines.append("auth_methods:")
        by_method: dict[str, list[str]] = {}
        for path, _, name, body in self.roles():
            fields = ", ".join(f"{k}: {_yaml(v)}" for k, v in body.items())
            by_method.setdefault(path, []).append(f"      {name}: {{{fields}}}")
        for a in range(self.size.auth_methods):
            path, kind = self.method(a)
            lines += [f"  {path}:", f"    type: {kind}"]
            if kind == "kubernetes":
                lines += ["    config:", f"      kubernetes_host: {KUBE_HOST}",
                          "      kubernetes_ca_cert: {file: ca.crt, sensitive: false}"]
            lines += ["    roles:", *by_method.get(path, [])] if path in by_method else []
        return "\n".join(lines) + "\n"

    # --- the floor's requests -----------------------------------------------------------------
    def write_stages(self, ca_cert: str) -> list[list[Write]]:
        """The writes of an apply from empty, in stages whose writes are independent."""
        mounts = [Write("POST", f"sys/mounts/{self.mount(m)}", {"type": "kv", "options": {"version": "2"}})
                  for m in range(self.size.mounts)]
        kv_configs = [Write("POST", f"{self.mount(m)}/config", {"max_versions": 10}) for m in range(self.size.mounts)]
        policies = [Write("PUT", f"sys/policies/acl/app-{i}", {"policy": self.policy_text(i)})
                    for i in range(self.size.policies)]
        methods = [Write("POST", f"sys/auth/{p}", {"type": k})
                   for p, k in map(self.method, range(self.size.auth_methods))]
        configs = [Write("POST", f"auth/{p}/config", {"kubernetes_host": KUBE_HOST, "kubernetes_ca_cert": ca_cert})
                   for p, k in map(self.method, range(self.size.auth_methods)) if k == "kubernetes"]
        roles = [Write("POST", f"auth/{p}/role/{n}", b) for p, _, n, b in self.roles()]
        return [mounts, kv_configs, policies, methods, configs, roles]

    def reads(self) -> tuple[list[tuple[str, str]], list[str]]:
        """A plan's reads on a converged server: (method, path) of the lists first, then the GETs."""
        lists = [("GET", "sys/mounts"), ("LIST", "sys/policies/acl"), ("GET", "sys/auth")]
        lists += [("LIST", f"auth/{p}/role") for p, _ in map(self.method, range(self.size.auth_methods))]
        gets = [f"{self.mount(m)}/config" for m in range(self.size.mounts)]
        gets += [f"sys/policies/acl/app-{i}" for i in range(self.size.policies)]
        gets += [f"auth/{p}/config" for p, k in map(self.method, range(self.size.auth_methods)) if k == "kubernetes"]
        gets += [f"auth/{p}/role/{n}" for p, _, n, _ in self.roles()]
        return lists, gets

    # --- the hand-run way ---------------------------------------------------------------------
    def cli_commands(self, ca_file: str, policy_dir: str) -> list[list[str]]:
        """One `bao` command per write, as the guide does it by hand (policy text from files)."""
        cmds = []
        for m in range(self.size.mounts):
            cmds.append(["secrets", "enable", f"-path={self.mount(m)}", "-version=2", "kv"])
            cmds.append(["write", f"{self.mount(m)}/config", "max_versions=10"])
        for i in range(self.size.policies):
            cmds.append(["policy", "write", f"app-{i}", f"{policy_dir}/app-{i}.hcl"])
        for a in range(self.size.auth_methods):
            path, kind = self.method(a)
            cmds.append(["auth", "enable", f"-path={path}", kind])
            if kind == "kubernetes":
                cmds.append(["write", f"auth/{path}/config", f"kubernetes_host={KUBE_HOST}",
                             f"kubernetes_ca_cert=@{ca_file}"])
        for path, _, name, body in self.roles():
            args = [f"{k}={','.join(v) if isinstance(v, list) else v}" for k, v in body.items()]
            cmds.append(["write", f"auth/{path}/role/{name}", *args])
        return cmds

    # --- drift --------------------------------------------------------------------------------
    def drift(self) -> list[Write]:
        """1% of the policies and roles changed behind vault-state's back."""
        text = 'path "drift/*" {\n  capabilities = ["read"]\n}\n'
        every_100th = range(0, self.size.policies, 100)
        policies = [Write("PUT", f"sys/policies/acl/app-{i}", {"policy": text}) for i in every_100th]
        roles = [Write("POST", f"auth/{p}/role/{n}", {"token_ttl": 300}) for p, _, n, _ in self.roles()[::100]]
        return policies + roles


def _yaml(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return str(value)


def shell_script(binary: str, commands: list[list[str]]) -> str:
    return "set -e\n" + "".join(f"{shlex.quote(binary)} {shlex.join(c)} >/dev/null\n" for c in commands)
