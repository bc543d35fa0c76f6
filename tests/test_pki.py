"""PKI engines' configuration against a real OpenBao server: the issuer made once, roles that work.

Field round trips of roles, URLs and CRL settings are in test_fields_round_trip.py; here: the issuer
is generated once and never compared or re-generated, an imported bundle's key is never printed,
a role issues a certificate for an allowed name and refuses another, prune deletes roles only.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Cli, read
from test_fields_round_trip import assert_empty

from vault_state.sandbox import DevServer

NOTE = "note: pki_root/pki: an issuer exists on this mount: root's fields are not compared"


def state(tmp: Path, pki: dict[str, Any], prune: dict[str, bool] | None = None) -> Path:
    path = tmp / "state.yaml"
    engine = {"type": "pki", "tune": {"max_lease_ttl": "87600h"}, "pki": pki}
    path.write_text(json.dumps({"version": 1, "secrets_engines": {"pki": engine}, "prune": prune or {}}))
    return path


ROOT = {"common_name": "example.com", "key_type": "ec", "ttl": "8760h", "issuer_name": "root-2026"}
WEB = {"allowed_domains": ["example.com"], "allow_subdomains": True, "max_ttl": "72h", "key_type": "ec"}


def issuers(bao: DevServer) -> dict[str, Any]:
    info: dict[str, Any] = bao.request("LIST", "pki/issuers").json()["data"]["key_info"]
    return info


def apply(cli: Cli, path: Path, *extra: str) -> str:
    result = cli("apply", "-f", str(path), "--auto-approve", *extra)
    assert result.code == 0, result.out + result.err
    return result.out + result.err


def test_the_root_is_generated_once_and_never_compared_again(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    path = state(tmp_path, {"root": ROOT, "roles": {"web": WEB}})
    planned = cli("plan", "-f", str(path))
    assert "+ pki_root/pki" in planned.out and 'common_name = "example.com"' in planned.out
    apply(cli, path)
    [(issuer_id, first)] = issuers(bao).items()
    assert first["issuer_name"] == "root-2026" and first["is_default"]
    assert read(bao, f"pki/issuer/{issuer_id}")["revocation_signature_algorithm"] == "ECDSAWithSHA256"

    again = cli("plan", "-f", str(path), "--detailed-exitcode")
    assert again.code == 0 and NOTE in again.out and "No changes." in again.out, again.out
    apply(cli, path)
    # A changed root in the file is not compared: the issuer stays, nothing is generated.
    changed = state(tmp_path, {"root": {**ROOT, "common_name": "other.example", "key_type": "rsa"}})
    assert cli("plan", "-f", str(changed), "--detailed-exitcode").code == 0
    apply(cli, changed)
    assert issuers(bao) == {issuer_id: first}


def test_a_plan_with_other_changes_says_the_issuer_exists(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    apply(cli, state(tmp_path, {"root": ROOT}))
    planned = cli("plan", "-f", str(state(tmp_path, {"root": ROOT, "roles": {"web": WEB}})))
    assert NOTE in planned.out and "+ pki_role/pki/web" in planned.out, planned.out
    markdown = cli("plan", "-f", str(state(tmp_path, {"root": ROOT, "roles": {"web": WEB}})), "--format", "markdown")
    assert "`pki_root/pki`: an issuer exists on this mount" in markdown.out, markdown.out
    document = json.loads(cli("plan", "-f", str(tmp_path / "state.yaml"), "--format", "json").out)
    [root] = [c for c in document["changes"] if c["id"] == "pki_root/pki"]
    assert root["action"] == "no-op" and root["warnings"]


def test_an_existing_issuer_is_kept_and_not_regenerated(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """A mount that already has an issuer (made by hand): the file's root is not generated."""
    bao.request("POST", "sys/mounts/pki", {"type": "pki"})
    bao.request("POST", "pki/root/generate/internal", {"common_name": "by-hand.example", "issuer_name": "manual"})
    before = issuers(bao)
    path = state(tmp_path, {"root": ROOT})
    planned = cli("plan", "-f", str(path))
    assert "pki_root" not in planned.out.replace(NOTE, ""), planned.out
    apply(cli, path)
    assert issuers(bao) == before


def test_a_role_issues_for_an_allowed_name_and_refuses_another(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    apply(cli, state(tmp_path, {"root": ROOT, "roles": {"web": WEB}}))
    issued = bao.request("POST", "pki/issue/web", {"common_name": "www.example.com", "ttl": "1h"})
    assert issued.status_code == 200, issued.text
    assert "BEGIN CERTIFICATE" in issued.json()["data"]["certificate"]
    with pytest.raises(RuntimeError, match=r"400 .*common name www\.evil\.example not allowed by this role"):
        bao.request("POST", "pki/issue/web", {"common_name": "www.evil.example"})


def test_removing_the_root_leaves_the_issuer_and_prune_deletes_roles_only(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    crl = {"expiry": "48h", "auto_rebuild": True}
    apply(cli, state(tmp_path, {"root": ROOT, "crl": crl, "roles": {"web": WEB, "api": WEB}}))
    before = issuers(bao)
    path = state(tmp_path, {"roles": {"web": WEB}}, prune={"pki_roles": True})
    planned = cli("plan", "-f", str(path))
    assert "- pki_role/pki/api" in planned.out and "pki_root" not in planned.out and "pki_crl" not in planned.out
    apply(cli, path)
    assert bao.request("LIST", "pki/roles").json()["data"]["keys"] == ["web"]
    assert issuers(bao) == before and read(bao, "pki/config/crl")["expiry"] == "172800"
    assert_empty(cli, path)


def test_generate_lease_round_trips_alone(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """generate_lease cannot go with no_store (the round-trip example sets no_store)."""
    path = state(tmp_path, {"roles": {"web": {**WEB, "generate_lease": True}}})
    apply(cli, path)
    assert read(bao, "pki/roles/web")["generate_lease"] is True
    assert_empty(cli, path)
    reset = state(tmp_path, {"roles": {"web": WEB}})
    assert "~ generate_lease: true -> false" in cli("plan", "-f", str(reset)).out


def test_a_bundle_is_imported_once_and_its_key_never_printed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    key, cert = tmp_path / "ca.key", tmp_path / "ca.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", "/CN=imported.example", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(cert.read_text() + key.read_text())
    path = state(tmp_path, {"root": {"pem_bundle": {"file": str(bundle)}}})
    planfile = tmp_path / "plan.json"
    planned = cli("plan", "-f", str(path), "-o", str(planfile))
    assert "pem_bundle = (sensitive)" in planned.out and "PRIVATE KEY" not in planned.out, planned.out
    secret_line = key.read_text().splitlines()[1]
    assert "PRIVATE KEY" not in planfile.read_text() and secret_line not in planfile.read_text()
    applied = cli("apply", str(planfile))  # the saved plan: the bundle is read again from its file
    assert applied.code == 0 and "PRIVATE KEY" not in applied.out + applied.err, applied.out + applied.err
    [(issuer_id, _)] = issuers(bao).items()
    assert read(bao, f"pki/issuer/{issuer_id}")["certificate"].strip() == cert.read_text().strip()
    assert_empty(cli, path)
    saved = cli("plan", "-f", str(path), "--format", "json")
    assert "PRIVATE KEY" not in saved.out


def test_export_writes_roles_urls_and_crl_and_says_why_not_the_root(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    urls = {"issuing_certificates": ["https://vault.example/v1/pki/ca"]}
    apply(cli, state(tmp_path, {"root": ROOT, "urls": urls, "crl": {"expiry": "48h"}, "roles": {"web": WEB}}))
    exported = cli("export")
    assert exported.code == 0, exported.err
    pki = yaml.safe_load(exported.out)["secrets_engines"]["pki"]["pki"]
    assert pki == {
        "urls": urls,
        "crl": {"expiry": "2d"},
        "roles": {"web": {"allowed_domains": ["example.com"], "allow_subdomains": True, "key_type": "ec",
                          "key_bits": 256, "max_ttl": "3d"}},
    }
    assert "pki_root/pki: give either common_name (to generate) or pem_bundle (to import)" in exported.out
    copy = tmp_path / "exported.yaml"
    copy.write_text(exported.out)
    assert_empty(cli, copy)


@pytest.mark.parametrize(("key_type", "stored"), [("rsa", 2048), ("ec", 256), ("ed25519", 0), ("any", 0)])
def test_key_bits_left_out_reads_back_as_vault_stores_it(
    key_type: str, stored: int, cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    path = state(tmp_path, {"roles": {"r": {"key_type": key_type}}})
    apply(cli, path)
    assert read(bao, "pki/roles/r")["key_bits"] == stored
    assert_empty(cli, path)


def test_every_root_field_is_in_the_generated_certificate(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """Vault never returns the root's fields: the certificate it made is where they show."""
    from test_fields_round_trip import PKI_ROOT

    apply(cli, state(tmp_path, {"root": PKI_ROOT}))
    [(issuer_id, info)] = issuers(bao).items()
    assert info["issuer_name"] == "root-2026"
    assert read(bao, f"pki/issuer/{issuer_id}")["key_id"] == read(bao, "pki/key/root-key")["key_id"]
    pem = read(bao, f"pki/issuer/{issuer_id}")["certificate"]
    text = subprocess.run(["openssl", "x509", "-noout", "-text"], input=pem, text=True, check=True,
                          capture_output=True).stdout
    for shown in ("CN = example.com", "OU = ops", "O = Example Inc", "C = NL", "L = Amsterdam", "ST = NH",
                  "street = Main St 1", "postalCode = 1011", "DNS:ca.example.com", "IP Address:10.0.0.1",
                  "URI:spiffe://example/ca", "pathlen:2", "DNS:example.com", "ASN1 OID: secp384r1",
                  "ecdsa-with-SHA384"):  # signature_bits 512 and use_pss apply to RSA keys: EC uses the curve's hash
        assert shown in text, shown
    assert "DNS:example.com, " not in text.split("Subject Alternative Name")[1].split("\n")[1]  # CN excluded
