path "a/*" {
  capabilities = ["read"]
}
