"""Talking to Vault: connection settings, the gateway (the only hvac user), and live reads."""
