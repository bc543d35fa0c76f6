# the text of policy app
path "secret/data/*" {
  capabilities = ["read"
}
