"""`vault-state watch --targets` as a real process over two real OpenBao dev servers: drift of one
target in its own rows only, a stopped server making its target unreachable while the other keeps
planning, --apply repairing one target; and `watch` polling what a load read besides the state
files (policy files, `policy_files:` patterns, `{file:}` value sources). Nothing is timed: every
wait polls with a generous timeout."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from conftest import Cli
from test_watch import Watch, start_watch, until

from vault_state.sandbox import DevServer

__all__ = ["start_watch"]  # the fixture, shared with test_watch.py

BASE = """version: 1
policies:
  a: 'path "kv/data/a" { capabilities = ["read"] }'
  b: {file: b.hcl}
policy_files: [more/]
secrets_engines:
  kv: {type: kv, version: 2, description: {file: description.txt}}
"""
TARGETS = """targets:
  one: {{address: '{0}', token_env: ONE_TOKEN, files: [base/]}}
  two: {{address: '{1}', token_env: TWO_TOKEN, files: [base/], overlays: [two.yaml]}}
"""


@dataclass
class Fleet:
    servers: list[DevServer]
    env: dict[str, str]
    home: Path

    @property
    def targets(self) -> str:
        return str(self.home / "targets.yaml")


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    servers: list[DevServer] = []
    try:
        for _ in range(2):
            servers.append(DevServer().start())
        home = _write_fleet(tmp_path / "fleet", [s.address for s in servers])
        yield Fleet(servers, {"ONE_TOKEN": servers[0].token, "TWO_TOKEN": servers[1].token}, home)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def offline_fleet(tmp_path: Path) -> Fleet:
    """The same files, with no server behind the addresses (for what is refused before serving)."""
    home = _write_fleet(tmp_path / "fleet", ["http://127.0.0.1:1", "http://127.0.0.1:2"])
    return Fleet([], {"ONE_TOKEN": "x", "TWO_TOKEN": "y"}, home)


def _write_fleet(home: Path, addresses: list[str]) -> Path:
    files = {"base/state.yaml": BASE, "base/b.hcl": 'path "kv/data/b" { capabilities = ["read"] }\n',
             "base/more/c.hcl": 'path "kv/data/c" { capabilities = ["read"] }\n',
             "base/description.txt": "application secrets", "targets.yaml": TARGETS.format(*addresses),
             "two.yaml": "policies:\n  e: 'path \"kv/data/e\" { capabilities = [\"read\"] }'\n"}
    for name, text in files.items():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        (home / name).write_text(text)
    return home


def _apply_all(offline_cli: Cli, fleet: Fleet) -> None:
    result = offline_cli("apply", "--targets", fleet.targets, "--auto-approve", env=fleet.env)
    assert result.code == 0, result.out + result.err


def test_fleet_watch_keeps_each_targets_drift_and_reachability_apart(
        offline_cli: Cli, fleet: Fleet, start_watch: Callable[..., Watch]) -> None:
    _apply_all(offline_cli, fleet)
    one, two = fleet.servers
    watch = start_watch(one, "--targets", fleet.targets, env=fleet.env)

    def drift(target: str) -> float | None:
        return watch.gauge("vault_state_drift_objects", target=target, kind="policy", action="create")

    until(lambda: drift("one") == 0 and drift("two") == 0 and watch.status("/readyz") == 200, "both in sync")
    one.request("DELETE", "sys/policies/acl/a")  # drift by hand on one target
    until(lambda: drift("one") == 1, "one's deleted policy seen")
    assert drift("two") == 0 and watch.gauge("vault_state_drift", target="two") == 0
    assert watch.gauge("vault_state_drift", target="one") == 1
    assert re.search(r"run \d+ \(schedule\) one: 1 change: 1 to add", watch.text())

    two.stop()  # its target is unreachable; the other keeps planning, and the process stays ready
    until(lambda: watch.gauge("vault_state_server_reachable", target="two") == 0, "two unreachable")
    assert watch.gauge("vault_state_plan_success", target="two") == 0
    runs = watch.gauge("vault_state_runs_total", target="one", result="success") or 0
    until(lambda: (watch.gauge("vault_state_runs_total", target="one", result="success") or 0) > runs + 2,
          "one keeps planning")
    assert watch.gauge("vault_state_server_reachable", target="one") == 1
    assert watch.status("/readyz") == 200
    assert requests.get(f"{watch.url}/readyz", timeout=5).text == "ready; unreachable: two\n"
    until(lambda: "two: plan failed" in watch.text() and "backing off" in watch.text(), "two backs off alone")
    assert not re.search(r"\) one: .*backing off", watch.text())

    one.stop()  # no server reached: the process cannot do its work
    until(lambda: watch.status("/readyz") == 503, "not ready when no target is reachable")
    body = requests.get(f"{watch.url}/readyz", timeout=5).text
    assert body == "not ready: no target's last plan reached its server (unreachable: one, two)\n"
    assert watch.stop() == 0
    assert one.token not in watch.text() and two.token not in watch.text()


def test_fleet_watch_apply_repairs_one_targets_drift(offline_cli: Cli, fleet: Fleet,
                                                     start_watch: Callable[..., Watch]) -> None:
    _apply_all(offline_cli, fleet)
    one, two = fleet.servers
    watch = start_watch(one, "--targets", fleet.targets, "--apply", env=fleet.env)
    until(lambda: watch.gauge("vault_state_drift", target="two") == 0, "two planned")
    two.request("DELETE", "sys/policies/acl/c")
    until(lambda: two.request("GET", "sys/policies/acl/c").status_code == 200, "two's policy written again")
    until(lambda: watch.gauge("vault_state_applied_changes_total", target="two") == 1, "one change applied to two")
    assert watch.gauge("vault_state_applied_changes_total", target="one") == 0
    assert watch.gauge("vault_state_apply_success", target="two") == 1
    assert watch.gauge("vault_state_apply_success", target="one") is None  # never had anything to apply
    assert re.search(r"run \d+ \(confirm\) two: no changes", watch.text()), watch.text()
    assert watch.stop() == 0


def test_fleet_watch_apply_stops_after_a_failing_target_unless_keep_going(
        offline_cli: Cli, fleet: Fleet, start_watch: Callable[..., Watch]) -> None:
    one, two = fleet.servers
    weak = one.request("POST", "auth/token/create", {"policies": ["default"]}).json()["auth"]["client_token"]
    env = {**fleet.env, "ONE_TOKEN": weak}  # the canary's token cannot write: its apply fails
    watch = start_watch(one, "--targets", fleet.targets, "--apply", env=env)
    until(lambda: "not applied: one failed before it" in watch.text(), "two is held back")
    assert two.request("GET", "sys/policies/acl/a").status_code == 404
    assert watch.stop() == 0

    watch = start_watch(one, "--targets", fleet.targets, "--apply", "--keep-going", env=env)
    until(lambda: two.request("GET", "sys/policies/acl/a").status_code == 200, "two applied anyway")
    assert watch.stop() == 0


def test_watch_polls_policy_files_patterns_and_value_sources(bao: DevServer, fleet: Fleet,
                                                              start_watch: Callable[..., Watch]) -> None:
    base = fleet.home / "base"
    watch = start_watch(bao, "-f", str(base), "--interval", "1h")
    until(lambda: "run 1 (start)" in watch.text(), "the first run")
    (base / "b.hcl").write_text('path "kv/data/b2" { capabilities = ["read"] }\n')
    until(lambda: f"run 2 ({base / 'b.hcl'} changed)" in watch.text(), "the changed policy file planned at once")
    (base / "more" / "d.hcl").write_text('path "kv/data/d" { capabilities = ["read"] }\n')
    until(lambda: "run 3 (policy_files more/ matches other files)" in watch.text(), "a new policy file planned")
    assert watch.gauge("vault_state_declared_objects", target=bao.address, kind="policy") == 4
    (base / "description.txt").write_text("rotated")
    until(lambda: f"run 4 ({base / 'description.txt'} changed)" in watch.text(), "the value source planned")
    (base / "b.hcl").unlink()  # a failed load still watches the file it could not read
    until(lambda: f"run 5 ({base / 'b.hcl'} is gone)" in watch.text(), "the missing file planned")
    until(lambda: watch.gauge("vault_state_input_valid", target=bao.address) == 0, "the load fails")
    (base / "b.hcl").write_text('path "kv/data/b" { capabilities = ["read"] }\n')
    until(lambda: f"run 6 ({base / 'b.hcl'} appeared)" in watch.text(), "the file back, planned at once")
    until(lambda: watch.gauge("vault_state_input_valid", target=bao.address) == 1, "the load works again")
    assert watch.stop() == 0


def test_fleet_watch_reloads_the_targets_file(offline_cli: Cli, fleet: Fleet,
                                              start_watch: Callable[..., Watch]) -> None:
    one, two = fleet.servers
    watch = start_watch(one, "--targets", fleet.targets, "--interval", "1h", env=fleet.env)
    until(lambda: "run 1 (start) two" in watch.text() and "run 1 (start) one" in watch.text(), "both planned")
    (fleet.home / "two.yaml").write_text("policies: {f: 'path \"kv/data/f\" { capabilities = [\"read\"] }'}\n")
    until(lambda: "run 2 (state files changed) two: 5 changes" in watch.text(), "two planned at once (only it reads it)")
    assert "run 2 (" + "state files changed) one" not in watch.text()
    b_hcl = fleet.home / "base" / "b.hcl"
    b_hcl.write_text('path "kv/data/b2" { capabilities = ["read"] }\n')  # both read it
    until(lambda: f"run 2 ({b_hcl} changed) one" in watch.text(), "one planned at once")
    until(lambda: f"run 3 ({b_hcl} changed) two" in watch.text(), "two planned at once")
    targets = Path(fleet.targets)
    targets.write_text("targets:\n  one: {nope: 1}\n")
    until(lambda: "not reloaded, still watching one, two" in watch.text(), "a bad targets file is logged")
    assert f"{targets}:2:9: unknown key 'nope'" in watch.text()
    targets.write_text(TARGETS.format(one.address, two.address).splitlines()[0] + "\n"
                       + TARGETS.format(one.address, two.address).splitlines()[1] + "\n")
    until(lambda: "reloaded: watching one" in watch.text(), "two removed")
    until(lambda: watch.gauge("vault_state_plan_success", target="two") is None, "two's rows gone")
    assert watch.gauge("vault_state_plan_success", target="one") == 1
    targets.write_text(TARGETS.format(one.address, two.address))  # two back: planned at once, one is not
    until(lambda: "run 1 (targets file changed) two" in watch.text(), "the added target planned")
    assert "run 3 (" not in watch.text().replace(f"run 3 ({b_hcl} changed) two", "")
    assert watch.stop() == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--keep-going"], "error: --keep-going: only with --apply"),
    (["-f", "state.yaml"], "error: --targets: -f cannot be given with it; each target's come from"),
    (["--address", "http://127.0.0.1:1"], "error: --targets: --address cannot be given with it"),
    (["--only", "nope"], "error: --only nope: no target in"),
])
def test_fleet_watch_flag_problems_stop_it_before_it_serves(offline_cli: Cli, offline_fleet: Fleet, args: list[str],
                                                            message: str) -> None:
    result = offline_cli("watch", "--targets", offline_fleet.targets, "--listen", "127.0.0.1:0", *args, env=offline_fleet.env)
    assert result.code == 1
    assert result.err.startswith(message), result.err
    assert "serving" not in result.err


def test_fleet_watch_refuses_a_bad_targets_file_before_it_serves(offline_cli: Cli, offline_fleet: Fleet) -> None:
    Path(offline_fleet.targets).write_text("targets:\n  one: {nope: 1}\n")
    result = offline_cli("watch", "--targets", offline_fleet.targets, "--listen", "127.0.0.1:0", env=offline_fleet.env)
    assert result.code == 1
    assert f"{offline_fleet.targets}:2:9: unknown key 'nope'" in result.err
    assert "serving" not in result.err


def test_watch_only_needs_targets(offline_cli: Cli) -> None:
    result = offline_cli("watch", "--only", "prod-*", "--listen", "127.0.0.1:0")
    assert result.code == 1
    assert result.err.startswith("error: --only and --keep-going choose among the targets of --targets FILE")
