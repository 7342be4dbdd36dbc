"""The search query parser: the one reading of the syntax that both backends run."""

from __future__ import annotations

import pytest

from microblog.search.query import (
    MAX_QUERY_CHARS,
    MAX_TERMS,
    And,
    Author,
    Not,
    Or,
    Phrase,
    Prefix,
    Tag,
    Term,
    parse,
    positive_atoms,
    stem_language,
    tags,
    to_text,
    words,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tea", Term("tea")),
        ("Tea COFFEE", And((Term("tea"), Term("coffee")))),
        ('"green tea"', Phrase(("green", "tea"))),
        ('"Green"', Phrase(("green",))),  # quoted: exact, unstemmed
        ("tea OR coffee", Or((Term("tea"), Term("coffee")))),
        ("tea | coffee", Or((Term("tea"), Term("coffee")))),
        ("morning tea OR coffee OR water",
         And((Term("morning"), Or((Term("tea"), Term("coffee"), Term("water")))))),
        ("tea -milk", And((Term("tea"), Not(Term("milk"))))),
        ('tea -"oat milk"', And((Term("tea"), Not(Phrase(("oat", "milk")))))),
        ("photo*", Prefix("photo")),
        ("@Alice", Author("alice")),
        ("@alice_99 tea", And((Author("alice_99"), Term("tea")))),
        ("#Python", Tag("python")),
        ("#open_source", Tag("open_source")),
        ("tea -@bob", And((Term("tea"), Not(Author("bob"))))),
        ("tea -#work", And((Term("tea"), Not(Tag("work"))))),
        ("tea AND coffee", And((Term("tea"), Term("coffee")))),
        ("e-mail", Phrase(("e", "mail"))),
        ("don't", Phrase(("don", "t"))),
        ("tea tea", Term("tea")),
        ("Straße", Term("strasse")),  # case-folded like the index
        ("ｔｅａ", Term("tea")),  # NFKC: full-width letters are the same word
    ],
)
def test_syntax(text, expected):
    assert parse(text).node == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "*", "**", "-", "--", '"', '""', '" "', "OR", "OR AND |", "@", "#", "-@", "!!!", "\x00",
     "\x00\x01\x7f",
     "(", ")", "-*", "@ # * -"],
)
def test_queries_with_nothing_to_look_for_are_empty_not_errors(text):
    parsed = parse(text)
    assert parsed.node is None
    assert parsed.is_empty


def test_only_exclusions_say_so():
    parsed = parse("-tea -coffee")
    assert parsed.node is None
    assert "only_exclusions" in parsed.notices


def test_an_unbalanced_quote_closes_at_the_end():
    assert parse('tea "green leaf').node == And((Term("tea"), Phrase(("green", "leaf"))))


def test_or_without_a_left_side_or_next_to_an_exclusion_is_dropped():
    assert parse("OR tea").node == Term("tea")
    assert parse("tea OR").node == Term("tea")
    assert parse("tea OR -milk").node == And((Term("tea"), Not(Term("milk"))))
    assert parse("-milk OR tea").node == And((Not(Term("milk")), Term("tea")))


def test_lower_case_or_is_a_word():
    assert parse("tea or coffee").node == And((Term("tea"), Term("or"), Term("coffee")))


def test_a_prefix_needs_two_letters():
    parsed = parse("t*")
    assert parsed.node == Term("t")
    assert "short_prefix" in parsed.notices
    assert parse("*tea").node == Term("tea")


def test_nul_and_control_characters_are_spaces():
    assert parse("tea\x00coffee\x1b").node == And((Term("tea"), Term("coffee")))
    assert "\x00" not in parse("tea\x00").text


def test_a_huge_query_is_cut_and_says_so():
    parsed = parse("tea " * 10_000)
    assert len(parsed.text) <= MAX_QUERY_CHARS
    assert "truncated" in parsed.notices
    assert parsed.node == Term("tea")


def test_too_many_words_are_cut_and_say_so():
    parsed = parse(" ".join(f"w{i}" for i in range(MAX_TERMS + 5)))
    assert isinstance(parsed.node, And)
    assert len(parsed.node.children) == MAX_TERMS
    assert "too_many_terms" in parsed.notices


def test_positive_atoms_leave_out_exclusions():
    node = parse('tea -milk "green leaf" @bob').node
    assert list(positive_atoms(node)) == [Term("tea"), Phrase(("green", "leaf")), Author("bob")]


def test_to_text_round_trips():
    text = 'morning tea OR coffee -milk "green leaf" photo* @bob #python'
    assert parse(to_text(parse(text).node)).node == parse(text).node


def test_words_and_tags_split_text_like_the_index():
    assert words("Don't e-mail me at BOB@example.com!") == [
        "don", "t", "e", "mail", "me", "at", "bob", "example", "com"]
    assert tags("#Tea and #tea, a#b, ##coffee #open_source") == ["tea", "coffee", "open_source"]


@pytest.mark.parametrize(
    "code, expected", [("en", "en"), ("pt_BR", "pt"), ("zh_CN", None), ("ja", None), (None, None)]
)
def test_stem_language(code, expected):
    assert stem_language(code) == expected


def test_stem_language_default_for_undetected_posts():
    assert stem_language(None, default="en") == "en"
