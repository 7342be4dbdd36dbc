"""The sanitizer of remote HTML: only the allow-list survives, whatever the input."""

from __future__ import annotations

import random
import re
from html.parser import HTMLParser

import pytest

from microblog.federation.sanitize import ALLOWED, clean_html, html_to_text, safe_url

HOSTILE = [
    '<script>alert(1)</script>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="jav&#x0A;ascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<img src=x onerror=alert(1)>',
    '<p onclick="alert(1)" style="background:url(javascript:alert(1))">x</p>',
    '<style>body{background:url("javascript:alert(1)")}</style>',
    '<svg onload=alert(1)><script>alert(1)</script></svg>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<object data="javascript:alert(1)"></object><embed src="x">',
    '<template><img src=x onerror=alert(1)></template>',
    '<!--<img src=x onerror=alert(1)>-->',
    '<![CDATA[<img src=x onerror=alert(1)>]]>',
    '<scr<script>ipt>alert(1)</scr</script>ipt>',
    '<a href="https://ok.example" onmouseover="alert(1)">x</a>',
    '<b><i><p>unclosed',
    '</p></b></a>stray ends',
    '<form action="https://evil"><input name=x><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<span class="invisible evil" style="x">a</span>',
    '<a href="https://ok.example" class="mention u-url evil h-card">@x</a>',
    '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>',
    '<div><p><span><a href="https://a.example"><a href="javascript:x">nested</a></a></span>',
    '<img src="x" alt="<script>alert(1)</script>">',
    '<a href=https://a.example/"onmouseover="alert(1)>x</a>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
]

# Raw tags that must never come out (text is escaped: "&lt;script" is harmless; attributes are read back
# by _Tags below).
DANGEROUS = re.compile(r"<\s*/?\s*(script|style|img|iframe|svg|math|object|embed|form|input|meta|base|"
                       r"template)", re.IGNORECASE)


class _Tags(HTMLParser):
    """Reads a sanitized result back: its tags and attributes, checking that they nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.well_formed = True

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag != "br":
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.well_formed = False


def _check(result: str) -> _Tags:
    assert not DANGEROUS.search(result), result
    parser = _Tags()
    parser.feed(result)
    parser.close()
    assert parser.well_formed and not parser.stack, result
    for tag, attrs in parser.tags:
        assert tag in ALLOWED
        if tag == "a":
            assert set(attrs) <= {"href", "rel", "target", "class"}
            assert safe_url(attrs["href"]) == attrs["href"]
            assert attrs["rel"] == "nofollow noopener noreferrer" and attrs["target"] == "_blank"
            assert set((attrs.get("class") or "").split()) <= {"mention", "hashtag", "u-url", "h-card"}
        elif tag == "span":
            assert set(attrs) <= {"class"}
        else:
            assert attrs == {}
    return parser


@pytest.mark.parametrize("html", HOSTILE)
def test_hostile_input_leaves_only_the_allow_list(html):
    result = clean_html(html)
    _check(result)
    assert clean_html(result) == result  # stable: cleaning twice changes nothing


def test_links_keep_their_target_and_get_safe_attributes():
    result = clean_html('<p>Hi <a href="https://remote.example/@bob" class="u-url mention" '
                        'onclick="x()">@<span>bob</span></a> &amp; co</p>')
    assert result == ('<p>Hi <a href="https://remote.example/@bob" rel="nofollow noopener noreferrer" '
                      'target="_blank" class="u-url mention">@<span>bob</span></a> &amp; co</p>')


@pytest.mark.parametrize("href", ["java&#x09;script:alert(1)", "&#x6A;avascript:alert(1)",
                                  "javascript&colon;alert(1)", "  javascript:alert(1)", "//evil.example/x",
                                  "/relative", "ftp://x.example/"])
def test_links_to_other_schemes_lose_the_link_and_keep_the_text(href):
    assert clean_html(f'<a href="{href}">text</a>') == "text"


def test_mailto_links_are_kept():
    assert 'href="mailto:a@b.example"' in clean_html('<a href="mailto:a@b.example">mail</a>')


def test_dropped_elements_lose_their_content_and_others_keep_theirs():
    assert clean_html("<div><h1>Title</h1><script>evil()</script><style>p{}</style>text</div>") == "Titletext"
    assert clean_html("<svg><p>inside</p></svg>after") == "after"


def test_entities_stay_escaped_and_open_tags_are_closed():
    assert clean_html("<p>1 &lt; 2 &amp;&amp; <b>bold") == "<p>1 &lt; 2 &amp;&amp; <b>bold</b></p>"
    assert clean_html("a\x00b\x01c") == "abc"  # no control characters (NUL marks the cards' stand-ins)


def test_html_to_text():
    assert html_to_text("<p>Hello <b>you</b></p><p>line<br>two &amp; &lt;3</p><script>x</script>") == \
        "Hello you\n\nline\ntwo & <3"
    assert html_to_text("  <p> </p> ") == ""
    assert html_to_text('<span class="invisible">https://</span>example.com') == "https://example.com"


def test_random_soup_of_tags_is_always_safe_and_well_formed():
    pieces = ["<p>", "</p>", "<a href='https://a.example'>", "<a href='javascript:x'>", "</a>", "<b>", "</b>",
              "<script>", "</script>", "<svg>", "</svg>", "<img src=x onerror=y>", "text", "&amp;", "&#0;",
              "<!--", "-->", "<br>", "<br/>", "<span class='mention x'>", "</span>", "<ul><li>", "</li>",
              "<style>", "</style>", "<", ">", '"', "'", "<blockquote>", "<![CDATA[", "]]>", "<pre><code>"]
    rng = random.Random(21)
    for _ in range(500):
        soup = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        _check(clean_html(soup))
        assert "\x00" not in html_to_text(soup)
