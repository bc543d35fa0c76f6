"""`make bench`: vault-state against the hand-run `bao` CLI and the raw-HTTP floor (see README.md)."""
