"""Resource kinds, each with its read, normalise and write logic in one module, in apply order."""
