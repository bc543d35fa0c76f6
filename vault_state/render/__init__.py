"""Plan output: one JSON walk (the only place values are redacted), and formats built on it."""
