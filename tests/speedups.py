"""What the test suite caches between apps, because every test builds its own app.

Jinja compiles each template to Python the first time an app renders it, per app: the suite's apps
share the compiled code through an in-memory bytecode cache (Jinja checks each entry against the
template's source, so an edited template is compiled again).

Werkzeug parses each URL rule when an app adds it and turns it into a small Python function that
builds its URLs, generating and compiling source code for it: more than half of ``create_app``'s
time, paid again for the same rules by every one of the suite's thousands of apps. What parsing
yields depends only on the rule's text, its map's settings and converters; the builder only on the
rule's text, parsed parts and defaults. So apps share them here: a rule seen before gets the parts
and builders of its twin and converters of its own (built from the recorded arguments, for its own
map). ``tests/test_speedups.py`` checks that every rule of an app ends up as Werkzeug alone would
have made it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from werkzeug.routing.rules import Rule

_compile = Rule.compile
_compile_builder = Rule._compile_builder
_builders: dict[tuple, Callable[..., Any]] = {}
# A rule's text and settings -> (parts, trace, arguments, converters as (variable, name, args, kwargs)).
_parsed: dict[tuple, tuple[list, list, frozenset[str], list[tuple]]] = {}


def builder_key(rule: Rule, append_unknown: bool) -> tuple:
    defaults = tuple(sorted((str(k), repr(v)) for k, v in rule.defaults.items())) if rule.defaults else ()
    return rule.rule, tuple(rule._trace), defaults, append_unknown


def parse_key(rule: Rule) -> tuple:
    url_map = rule.map
    assert url_map is not None
    domain = rule.host if url_map.host_matching else rule.subdomain
    converters = tuple(sorted((name, id(cls)) for name, cls in url_map.converters.items()))
    return rule.rule, domain, url_map.host_matching, rule.merge_slashes, converters


def _shared_compile(self: Rule) -> None:
    key = parse_key(self)
    known = _parsed.get(key)
    if known is None:
        made: list[tuple] = []
        make_converter = self.get_converter

        def recording(variable: str, name: str, args: tuple, kwargs: Any) -> Any:
            made.append((variable, name, args, dict(kwargs)))
            return make_converter(variable, name, args, kwargs)

        self.get_converter = recording  # type: ignore[method-assign]
        try:
            _compile(self)
        finally:
            del self.get_converter
        _parsed[key] = (list(self._parts), list(self._trace), frozenset(self.arguments), made)
        return
    parts, trace, arguments, converters = known
    self._parts, self._trace = list(parts), list(trace)
    self._converters = {variable: self.get_converter(variable, name, args, kwargs)
                        for variable, name, args, kwargs in converters}
    self.arguments = set(self.arguments) | arguments
    self._build = self._compile_builder(False).__get__(self, None)
    self._build_unknown = self._compile_builder(True).__get__(self, None)


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
    Rule.compile = _shared_compile  # type: ignore[method-assign]
    Rule._compile_builder = _shared_builder  # type: ignore[method-assign]


def fresh_compile(rule: Rule) -> None:
    """Parse ``rule`` again as Werkzeug itself does, bypassing the caches."""
    _compile(rule)


def share_templates(app: Flask) -> None:
    app.jinja_env.bytecode_cache = TEMPLATES


def fresh_builder(rule: Rule, append_unknown: bool) -> Callable[..., Any]:
    """The builder Werkzeug itself compiles for ``rule``, bypassing the cache."""
    return _compile_builder(rule, append_unknown)
