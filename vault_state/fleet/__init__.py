"""Fleets: one command over the many servers a targets.yaml names (docs/fleets.md)."""
