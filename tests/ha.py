"""A real 3-node OpenBao HA cluster (integrated raft storage) on 127.0.0.1, for the HA tests.

Three `bao server -config` processes on free ports in a temporary directory, initialised with one
unseal key, unsealed, and waited on until there is a leader and both followers are raft voters (so a
new leader can be elected when the leader is killed). `stop()` ends every process it started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from vault_state.sandbox import bao_binary, free_port

NODE_CONFIG = """
api_addr      = "http://127.0.0.1:{api}"
cluster_addr  = "https://127.0.0.1:{cluster}"
disable_mlock = true
storage "raft" {{
  path    = "{data}"
  node_id = "{name}"
  performance_multiplier = 1
{joins}
}}
listener "tcp" {{
  address         = "127.0.0.1:{api}"
  cluster_address = "127.0.0.1:{cluster}"
  tls_disable     = true
}}
"""


@dataclass
class Node:
    name: str
    api: int
    cluster: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.api}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Cluster:
    """Three raft nodes; `token` is the root token once started."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="vault-state-ha-")))
    nodes: list[Node] = field(default_factory=list)
    token: str = ""
    unseal_key: str = ""

    def start(self) -> Cluster:
        self.nodes = [Node(f"n{i}", free_port(), free_port()) for i in range(1, 4)]
        for node in self.nodes:
            self._launch(node)
        self._init(self.nodes[0])
        for node in self.nodes:
            self.unseal(node)
        self.request(self.nodes[0], "POST", "sys/storage/raft/autopilot/configuration",
                     {"server_stabilization_time": "1s", "cleanup_dead_servers": False})
        self.wait_for(lambda: self._voters() == 3, "3 raft voters", 60)
        return self

    def _launch(self, node: Node) -> None:
        data = self.root / node.name
        data.mkdir(exist_ok=True)
        joins = "\n".join(f'  retry_join {{ leader_api_addr = "{n.address}" }}' for n in self.nodes)
        config = self.root / f"{node.name}.hcl"
        config.write_text(NODE_CONFIG.format(api=node.api, cluster=node.cluster, data=data, name=node.name,
                                             joins=joins))
        log = (self.root / f"{node.name}.log").open("ab")
        env = {**os.environ, "HOME": str(self.root)}
        node.process = subprocess.Popen([bao_binary(), "server", f"-config={config}"], stdout=log,
                                        stderr=subprocess.STDOUT, env=env, cwd=self.root)
        self.wait_for(lambda: self._answers(node), f"{node.name} listening", 30)

    def _answers(self, node: Node) -> bool:
        try:
            requests.get(f"{node.address}/v1/sys/seal-status", timeout=1)
            return True
        except requests.RequestException:
            return False

    def _init(self, node: Node) -> None:
        response = requests.put(f"{node.address}/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1},
                                timeout=60)
        response.raise_for_status()
        body = response.json()
        self.token, self.unseal_key = body["root_token"], body["keys"][0]

    def unseal(self, node: Node) -> None:
        def unsealed() -> bool:
            response = requests.put(f"{node.address}/v1/sys/unseal", json={"key": self.unseal_key}, timeout=5)
            return response.status_code == 200 and not response.json().get("sealed", True)

        self.wait_for(unsealed, f"{node.name} unsealed", 60)

    def _voters(self) -> int:
        leader = self.leader()
        if leader is None:
            return 0
        response = self.request(leader, "GET", "sys/storage/raft/configuration")
        servers = response.json().get("data", {}).get("config", {}).get("servers", [])
        return sum(1 for s in servers if s.get("voter"))

    def leader(self) -> Node | None:
        """The active node, as the nodes themselves report it."""
        for node in self.nodes:
            if not node.alive:
                continue
            try:
                body = requests.get(f"{node.address}/v1/sys/leader", timeout=2).json()
            except (requests.RequestException, ValueError):
                continue
            if body.get("is_self"):
                return node
        return None

    def standby(self) -> Node:
        leader = self.leader()
        return next(n for n in self.nodes if n.alive and n is not leader)

    def request(self, node: Node, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        return requests.request(method, f"{node.address}/v1/{path}", json=body,
                                headers={"X-Vault-Token": self.token}, timeout=30)

    def kill(self, node: Node) -> None:
        """SIGKILL, as a crash would."""
        if node.process is not None and node.alive:
            node.process.kill()
            node.process.wait()

    def restart(self, node: Node) -> None:
        """Start a killed node again and wait until its own copy has caught up with the leader's."""
        self.wait_for(lambda: self.leader() is not None, "leader", 60)
        self._launch(node)
        self.unseal(node)
        leader = self.leader()
        assert leader is not None
        committed = int(requests.get(f"{leader.address}/v1/sys/leader", timeout=5).json()["raft_committed_index"])
        self.wait_for(lambda: int(requests.get(f"{node.address}/v1/sys/leader", timeout=5).json()
                                  ["raft_applied_index"]) >= committed, f"{node.name} caught up", 60)

    def wait_for(self, check: Any, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"HA cluster: no {what} after {timeout}s; logs in {self.root}")

    def stop(self) -> None:
        for node in self.nodes:
            if node.process is not None and node.alive:
                node.process.terminate()
                try:
                    node.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()
        if not os.environ.get("VAULT_STATE_KEEP_HA"):  # set it to keep the nodes' logs for a failing test
            shutil.rmtree(self.root, ignore_errors=True)


def dump(cluster: Cluster) -> str:
    """Where each node stands, for a failing assertion's message."""
    return json.dumps({n.name: {"alive": n.alive, "address": n.address} for n in cluster.nodes})
