"""Checks that a policy from `vault-state required-policy` is enough and that every block of it
is needed, against one real OpenBao dev server: each run in a fresh namespace (`--namespace`),
with the policy as the only policy of a token (no default policy)."""

from __future__ import annotations

import itertools
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import Cli, Result

from vault_state.required_policy import matches
from vault_state.sandbox import DevServer
from vault_state.vault.gateway import Gateway

OTHER = {"stack": "other", "ids": ["policy/other-policy"], "fingerprints": {}, "updated": "2026-01-01T00:00:00Z",
         "tool_version": "0"}
"""Another stack's inventory, as an earlier version wrote it (format 1, still read): not ours to prune."""

BLOCK = re.compile(r'^path "(?P<path>[^"]+)" \{\n  capabilities = (?P<caps>\[[^\]]*\])\n\}\n', re.M)
DENIED = re.compile(r"\b(GET|LIST|POST|PUT|DELETE) ([\w\-./+?=]+)")
_counter = itertools.count()
UNRECORDED = "was not updated in"
"""apply's warning when the token may not list the inventories (it converged, and recorded nothing)."""


class Namespaces:
    """Fresh namespaces of one server, each with the policy under test as a token's only policy.
    `sent` collects the (method, path) of every request vault-state sends (for the order of runs)."""

    def __init__(self, bao: DevServer, cli: Cli, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                 env: dict[str, str]) -> None:
        self.bao, self.cli, self.files, self.env = bao, cli, files, env
        self.sent: set[str] = set()
        request = Gateway.request

        def recorded(gateway: Gateway, method: str, path: str, body: Any = None, namespace: str = "",
                     **kwargs: Any) -> tuple[int, Any]:
            self.sent.add("/".join(p for p in (namespace, path.partition("?")[0]) if p))
            return request(gateway, method, path, body, namespace, **kwargs)

        monkeypatch.setattr(Gateway, "request", recorded)

    def request(self, method: str, path: str, namespace: str, body: dict[str, object] | None = None) -> dict[str, Any]:
        headers = {"X-Vault-Token": self.bao.token, **({"X-Vault-Namespace": namespace} if namespace else {})}
        response = requests.request(method, f"{self.bao.address}/v1/{path}", json=body, headers=headers, timeout=10)
        assert response.status_code < 400, (method, path, response.text)
        return dict(response.json()) if response.content else {}

    def fresh(self, policy: str, earlier: bool) -> tuple[str, str]:
        """(namespace, token): `earlier`: the namespace first gets EARLIER (applied by root) and OTHER."""
        namespace = self.place()
        if earlier:
            done = self.run(namespace, self.bao.token, "apply", "-f", str(self.files["earlier"]), "--auto-approve")
            assert done.code == 0, done.out[-1500:] + done.err
            self.request("POST", "sys/policies/acl/other-policy", namespace, {"policy": 'path "a" {capabilities = ["read"]}'})
            for where in [namespace, *self.children(namespace)]:  # where the earlier apply kept inventories
                self.request("POST", "vault-state/data/inventory/other", where, {"data": OTHER})
        self.request("POST", "sys/policies/acl/vault-state", namespace, {"policy": policy})
        created = self.request("POST", "auth/token/create", namespace,
                               {"policies": ["vault-state"], "no_default_policy": True})
        return namespace, str(created["auth"]["client_token"])

    def children(self, namespace: str) -> list[str]:
        """The child namespaces of `namespace` that hold a `vault-state/` mount (one level)."""
        headers = {"X-Vault-Token": self.bao.token, "X-Vault-Namespace": namespace}
        listed = requests.request("LIST", f"{self.bao.address}/v1/sys/namespaces", headers=headers, timeout=10)
        found = []
        for child in (listed.json().get("data") or {}).get("keys", []) if listed.status_code == 200 else []:
            where = f"{namespace}/{child.strip('/')}"
            mounts = requests.get(f"{self.bao.address}/v1/sys/mounts", timeout=10,
                                  headers={**headers, "X-Vault-Namespace": where}).json()
            found += [where] if "vault-state/" in (mounts.get("data") or mounts) else []
        return found

    def place(self) -> str:
        """Where the next run goes: a new namespace."""
        namespace = f"ns{next(_counter)}"
        self.bao.request("POST", f"sys/namespaces/{namespace}")
        return namespace

    def run(self, namespace: str, token: str, *args: str) -> Result:
        env = {"VAULT_ADDR": self.bao.address, "VAULT_TOKEN": token, "VAULT_NAMESPACE": namespace, **self.env}
        return self.cli(*args, env=env)

    def apply(self, policy: str, earlier: bool) -> tuple[str, str, Result]:
        namespace, token = self.fresh(policy, earlier)
        self.sent.clear()
        state = str(self.files["state"])
        return namespace, token, self.run(namespace, token, "apply", "-f", state, "--auto-approve", "--allow-destroy",
                                          "--allow-mass-change")


class Servers(Namespaces):
    """A fresh dev server per run instead of a namespace, for the server-wide kinds (configured in
    the root namespace only). The next server starts while a run goes on; old ones stop aside."""

    def __init__(self, cli: Cli, files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                 config_hcl: str = "") -> None:
        self.config_hcl = config_hcl
        self.pool = ThreadPoolExecutor(2, thread_name_prefix="servers")
        self.spare = self.pool.submit(self._start)
        self.servers: list[DevServer] = []
        super().__init__(self.spare.result(), cli, files, monkeypatch, env)
        self.spare = self.pool.submit(self._start)

    def _start(self) -> DevServer:
        server = DevServer(config_hcl=self.config_hcl).start()
        self.servers.append(server)
        return server

    def place(self) -> str:
        self.pool.submit(self.bao.stop)
        self.bao, self.spare = self.spare.result(), self.pool.submit(self._start)
        return ""

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for server in self.servers:
            server.stop()


def required_policy(cli: Cli, state: Path) -> str:
    result = cli("required-policy", "-f", str(state))
    assert result.code == 0 and not result.err, result
    return result.out


def blocks(policy: str) -> list[tuple[str, str]]:
    """(path, the block's text) of every block, in order; the comments above a block stay outside it."""
    return [(m["path"], m.group(0)) for m in BLOCK.finditer(policy)]


def check_enough_and_needed(namespaces: Namespaces, policy: str) -> int:
    """The policy lets a token apply `files["state"]` on a fresh namespace and on one where root
    applied `files["earlier"]`, and plan nothing after; without any one block (or one block's sudo),
    plan or apply fails naming a request that block allows. Returns how many variants were tried."""
    found = blocks(policy)
    assert len(found) == policy.count('path "')
    files = namespaces.files
    # Enough: on a fresh namespace (everything created), and after an earlier apply of the stack
    # and another stack's inventory (everything updated, the extra objects pruned); then nothing to do.
    used: dict[bool, set[str]] = {}
    for earlier in (False, True):
        namespace, token, applied = namespaces.apply(policy, earlier)
        used[earlier] = set(namespaces.sent)
        assert applied.code == 0, applied
        assert "Apply complete!" in applied.out
        assert (" 0 destroyed" not in applied.out) == earlier
        again = namespaces.run(namespace, token, "plan", "-f", str(files["state"]), "--detailed-exitcode")
        assert again.code == 0 and "No changes." in again.out, again
    # Needed: without any one block (or the sudo of a block that has it), apply or the plan after it
    # is refused naming a request that block allows. A block is first tried in the run whose
    # requests it allowed: one run per block, mostly.
    variants = [(path, policy.replace(text, "")) for path, text in found]
    variants += [(path, policy.replace(text, text.replace(', "sudo"', ""))) for path, text in found if "sudo" in text]
    unneeded = []
    for path, without in variants:
        first = not any(matches(path, sent) for sent in used[False])
        for earlier in (first, not first):
            namespace, token, result = namespaces.apply(without, earlier)
            if result.code == 0 and UNRECORDED in result.err:
                break  # converged, but could not read the inventories, so it could not record what it did
            if result.code == 0:
                result = namespaces.run(namespace, token, "plan", "-f", str(files["state"]))
            if result.code != 0:
                break
        else:
            unneeded.append(path)
            continue
        output = result.out + result.err
        assert "Traceback" not in output
        if result.code == 0:  # the inventory warning names the list it missed
            assert any(matches(path, p) for p in re.findall(r"may not list (\S+),", result.err)), (path, output)
            continue
        assert "permission denied" in output, (path, output)
        denied = [p.partition("?")[0] for _, p in DENIED.findall(output.split("permission denied", 1)[1])]
        assert any(matches(path, p) for p in denied), (path, output)
    assert unneeded == [], unneeded
    return len(variants)
