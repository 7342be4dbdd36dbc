"""Our OpenAPI description of the Mastodon-compatible API (openapi.yaml beside this module).

Mastodon serves no such document, so neither do we: the conformance tests load it from here
(tests/test_mastodon_fuzz.py) and hold the app to it. PyYAML comes with the development
requirements (schemathesis needs it), hence the import inside the function.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

DOCUMENT = "openapi.yaml"


def load_document() -> dict[str, Any]:
    """The document as a dict (anchors resolved, no network, no files besides the package's own)."""
    import yaml

    return yaml.safe_load(files(__package__).joinpath(DOCUMENT).read_text(encoding="utf-8"))
