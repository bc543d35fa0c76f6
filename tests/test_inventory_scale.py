"""An inventory of more objects than OpenBao takes strings in one JSON request (it refuses a body of
1,000 strings or more: "refused JSON input due to high complexity"), and fingerprints of more
write-only values than one transit batch may hold: both are written and read back whole."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, write_state

from vault_state.inventory import HMAC_BATCH, ensure_fingerprint_key, fingerprints, stored_part
from vault_state.sandbox import DevServer
from vault_state.sensitive import Sensitive
from vault_state.vault.connection import Connection
from vault_state.vault.gateway import Gateway

POLICIES = 1_100


def test_an_apply_of_more_objects_than_one_request_takes_strings(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    lines = ["version: 1", "stack: big", "prune: owned", "policies:"]
    lines += [f"  p{n:04}: 'path \"kv/p{n:04}/*\" {{ capabilities = [\"read\"] }}'" for n in range(POLICIES)]
    state = write_state(tmp_path, "\n".join(lines) + "\n")
    applied = cli("apply", "-f", str(state), "--auto-approve")
    assert applied.code == 0, applied.err
    stored = bao.request("GET", "vault-state/data/inventory/big").json()["data"]["data"]
    ids, prints = stored_part(stored)
    assert (len(ids), prints, stored["format"]) == (POLICIES, {}, 2)
    assert isinstance(stored["ids"], str)  # one string, not 1,100
    planned = cli("plan", "-f", str(state))
    assert planned.code == 0 and "No changes." in planned.out, planned.out
    assert f"its inventory holds {POLICIES} ids" in planned.out
    # Removing a policy from the file deletes it: the inventory read back from its one string owns it.
    state.write_text(state.read_text().replace("  p0007: 'path \"kv/p0007/*\" { capabilities = [\"read\"] }'\n", ""))
    pruned = cli("plan", "-f", str(state))
    assert "  - policy/p0007" in pruned.out.splitlines(), pruned.out


def test_fingerprints_of_more_values_than_one_transit_batch(bao: DevServer) -> None:
    gateway = Gateway(Connection(address=bao.address, token=Sensitive(bao.token)))
    ensure_fingerprint_key(gateway)
    values = {f"auth_role/people/u{n}#password": Sensitive(f"password-{n}") for n in range(2 * HMAC_BATCH + 7)}
    found = fingerprints(gateway, values)
    assert list(found) == sorted(values) and all(v.startswith("vault:v1:") for v in found.values())
    assert len(set(found.values())) == len(values)
    # The same value under the same key always gets the same fingerprint, whichever batch it falls in.
    again = fingerprints(gateway, {k: values[k] for k in sorted(values)[HMAC_BATCH - 3:HMAC_BATCH + 3]})
    assert all(found[k] == v for k, v in again.items())
