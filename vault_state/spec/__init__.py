"""The state file: its models, its loader with positions, and its value sources."""
