"""`python -m vault_state` runs the command line."""

from vault_state.cli import main

raise SystemExit(main())
