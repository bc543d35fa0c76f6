"""Plans: the typed change set, the pure planner that builds it, and the safety checks over it."""
