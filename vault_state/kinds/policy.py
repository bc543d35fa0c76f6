"""ACL policies under sys/policies/acl, compared as canonical text.

Vault echoes policy text byte for byte and bumps `version` on every write, so no-op writes are
skipped and both sides are compared in canonical form (LF, one trailing newline).
`root` is never read; `default` may be updated but never deleted.
"""

from __future__ import annotations

from collections.abc import Iterable

from vault_state.errors import Location
from vault_state.kinds.base import (
    ANY,
    Need,
    ReadScope,
    VaultReader,
    data_of,
    listing,
    never_refused,
    no_parent,
    nothing_lost,
    pruned,
    reading,
)
from vault_state.plan.deferred import Deferred, Fact
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId
from vault_state.spec.fields import adopts
from vault_state.spec.models import Sections
from vault_state.spec.policies import PLACEHOLDER, PolicyFile, canonical_text
from vault_state.spec.sources import Resolver
from vault_state.spec.types import FileSource


class PolicyKind:
    name = "policy"
    parent_of = staticmethod(no_parent)
    refusal = staticmethod(never_refused)
    prune_key = "policies"
    data_loss = staticmethod(nothing_lost)

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]:
        for name, spec in state.policies.items():
            text = spec if isinstance(spec, str) else spec.to_hcl()
            if isinstance(spec, PolicyFile):
                text = _recorded(spec, name, resolver)
            yield Resource(
                ResourceId(self.name, name.lower()),  # Vault lowercases policy names on write
                {"policy": templated(canonical_text(text))},
                location=declared_at(spec) or resolver.source.locate(("policies", name), key=True),
                adopt=adopts(spec),
            )

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        names = [name for name in vault.list("sys/policies/acl") if name != "root"]
        # Only names the file declares are read; for the others (prune) the name is enough.
        wanted = [name for name in names if ResourceId(self.name, name) in scope.desired]
        responses = vault.read_many([f"sys/policies/acl/{name}" for name in wanted])
        texts = {name: data_of(response).get("policy", "") for name, response in zip(wanted, responses, strict=True)}
        for name in names:
            rid = ResourceId(self.name, name)
            yield Resource(rid, {"policy": canonical_text(texts[name])} if name in texts else {})

    def read_needs(self, scope: ReadScope) -> list[Need]:
        mine = [rid for rid in scope.desired if rid.kind == self.name]
        return [listing("sys/policies/acl", "policies: the names (plan, prune, policy names in roles)"),
                *(reading(f"sys/policies/acl/{rid.path}", f"{rid}: compared") for rid in mine)]

    def undeclared(self, scope: ReadScope) -> list[Resource]:
        return [Resource(ResourceId(self.name, ANY), {})] if pruned(scope, self.prune_key) else []

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        return []

    def deletable(self, resource: Resource) -> bool:
        return resource.id.path not in ("default", "root")

    def warnings(self, change: Change) -> list[str]:
        return []

    def calls(self, change: Change) -> list[Call]:
        path = f"sys/policies/acl/{change.id.path}"
        if change.action is Action.DELETE:
            return [Call("DELETE", path)]
        assert change.after is not None
        return [Call("PUT", path, {"policy": change.after.values["policy"]})]


def declared_at(spec: object) -> Location | None:
    """Where a `policy_files:` pattern declared this policy (None: under `policies:`)."""
    return spec.declared if isinstance(spec, PolicyFile) else None


def _recorded(spec: PolicyFile, name: str, resolver: Resolver) -> str:
    """The .hcl file's text as loaded, its file also named to the resolver: a saved plan keeps its
    digest, and apply refuses the plan when the file changed since, as for any `{file:}` source."""
    # A `policy_files:` policy's `file` is absolute: the same file wherever the resolver starts.
    resolver.resolve(FileSource(file=spec.file, sensitive=False), ("policies", name, "file"))
    return spec.to_hcl()


def templated(text: str) -> str | Deferred:
    """The text with each `${auth/PATH/@accessor}` as the accessor of that auth method: the planner
    fills in live accessors; one created by the same apply is known after apply (and the policy is
    written after the auth method exists)."""
    parts: list[str | Fact] = []
    end = 0
    for match in PLACEHOLDER.finditer(text):
        parts += [text[end : match.start()], Fact(ResourceId("auth_method", match.group(1)), "accessor")]
        end = match.end()
    return Deferred((*parts, text[end:])) if parts else text


KIND = PolicyKind()
