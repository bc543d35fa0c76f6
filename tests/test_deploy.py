"""deploy/: every manifest against the Kubernetes and Flux schemas, the pods' hardening, and their commands run for real.

The last tests run the pods' own command lines (args taken from the manifests, mount paths mapped to
local directories laid out as the kubelet lays out a ConfigMap) against a real OpenBao server, logged
in through the kubernetes auth method with a projected-style service account token from the fake
Kubernetes API: the hand-written `vault-state` policy is enough to plan and apply the deploy's files.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Cli
from kube_fake import FakeKube
from ruamel.yaml import YAML

from tests.cli_lines import parse_line
from tests.manifests import object_errors, validate_object
from vault_state.sandbox import DevServer
from vault_state.spec.many import load_states
from vault_state.spec.policies import PolicyFile

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
STATE = DEPLOY / "state"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def manifest_files() -> list[Path]:
    """Every Kubernetes or Flux manifest under deploy/ (not the state files, not kustomization.yaml)."""
    return sorted(p for p in DEPLOY.rglob("*.yaml")
                  if p.name != "kustomization.yaml" and STATE not in p.parents)


def objects() -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> object, over every manifest."""
    found = {}
    for path in manifest_files():
        for document in documents(path):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())


def pod_templates() -> dict[str, dict[str, Any]]:
    """Workload name -> its pod spec."""
    found = {}
    for (kind, name), document in objects().items():
        if kind == "CronJob":
            found[name] = document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif kind in {"Job", "Deployment"}:
            found[name] = document["spec"]["template"]["spec"]
    return found


def state_document() -> Any:
    return YAML(typ="safe").load((STATE / "vault.yaml").read_text())


def dockerfile_user() -> int:
    (user,) = re.findall(r"^USER\s+(\d+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    return int(user)


# --- schemas ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_manifest_validates(path: Path) -> None:
    """Kubernetes objects against the API's schemas (strict), Flux objects against the Flux CRDs."""
    for document in documents(path):
        validate_object(document)


def test_the_validators_refuse_a_misspelt_field_and_a_wrong_type() -> None:
    job = documents(DEPLOY / "job-apply.yaml")[0]
    job["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesytem"] = True
    assert "'readOnlyRootFilesytem' was unexpected" in " ".join(object_errors(job))
    sync = documents(DEPLOY / "flux" / "sync.yaml")[0]
    sync["spec"]["prune"] = "yes"
    del sync["spec"]["sourceRef"]
    assert sorted(object_errors(sync)) == ["spec/prune: 'yes' is not of type 'boolean'",
                                           "spec: 'sourceRef' is a required property"]
    rule = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "metadata": {"name": "r"},
            "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "vault_state_drift > 0"}]}]}}
    assert object_errors(rule) == ["alert A: expr names ['vault_state_drift']; vault-state exports "
                                   "['vault_state_drift_objects', 'vault_state_last_run_timestamp_seconds', "
                                   "'vault_state_plan_success']"]


def test_the_flux_crds_are_vendored_with_their_source_and_license() -> None:
    data = ROOT / "tests" / "data" / "flux"
    source = (data / "SOURCE.md").read_text()
    assert "Apache License 2.0" in source and "LICENSE" in source
    assert (data / "LICENSE-Apache-2.0.txt").read_text().split()[:4] == ["Apache", "License", "Version", "2.0,"]
    for crd in data.glob("*.yaml"):
        assert crd.name in source


# --- kustomize -------------------------------------------------------------------------------------


def test_the_kustomization_applies_every_manifest_and_generates_the_configmaps() -> None:
    config = kustomization()
    top = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(config["resources"]) == top
    assert config["namespace"] == "vault-state"
    for generator in config["configMapGenerator"]:
        for entry in generator["files"]:
            assert (DEPLOY / entry.split("=")[-1]).is_file(), entry
    for generator in config["configMapGenerator"]:  # what the API server accepts in one ConfigMap
        keys = {entry.split("=")[0] if "=" in entry else Path(entry).name: DEPLOY / entry.split("=")[-1]
                for entry in generator["files"]}
        assert all(re.fullmatch(r"[-._a-zA-Z0-9]+", key) for key in keys), keys
        assert sum(path.stat().st_size for path in keys.values()) < 1024 * 1024
    state_files = {Path(f).name for g in config["configMapGenerator"] if g["name"] == "vault-state-files"
                   for f in g["files"]}
    assert state_files == {p.name for p in STATE.iterdir()}, "the ConfigMap misses a state file"
    (image,) = config["images"]
    for name, pod in pod_templates().items():
        assert [c["image"] for c in pod["containers"]] == [image["name"]], name


def test_every_namespaced_object_is_in_the_namespace() -> None:
    for (kind, name), document in objects().items():
        if kind == "Namespace":
            continue
        wanted = "flux-system" if "fluxcd.io" in document["apiVersion"] else kustomization()["namespace"]
        assert document["metadata"]["namespace"] == wanted, (kind, name)


# --- the pods --------------------------------------------------------------------------------------


@pytest.mark.parametrize("workload", sorted(pod_templates()))
def test_the_pod_is_locked_down(workload: str) -> None:
    """runAsNonRoot as the image's user, RuntimeDefault seccomp, read-only root, no capabilities, no
    escalation, bounded resources, no Kubernetes API token, /tmp writable (HOME in the image)."""
    pod = pod_templates()[workload]
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": dockerfile_user(),
                                      "runAsGroup": dockerfile_user(), "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["serviceAccountName"] == "vault-state"
    assert pod["automountServiceAccountToken"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    # The volume types the `restricted` Pod Security Standard allows (the namespace enforces it).
    restricted = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                  "projected", "secret"}
    assert all(set(volume) - {"name"} <= restricted for volume in volumes.values())
    for container in pod["containers"]:
        assert container["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                                "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        mounts = {m["mountPath"]: volumes[m["name"]] for m in container["volumeMounts"]}
        assert "emptyDir" in mounts["/tmp"]
        assert all(m.get("readOnly") for m in container["volumeMounts"] if m["mountPath"] != "/tmp")


@pytest.mark.parametrize("workload", sorted(pod_templates()))
def test_the_pod_logs_in_as_the_role_that_binds_its_service_account(workload: str) -> None:
    pod = pod_templates()[workload]
    (container,) = pod["containers"]
    args = container["args"]
    role_name = args[args.index("--login-role") + 1]
    assert args[args.index("--login") + 1] == "kubernetes"
    role = state_document()["auth_methods"]["kubernetes"]["roles"][role_name]
    account = objects()[("ServiceAccount", pod["serviceAccountName"])]
    assert role["bound_service_account_names"] == [account["metadata"]["name"]]
    assert role["bound_service_account_namespaces"] == [account["metadata"]["namespace"]]
    assert role["token_policies"] == [role_name]
    # The JWT file is the projected token, requested for the audience the role accepts.
    jwt = Path(args[args.index("--login-jwt-file") + 1])
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    (source,) = {v["name"]: v for v in pod["volumes"]}[mounts[str(jwt.parent)]]["projected"]["sources"]
    assert source["serviceAccountToken"]["path"] == jwt.name
    assert source["serviceAccountToken"]["audience"] == role["audience"]
    assert source["serviceAccountToken"]["expirationSeconds"] >= 600  # the API server's minimum
    # -f is the generated ConfigMap of the state files; VAULT_CACERT is in the generated CA ConfigMap.
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts[args[args.index("-f") + 1]]]["configMap"]["name"] == "vault-state-files"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["VAULT_ADDR"].startswith("https://")
    cacert = Path(env["VAULT_CACERT"])
    assert volumes[mounts[str(cacert.parent)]]["configMap"]["name"] == "vault-ca"
    assert f"{cacert.name}=vault-ca.crt" in next(g for g in kustomization()["configMapGenerator"]
                                                 if g["name"] == "vault-ca")["files"]


@pytest.mark.parametrize("workload", sorted(pod_templates()))
def test_the_pod_command_parses(workload: str, capsys: pytest.CaptureFixture[str]) -> None:
    (container,) = pod_templates()[workload]["containers"]
    parsed = parse_line(container["args"], capsys)
    assert parsed is not None and parsed.command == container["args"][0]


def test_the_apply_job_is_recreated_by_flux() -> None:
    job = objects()[("Job", "vault-state-apply")]
    sync = objects()[("Kustomization", "vault-config")]
    assert job["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/force"] == "enabled"
    assert "force" not in sync["spec"], "force only the Job: spec.force would re-create any object"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"][:4] == [
        "apply", "-f", "/etc/vault-state/state", "--auto-approve"]
    # Removed after it finishes and before the next reconcile, which creates it again; failing before
    # the Kustomization's health check times out.
    assert job["spec"]["ttlSecondsAfterFinished"] < seconds(sync["spec"]["interval"])
    assert job["spec"]["activeDeadlineSeconds"] < seconds(sync["spec"]["timeout"])
    assert {"apiVersion": "batch/v1", "kind": "Job", "name": "vault-state-apply",
            "namespace": "vault-state"} in sync["spec"]["healthChecks"]


def seconds(duration: str) -> int:
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in re.findall(r"(\d+)([hms])", duration))


def test_the_drift_cronjob_plans_and_fails_on_drift_without_retrying() -> None:
    cron = objects()[("CronJob", "vault-state-drift")]
    job = cron["spec"]["jobTemplate"]["spec"]
    (container,) = job["template"]["spec"]["containers"]
    assert container["args"][0] == "plan" and "--detailed-exitcode" in container["args"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    (rule,) = job["podFailurePolicy"]["rules"]
    assert rule == {"action": "FailJob", "onExitCodes": {"containerName": container["name"],
                                                         "operator": "In", "values": [2]}}


def test_the_metrics_service_reaches_the_watch_pod() -> None:
    deployment = objects()[("Deployment", "vault-state-watch")]
    service = objects()[("Service", "vault-state-metrics")]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    args = container["args"]
    assert args[:2] == ["watch", "-f"] and "--apply" not in args and deployment["spec"]["replicas"] == 1
    port = int(args[args.index("--listen") + 1].lstrip(":"))
    (named,) = container["ports"]
    (exposed,) = service["spec"]["ports"]
    assert named["containerPort"] == port == exposed["port"] and exposed["targetPort"] == named["name"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": named["name"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": named["name"]}
    assert service["spec"]["publishNotReadyAddresses"] is True


def test_flux_syncs_this_directory_from_the_git_source() -> None:
    source = objects()[("GitRepository", "vault-config")]
    sync = objects()[("Kustomization", "vault-config")]
    assert sync["spec"]["sourceRef"] == {"kind": "GitRepository", "name": source["metadata"]["name"]}
    assert sync["metadata"]["namespace"] == source["metadata"]["namespace"]
    assert (ROOT / sync["spec"]["path"] / "kustomization.yaml").is_file()
    assert f"!/{sync['spec']['path'].removeprefix('./')}/" in source["spec"]["ignore"].splitlines()
    assert sync["spec"]["prune"] is True


# --- the state files -------------------------------------------------------------------------------


def test_the_state_files_policy_is_read_from_the_policy_file() -> None:
    """vault.yaml's `vault-state` policy is vault-state.hcl itself (one text, in the ConfigMap beside it)."""
    assert state_document()["policies"]["vault-state"] == {"file": "vault-state.hcl"}
    policy = load_states([str(STATE)]).state.policies["vault-state"]
    assert isinstance(policy, PolicyFile)
    assert policy.to_hcl() == (STATE / "vault-state.hcl").read_text()


def test_the_state_files_are_valid_and_lint_clean(offline_cli: Cli) -> None:
    result = offline_cli("validate", "-f", str(STATE))
    assert (result.code, result.err) == (0, ""), result.out
    assert result.out.endswith(": valid (1 secrets engine, 2 policies, 1 auth method, 2 auth roles)\n")
    result = offline_cli("lint", "-f", str(STATE), "--strict")
    assert result.code == 0, result.out + result.err


def configmap_mount(directory: Path, files: dict[str, str]) -> Path:
    """The files of a ConfigMap as the kubelet mounts them: a hidden timestamped directory holding
    them, a `..data` symlink to it, and one symlink per key through `..data`."""
    directory.mkdir(parents=True)
    payload = directory / "..2026_12_02_06_00_00.000000001"
    payload.mkdir()
    for key, text in files.items():
        (payload / key).write_text(text)
        (directory / key).symlink_to(Path("..data") / key)
    (directory / "..data").symlink_to(payload.name)
    return directory


def generated_files() -> dict[str, str]:
    (generator,) = [g for g in kustomization()["configMapGenerator"] if g["name"] == "vault-state-files"]
    return {Path(entry).name: (DEPLOY / entry).read_text() for entry in generator["files"]}


def test_the_configmap_mount_reads_as_the_state_directory(offline_cli: Cli, tmp_path: Path) -> None:
    """`-f DIR` on the mounted ConfigMap reads each key once (the `..data` links are hidden)."""
    mounted = configmap_mount(tmp_path / "state", generated_files())
    result = offline_cli("validate", "-f", str(mounted))
    assert (result.code, result.err) == (0, ""), result.out
    assert result.out == f"{mounted}: valid (1 secrets engine, 2 policies, 1 auth method, 2 auth roles)\n"


# --- the pods' commands against a real server ------------------------------------------------------


def in_the_test(args: list[str], mounts: dict[str, Path]) -> list[str]:
    """The container's args with each mount path replaced by the local directory standing for it."""
    out = []
    for arg in args:
        for path, local in mounts.items():
            if arg == path or arg.startswith(path + "/"):
                arg = str(local) + arg[len(path):]
        out.append(arg)
    return out


def pointed_at(fake: FakeKube) -> dict[str, str]:
    """The ConfigMap's files with the kubernetes auth config aimed at the fake API server: its URL and
    CA, and no local service account files (OpenBao runs outside a pod here). The policies and roles
    are the deploy's own, unchanged."""
    files = generated_files()
    document = YAML()  # round trip: everything else stays as written
    state = document.load(files["vault.yaml"])
    config = state["auth_methods"]["kubernetes"]["config"]
    config["kubernetes_host"] = fake.url
    config["disable_local_ca_jwt"] = True
    files["ca.crt"] = fake.ca_pem
    from io import StringIO
    text = StringIO()
    document.dump(state, text)
    files["vault.yaml"] = text.getvalue()
    return files


def test_the_pods_commands_bootstrap_plan_and_apply_with_their_own_policy(
    cli: Cli, bao: DevServer, tmp_path: Path, certs: tuple[Path, Path, Path]
) -> None:
    """The docs' bootstrap (an admin applies the login role and its policy once), then the Job's
    apply and the CronJob's plan, run with their manifests' args and logged in as the pod would be."""
    fake = FakeKube(*certs).start()
    try:
        account = objects()[("ServiceAccount", "vault-state")]["metadata"]
        # No reviewer JWT: OpenBao reviews each login's token with that token itself.
        fake.add_service_account(account["namespace"], account["name"], reviewer=True)
        state = configmap_mount(tmp_path / "state", pointed_at(fake))
        bootstrap = cli("apply", "-f", str(state), "--auto-approve",
                        "--target", "auth_role/kubernetes/vault-state", "--target", "policy/vault-state")
        assert bootstrap.code == 0, bootstrap.out + bootstrap.err
        assert "Apply complete! Resources: 3 added, 0 changed, 0 destroyed." in bootstrap.out

        tokens = tmp_path / "token"
        tokens.mkdir()
        job = pod_templates()["vault-state-apply"]["containers"][0]
        cron = pod_templates()["vault-state-drift"]["containers"][0]
        (source,) = next(v for v in pod_templates()["vault-state-apply"]["volumes"]
                         if v["name"] == "vault-token")["projected"]["sources"]
        projected = source["serviceAccountToken"]
        (tokens / projected["path"]).write_text(fake.issue(
            account["namespace"], account["name"], [projected["audience"]], projected["expirationSeconds"]))
        mounts = {"/etc/vault-state/state": state, "/var/run/secrets/vault": tokens}
        pod_env = {"VAULT_TOKEN": "", "VAULT_CACERT": ""}  # OpenBao's dev server speaks plain HTTP

        applied = cli(*in_the_test(job["args"], mounts), env=pod_env)
        assert applied.code == 0, applied.out + applied.err
        assert "Apply complete! Resources: 3 added, 0 changed, 0 destroyed." in applied.out  # secret/, eso-*
        assert cli(*in_the_test(cron["args"], mounts), env=pod_env).code == 0

        # Drift by hand: the CronJob's plan exits 2, the Job repairs it, the plan is clean again.
        bao.request("POST", "auth/kubernetes/role/eso-role", {
            "bound_service_account_names": ["external-secrets"], "bound_service_account_namespaces": ["*"],
            "audience": "vault", "token_policies": ["eso-policy"], "token_ttl": "1h"})
        bao.request("DELETE", "sys/policies/acl/eso-policy")
        drift = cli(*in_the_test(cron["args"], mounts), env=pod_env)
        assert drift.code == 2, drift.out + drift.err
        assert "Plan: 1 to add, 1 to change, 0 to destroy." in drift.out
        repaired = cli(*in_the_test(job["args"], mounts), env=pod_env)
        assert repaired.code == 0, repaired.out + repaired.err
        assert cli(*in_the_test(cron["args"], mounts), env=pod_env).code == 0
        assert ("POST", "/apis/authentication.k8s.io/v1/tokenreviews") in fake.calls
    finally:
        fake.stop()


# Each path of the `vault-state` policy, and the run that fails without it: `create` applies the file
# after its objects were deleted (the engine, both policies, the auth method with its config and roles,
# the lock's mount), `update` after each of them was changed by hand.
NEEDED_BY = {
    "sys/mounts": "create",
    "sys/auth": "create",
    "sys/mounts/secret": "create",
    "sys/mounts/secret/tune": "update",
    "secret/config": "create",
    "sys/policies/acl": "create",
    "sys/policies/acl/eso-policy": "create",
    "sys/policies/acl/vault-state": "create",
    "sys/auth/kubernetes": "create",
    "sys/auth/kubernetes/tune": "update",
    "auth/kubernetes/config": "create",
    "auth/kubernetes/role": "update",
    "auth/kubernetes/role/eso-role": "create",
    "auth/kubernetes/role/vault-state": "create",
    "sys/mounts/vault-state": "create",
    "vault-state/data/lock": "create",
    "vault-state/data/inventory/default": "create",
}
LOGIN_ONLY = {"auth/token/renew-self", "auth/token/revoke-self"}
"""The Job logs in (--login kubernetes): its token renews and revokes itself. The tests here apply
with a token made for them; tests/test_required_policy_cluster.py logs in as the Job does."""
INVENTORIES = {"vault-state/metadata/inventory", "vault-state/data/inventory/+"}
"""Reading the stacks' inventories: without them apply still converges the server, but leaves this
stack's inventory as it was (it never writes over what it could not read) and says so."""
PATH_BLOCK = re.compile(r'path "([^"]+)" \{\n(?:.*\n)*?\}\n')


def policy_blocks() -> dict[str, str]:
    return {m[1]: m[0] for m in PATH_BLOCK.finditer((STATE / "vault-state.hcl").read_text())}


def delete_the_files_objects(bao: DevServer) -> None:
    for path in ("sys/mounts/secret", "sys/policies/acl/eso-policy", "sys/policies/acl/vault-state",
                 "sys/auth/kubernetes", "sys/mounts/vault-state"):
        bao.request("DELETE", path)


def change_the_files_objects(bao: DevServer) -> None:
    bao.request("POST", "sys/mounts/secret/tune", {"description": "changed by hand"})
    bao.request("POST", "secret/config", {"max_versions": 3})
    for name in ("eso-policy", "vault-state"):
        bao.request("PUT", f"sys/policies/acl/{name}", {"policy": 'path "x/*" { capabilities = ["read"] }'})
    bao.request("POST", "sys/auth/kubernetes/tune", {"description": "changed by hand", "default_lease_ttl": "2h"})
    bao.request("POST", "auth/kubernetes/config", {"kubernetes_host": "https://elsewhere.example.com",
                                                   "kubernetes_ca_cert": (STATE / "ca.crt").read_text()})
    for role in ("eso-role", "vault-state"):
        bao.request("POST", f"auth/kubernetes/role/{role}", {
            "bound_service_account_names": ["someone"], "bound_service_account_namespaces": ["*"],
            "token_policies": [role]})


SCENARIOS = {"create": delete_the_files_objects, "update": change_the_files_objects}


def apply_with_only(policy: str, scenario: str, cli: Cli, bao: DevServer, state: Path) -> int:
    """Converge as root, then make the scenario's difference and apply with a token whose only policy
    (besides `default`) is POLICY; its exit code."""
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    bao.request("PUT", "sys/policies/acl/probe", {"policy": policy})
    token = bao.request("POST", "auth/token/create", {"policies": ["probe"], "ttl": "5m"}).json()["auth"]["client_token"]
    SCENARIOS[scenario](bao)
    # No retries: with the lock's mount deleted, its path answers "no handler for route" like a mount
    # not ready yet, which is otherwise retried for 15 s.
    return cli("apply", "-f", str(state), "--auto-approve", env={"VAULT_TOKEN": token, "VAULT_MAX_RETRIES": "0"}).code


def test_every_path_of_the_policy_is_accounted_for() -> None:
    assert set(policy_blocks()) == set(NEEDED_BY) | LOGIN_ONLY | INVENTORIES
    outside = PATH_BLOCK.sub("", (STATE / "vault-state.hcl").read_text())
    assert all(not line or line.startswith("#") for line in outside.splitlines()), outside  # no block missed


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_policy_is_enough(scenario: str, cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    shutil.copytree(STATE, tmp_path / "state")
    assert apply_with_only((STATE / "vault-state.hcl").read_text(), scenario, cli, bao, tmp_path / "state") == 0
    assert cli("plan", "-f", str(tmp_path / "state"), "--detailed-exitcode").code == 0


@pytest.mark.parametrize("path", sorted(NEEDED_BY))
def test_without_any_one_path_apply_fails(path: str, cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    shutil.copytree(STATE, tmp_path / "state")
    without = (STATE / "vault-state.hcl").read_text().replace(policy_blocks()[path], "")
    assert apply_with_only(without, NEEDED_BY[path], cli, bao, tmp_path / "state") == 1


def test_the_policy_does_not_reach_beyond_the_file(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """A token with only the `vault-state` policy cannot touch what the file does not declare."""
    shutil.copytree(STATE, tmp_path / "state")
    assert cli("apply", "-f", str(tmp_path / "state"), "--auto-approve").code == 0
    token = bao.request("POST", "auth/token/create", {"policies": ["vault-state"], "ttl": "5m"}).json()
    headers = {"X-Vault-Token": token["auth"]["client_token"]}
    import requests
    for method, path in [("PUT", "sys/policies/acl/other"), ("POST", "sys/mounts/other"),
                         ("POST", "sys/auth/other"), ("GET", "secret/data/app"),
                         ("POST", "auth/kubernetes/role/other"), ("DELETE", "sys/mounts/secret")]:
        response = requests.request(method, f"{bao.address}/v1/{path}", headers=headers,
                                    json={"type": "kv", "policy": 'path "x" { capabilities = ["read"] }'}, timeout=10)
        assert response.status_code == 403, (method, path, response.status_code)


def test_the_policy_file_is_what_required_policy_prints(offline_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """deploy/state/vault-state.hcl is generated: a change to the state files must regenerate it."""
    monkeypatch.chdir(ROOT)  # the policy's header names the -f path as given
    printed = offline_cli("required-policy", "-f", "deploy/state/", "--name", "vault-state", "--login", "kubernetes")
    assert printed.code == 0, printed.err
    assert printed.out == (STATE / "vault-state.hcl").read_text(), (
        "run: vault-state required-policy -f deploy/state/ --name vault-state --login kubernetes "
        "-o deploy/state/vault-state.hcl"
    )


def test_without_the_inventories_apply_converges_and_records_nothing(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    shutil.copytree(STATE, tmp_path / "state")
    assert cli("apply", "-f", str(tmp_path / "state"), "--auto-approve").code == 0
    recorded = bao.request("GET", "vault-state/data/inventory/default").json()["data"]["data"]
    without = (STATE / "vault-state.hcl").read_text().replace(policy_blocks()["vault-state/metadata/inventory"], "")
    bao.request("PUT", "sys/policies/acl/probe", {"policy": without})
    token = bao.request("POST", "auth/token/create", {"policies": ["probe"], "ttl": "5m"}).json()["auth"]["client_token"]
    change_the_files_objects(bao)
    applied = cli("apply", "-f", str(tmp_path / "state"), "--auto-approve", env={"VAULT_TOKEN": token})
    assert applied.code == 0, applied.err
    assert "warning: the inventory of stack default was not updated" in applied.err
    assert bao.request("GET", "vault-state/data/inventory/default").json()["data"]["data"] == recorded
