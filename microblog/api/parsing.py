"""How the API reads request bodies: one webargs parser for every API blueprint.

webargs hands the body to ``json.loads``, which raises RecursionError (a 500) on input nested a few
thousand levels deep, e.g. 5,000 ``[``. That is malformed input like any other: 400, "Invalid JSON
body.", the answer webargs gives for broken JSON. Blueprints made from :class:`Blueprint` use it.

Uploads come as ``multipart/form-data`` with a file and text fields side by side; webargs reads
files and form fields from two locations, and OpenAPI allows one request body per operation. The
``form_and_files`` location reads both into one schema, documented as one multipart body.
"""

from __future__ import annotations

import json
from typing import Any

import flask_smorest
import marshmallow as ma
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

FORM_AND_FILES = "form_and_files"


class JsonParser(FlaskParser):
    """webargs' Flask parser, refusing JSON nested too deeply to decode as invalid JSON, and reading
    multipart bodies (form fields and files together) from the ``form_and_files`` location."""

    __location_map__ = {**FlaskParser.__location_map__, FORM_AND_FILES: "load_form_and_files"}

    def _raw_load_json(self, req: Any) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            # Any non-empty ``doc``: webargs reads an empty one as "no body at all".
            raise json.JSONDecodeError("nested too deeply", doc="[", pos=0) from exc

    def load_form_and_files(self, req: Any, schema: ma.Schema) -> Any:
        """The form fields and the files of a multipart body, as one multidict."""
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint reading arguments with :class:`JsonParser`."""

    ARGUMENTS_PARSER = JsonParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        FORM_AND_FILES: "multipart/form-data",
    }
