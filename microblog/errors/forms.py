"""Show a domain error on the form field it concerns, or as a flash message."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from microblog.errors.exceptions import DomainError


def show_error(form: FlaskForm, exc: DomainError) -> None:
    field = form._fields.get(exc.field) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "danger")
