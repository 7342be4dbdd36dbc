"""Text samples several test modules share: what a post may and may not be made of."""

NOTHING_VISIBLE = "A post needs at least one visible character."
# Texts that show nothing: zero-width and format characters, fillers, blank separators.
INVISIBLE_POSTS = {
    "zero-width-spaces": "\u200b\u200b",
    "hangul-filler": "\u3164",
    "hangul-fillers-and-spaces": " \u3164 \u3164\n\u3164 ",
    "hangul-choseong-jungseong-fillers": "\u115f\u1160",
    "halfwidth-hangul-filler": "\uffa0",
    "braille-blank": "\u2800\u2800",
    "zero-width-joiners": "\u200d\u200c\u200d",
    "word-joiner-and-bom": "\u2060\ufeff",
    "soft-hyphen": "\u00ad",
    "lrm-rlm-marks": "\u200e\u200f",
    "mongolian-vowel-separator": "\u180e",
    "variation-selector": "\ufe0f",
    "combining-grapheme-joiner": "\u034f",
    "tag-characters": "\U000e0068\U000e0069",
    # Whitespace alone is "empty" (it is stripped); between zero-width characters it stays.
    "ideographic-and-thin-spaces": "\u200b\u3000\u2009\u00a0\u200b",
    "line-separators": "\u2060\u2028\u2029\u2060",
    "mixed": "\u200b \u3164\u2060\n\ufeff\u200d",
}
# Zero-width characters inside real text are ordinary: emoji sequences, joined scripts.
VISIBLE_POSTS = {
    "family-emoji-zwj": "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "heart-with-selector": "\u2764\ufe0f",
    "flag-tag-sequence": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "zero-width-space-then-word": "\u200b\u200bhello",
    "filler-then-letter": "\u3164a",
    "persian-with-zwnj": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "hangul": "\ud55c\uad6d\uc5b4",
    "letter-and-combining-accent": "e\u0301",
    "single-dot": ".",
}
