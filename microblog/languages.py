"""Which language a post is written in (langdetect, with a chosen set of languages).

langdetect's stock factory loads all 55 of its profiles on first use, in every web worker and job
process, most of them for languages the site does nothing special with. The detector here loads
the languages the search backends can stem, the languages of the interface, and the neighbours
most often confused with them (so Catalan is not filed as Spanish, Persian not as Arabic): about
half the memory (figures in bench/README.md, "Memory"). A text in a language left out is either
close enough to one loaded (and stemmed like it, which search tolerates) or scores below the
confidence bar and is recorded as unknown.
"""

from __future__ import annotations

import threading
from pathlib import Path

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

LANGUAGES = (
    # stemmed by Whoosh and PostgreSQL
    "en", "es", "fr", "de", "pt", "it", "nl", "da", "fi", "hu", "no", "ro", "ru", "sv", "ar", "tr",
    # the interface's other languages
    "ja", "zh-cn", "zh-tw",
    # neighbours of the above, and other common languages
    "ca", "pl", "cs", "el", "he", "uk", "ko", "fa", "hi", "id", "vi", "th",
)
# Below this, or in texts shorter than this, the guess is too weak to act on.
MIN_PROBABILITY = 0.8
MIN_LENGTH = 12
# langdetect's codes that differ from the site's.
_SITE_CODES = {"zh-cn": "zh_CN", "zh-tw": "zh_TW"}

_factory: DetectorFactory | None = None
_lock = threading.Lock()


def _detector_factory() -> DetectorFactory:
    """The profiles, loaded once per process on first use (requests that never post pay nothing)."""
    global _factory
    with _lock:
        if _factory is None:
            factory = DetectorFactory()
            # langdetect samples n-grams at random; a fixed seed gives a text the same answer every time.
            factory.set_seed(0)
            factory.load_json_profile(
                [(Path(PROFILES_DIRECTORY) / code).read_text(encoding="utf-8") for code in LANGUAGES]
            )
            _factory = factory
    return _factory


def detect_language(text: str) -> str | None:
    """The language ``text`` is written in, as a code the site knows, or None when unsure."""
    if len(text) < MIN_LENGTH:
        return None
    detector = _detector_factory().create()
    detector.append(text)
    try:
        guesses = detector.get_probabilities()
    except LangDetectException:  # no letters to go on ("👍", a bare URL)
        return None
    best = guesses[0] if guesses else None
    if best is None or best.prob < MIN_PROBABILITY:
        return None
    return _SITE_CODES.get(best.lang, best.lang)[:16]
