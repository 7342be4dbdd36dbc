"""The test suite's shared URL builders (tests/speedups.py) are exactly what Werkzeug compiles."""

from __future__ import annotations

from werkzeug.routing import Map, MapAdapter, Rule

from tests import speedups


def _same_code(a, b) -> bool:
    return (a.__code__.co_code == b.__code__.co_code and a.__code__.co_consts == b.__code__.co_consts
            and a.__code__.co_varnames == b.__code__.co_varnames)


def test_the_suite_shares_parsed_rules_and_builders():
    assert Rule.compile is speedups._shared_compile
    assert Rule._compile_builder is speedups._shared_builder


def _converter(c) -> tuple:
    return type(c), c.regex, c.weight, c.part_isolating, {k: v for k, v in vars(c).items() if k != "map"}


def test_every_rule_is_parsed_as_werkzeug_would_parse_it(make_app):
    make_app()  # an earlier app: the second one takes every rule from the cache
    app = make_app()
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 50
    for rule in rules:
        fresh = rule.empty()
        fresh.map, fresh.strict_slashes = app.url_map, rule.strict_slashes
        fresh.merge_slashes, fresh.subdomain = rule.merge_slashes, rule.subdomain
        speedups.fresh_compile(fresh)
        assert (rule._parts, rule._trace, rule.arguments) == (fresh._parts, fresh._trace, fresh.arguments)
        assert {k: _converter(c) for k, c in rule._converters.items()} == {
            k: _converter(c) for k, c in fresh._converters.items()}
        assert all(c.map is app.url_map for c in rule._converters.values()), rule.rule


def test_every_rule_gets_the_builder_werkzeug_would_compile(app):
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 50
    for rule in rules:
        for append_unknown in (False, True):
            shared = speedups._builders[speedups.builder_key(rule, append_unknown)]
            assert _same_code(shared, speedups.fresh_builder(rule, append_unknown)), rule.rule


def test_rules_that_differ_only_in_defaults_build_their_own_urls():
    def urls(first_page: int) -> MapAdapter:
        return Map([Rule("/pages/", defaults={"n": first_page}, endpoint="page"),
                    Rule("/pages/<int:n>", endpoint="page")]).bind("example.com")

    assert urls(1).build("page", {"n": 1}) == "/pages/"
    assert urls(2).build("page", {"n": 1}) == "/pages/1"
    assert urls(2).build("page", {"n": 2}) == "/pages/"


def test_apps_share_compiled_templates_and_render_the_same(make_app):
    first, second = make_app(), make_app()
    page = first.test_client().get("/auth/login")
    assert page.status_code == 200 and speedups.TEMPLATES._compiled
    assert second.jinja_env.bytecode_cache is speedups.TEMPLATES
    again = second.test_client().get("/auth/login")
    assert again.status_code == 200 and "<form" in again.get_data(as_text=True)
