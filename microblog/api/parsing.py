"""How the API reads request bodies: one webargs parser for every API blueprint.

webargs hands the body to ``json.loads``, which raises RecursionError (a 500) on input nested a few
thousand levels deep, e.g. 5,000 ``[``. That is malformed input like any other: 400, "Invalid JSON
body.", the answer webargs gives for broken JSON. Blueprints made from :class:`Blueprint` use it.
"""

from __future__ import annotations

import json
from typing import Any

import flask_smorest
from webargs.flaskparser import FlaskParser


class JsonParser(FlaskParser):
    """webargs' Flask parser, refusing JSON nested too deeply to decode as invalid JSON."""

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            # Any non-empty ``doc``: webargs reads an empty one as "no body at all".
            raise json.JSONDecodeError("nested too deeply", doc="[", pos=0) from exc


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint reading arguments with :class:`JsonParser`."""

    ARGUMENTS_PARSER = JsonParser()
