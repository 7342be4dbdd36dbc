"""Language detection with the chosen set of langdetect profiles (microblog/languages.py)."""

from pathlib import Path

import pytest
from langdetect.detector_factory import PROFILES_DIRECTORY

from microblog.languages import LANGUAGES, _detector_factory, detect_language
from microblog.search.query import STEM_LANGUAGES


def test_every_chosen_language_has_a_profile_and_every_stemmer_is_chosen():
    assert all((Path(PROFILES_DIRECTORY) / code).is_file() for code in LANGUAGES)
    assert STEM_LANGUAGES <= set(LANGUAGES)
    assert sorted(_detector_factory().get_lang_list()) == sorted(LANGUAGES)


@pytest.mark.parametrize(("text", "expected"), [
    ("Just had the best coffee of my life at the corner shop.", "en"),
    ("Hoy he tomado el mejor café de mi vida en la esquina.", "es"),
    ("Avui he pres el millor cafè de la meva vida.", "ca"),
    ("Dzisiaj wypiłem najlepszą kawę w moim życiu.", "pl"),
    ("Hoje tomei o melhor café da minha vida na esquina.", "pt"),
    ("今日は人生で最高のコーヒーを飲みました。", "ja"),
    ("今晚有人想下棋吗？我们在公园见面吧", "zh_CN"),
    ("شربت اليوم أفضل قهوة في حياتي في المقهى", "ar"),
    ("امروز بهترین قهوه زندگی ام را نوشیدم", "fa"),
])
def test_detects_the_language(text, expected):
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["👍", "ok", "https://example.com/a/b/c", "12345678901234567890"])
def test_unknown_when_there_is_too_little_to_go_on(text):
    assert detect_language(text) is None


def test_the_same_text_gets_the_same_answer():
    text = "Ciao a tutti, oggi è una bella giornata per una passeggiata al parco"
    assert {detect_language(text) for _ in range(5)} == {"it"}
