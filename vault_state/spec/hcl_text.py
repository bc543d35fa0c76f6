"""Parse HCL (or JSON) policy text fast: one pyhcl parser and one lexer template per process,
and each distinct text parsed once.

`hcl.loads` builds a new LALR parser (about 25 ms) and a new lexer (about 0.4 ms) on every call,
which made loading, linting and planning a file of 2,000 policies take minutes. The tables never
change: the parser is built once, each parse gets a fresh clone of one lexer (its own position
and state, so line numbers stay per text), and the loader's and the linter's parses of the same
text share one result (a copy is returned, so callers may change it).
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from typing import Any

from hcl.api import isHcl
from hcl.lexer import Lexer
from hcl.parser import HclParser

_lock = threading.Lock()


class _ClonedLexer(Lexer):  # type: ignore[misc]
    """pyhcl's lexer, with its PLY lexer cloned from a template instead of rebuilt."""

    _template: Any = None

    def __init__(self) -> None:
        if _ClonedLexer._template is None:
            _ClonedLexer._template = Lexer().lex
        template = _ClonedLexer._template
        lexer = template.clone(self)
        # PLY's clone rebinds rule and error functions but not end-of-input ones, nor the current
        # state's tables; give the clone its own of each, starting in the initial state.
        lexer.lexstateeoff = {state: getattr(self, f.__name__) for state, f in template.lexstateeoff.items()}
        lexer.lexstatestack = []
        lexer.lineno = 1
        lexer.begin("INITIAL")
        self.lex = lexer


@functools.cache
def _parser() -> HclParser:
    return HclParser()


@functools.lru_cache(maxsize=8192)
def _parse(text: str) -> Any:
    with _lock:
        return _parser().yacc.parse(text, lexer=_ClonedLexer())


def loads_hcl(text: str) -> Any:
    """What `hcl.loads(text)` returns, with the same exceptions."""
    if not isHcl(text):
        return json.loads(text)
    return copy.deepcopy(_parse(text))
