"""What the test suite caches between apps, because every test builds its own app.

Jinja compiles each template to Python the first time an app renders it, per app: the suite's apps
share the compiled code through an in-memory bytecode cache (Jinja checks each entry against the
template's source, so an edited template is compiled again).

Werkzeug turns each URL rule into a small Python function that builds its URLs, generating and
compiling source code for it: about half of ``create_app``'s time, paid again for the same rules by
every one of the suite's thousands of apps. The generated function depends only on the rule's text,
its parsed parts and its defaults, so apps share one per rule here. ``tests/test_speedups.py``
checks that a shared builder is the very code Werkzeug would have compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.routing.rules import Rule

_compile_builder = Rule._compile_builder
_builders: dict[tuple, Callable[..., Any]] = {}


def builder_key(rule: Rule, append_unknown: bool) -> tuple:
    defaults = tuple(sorted((str(k), repr(v)) for k, v in (rule.defaults or {}).items()))
    return rule.rule, tuple(rule._trace), defaults, append_unknown


def _shared_builder(self: Rule, append_unknown: bool = True) -> Callable[..., Any]:
    key = builder_key(self, append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


class MemoryBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._compiled:
            bucket.bytecode_from_string(self._compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = MemoryBytecodeCache()


def install() -> None:
    Rule._compile_builder = _shared_builder  # type: ignore[method-assign]


def share_templates(app: Flask) -> None:
    app.jinja_env.bytecode_cache = TEMPLATES


def fresh_builder(rule: Rule, append_unknown: bool) -> Callable[..., Any]:
    """The builder Werkzeug itself compiles for ``rule``, bypassing the cache."""
    return _compile_builder(rule, append_unknown)
