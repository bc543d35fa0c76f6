"""Kubernetes: the cluster client (the only user of the `kubernetes` package) and the values read from it."""
