# Policy "vault-state": what vault-state needs to plan and apply deploy/state/ (stack default).
# Made by `vault-state required-policy -f deploy/state/ --login kubernetes`: run it again when the file changes.
# Write it in the namespace vault-state connects to (--namespace): the paths are relative to it.
# Each block says why: `compared` (plan reads it), `created` and `updated` (apply writes it),
# `deleted by prune`; `+` in a path stands for any one name.

# auth_method/kubernetes: config compared, created, updated
path "auth/kubernetes/config" {
  capabilities = ["create", "read", "update"]
}

# auth_method/kubernetes: its roles' names
path "auth/kubernetes/role" {
  capabilities = ["list"]
}

# auth_role/kubernetes/eso-role: compared, created, updated
path "auth/kubernetes/role/eso-role" {
  capabilities = ["create", "read", "update"]
}

# auth_role/kubernetes/vault-state: compared, created, updated
path "auth/kubernetes/role/vault-state" {
  capabilities = ["create", "read", "update"]
}

# --login: the run's own token, renewed during a long run
path "auth/token/renew-self" {
  capabilities = ["update"]
}

# --login: the run's own token, revoked at exit
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# secrets_engine/secret: created, kv_config compared, updated
path "secret/config" {
  capabilities = ["create", "read", "update"]
}

# auth methods: every mount, its tune and accessor
path "sys/auth" {
  capabilities = ["read"]
}

# auth_method/kubernetes: created
path "sys/auth/kubernetes" {
  capabilities = ["create", "update", "sudo"]
}

# auth_method/kubernetes: updated
path "sys/auth/kubernetes/tune" {
  capabilities = ["create", "update", "sudo"]
}

# apply lock: whether its mount exists
# secrets engines: every mount and its tune
path "sys/mounts" {
  capabilities = ["read"]
}

# secrets_engine/secret: created
path "sys/mounts/secret" {
  capabilities = ["create", "update"]
}

# secrets_engine/secret: updated
path "sys/mounts/secret/tune" {
  capabilities = ["create", "update"]
}

# apply lock and inventories: their KV v2 mount, made by the first apply
path "sys/mounts/vault-state" {
  capabilities = ["create", "update"]
}

# policies: the names (plan, prune, policy names in roles)
path "sys/policies/acl" {
  capabilities = ["list"]
}

# policy/eso-policy: compared, created, updated
path "sys/policies/acl/eso-policy" {
  capabilities = ["create", "read", "update"]
}

# policy/vault-state: compared, created, updated
path "sys/policies/acl/vault-state" {
  capabilities = ["create", "read", "update"]
}

# inventories of the other stacks: what they own is not ours
path "vault-state/data/inventory/+" {
  capabilities = ["read"]
}

# inventory of stack default: what it owns, recorded after every apply
path "vault-state/data/inventory/default" {
  capabilities = ["create", "read", "update"]
}

# apply lock: taken and released with check-and-set
path "vault-state/data/lock" {
  capabilities = ["create", "read", "update"]
}

# inventories: the stacks that have one
path "vault-state/metadata/inventory" {
  capabilities = ["list"]
}
