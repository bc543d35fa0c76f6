"""Access checks (`vault-state verify`): compare what a login or a set of policies may do with the file."""
