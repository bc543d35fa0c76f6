path "secret/data/*" {
  capabilities = ["read", "lst"]
}
