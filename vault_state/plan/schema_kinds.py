"""Keep schemas/plan.schema.json's kind list and id pattern in step with the kinds' registry.

The plan schema is written by hand (its prose matters), but the kinds it names come from
kinds/registry.py: `make schema` runs this module to rewrite those two places.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from vault_state.kinds.registry import BY_NAME


def with_registry_kinds(text: str) -> str:
    """The schema text with the `kind` enum and the id pattern listing every registered kind."""
    kinds = list(BY_NAME)
    enum = json.dumps(kinds)
    text = re.sub(r'"kind": \{"enum": \[[^\]]*\]\}', f'"kind": {{"enum": {enum}}}', text)
    pattern = f"^([^:/][^:]*:)?({'|'.join(kinds)})/.+$"
    text = re.sub(r'"pattern": "\^\(\[\^:/\]\[\^:\]\*:\)\?\([^)]*\)/\.\+\$"', f'"pattern": "{pattern}"', text)
    json.loads(text)  # still a JSON document
    return text


def main(path: str) -> None:
    file = Path(path)
    file.write_text(with_registry_kinds(file.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
