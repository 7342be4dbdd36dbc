"""The base class of the site's HTML forms."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm

_FROM_REQUEST = object()


class WebForm(FlaskForm):
    """A FlaskForm that reads only the submitted form fields.

    Flask-WTF also feeds uploaded files and JSON bodies into a form, which hands a text field a
    ``FileStorage``, a number or a list and makes its validators crash. These are HTML forms: text
    comes from ``request.form``; the JSON API validates its input with schemas.
    """

    def __init__(self, formdata: Any = _FROM_REQUEST, **kwargs: Any) -> None:
        if formdata is _FROM_REQUEST:
            formdata = request.form if self.is_submitted() else None
        super().__init__(formdata=formdata, **kwargs)
