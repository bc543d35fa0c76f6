"""vault-state: keep a Vault or OpenBao server's configuration in a reviewed YAML state file."""

__version__ = "0.1.0"
