"""What every web blueprint's forms share: the base class, validators, the button-only form, and
showing a domain error on a form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import Length, NumberRange, Optional, StopValidation, ValidationError
from wtforms.widgets import HiddenInput

from microblog.exceptions import DomainError
from microblog.models import ID_MAX
from microblog.textutil import has_lone_surrogates, invalid_character_message

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

    def validate(self, extra_validators: Any = None) -> bool:
        """Refuse text holding a lone surrogate before any other check, else validate as usual.

        Field validators and ``validate_<field>`` hooks may look the text up in the database, whose
        driver cannot encode such a character (a 500), and nothing could store it. Werkzeug does not
        decode one from a request today; this keeps every form safe should one arrive all the same.
        """
        refused = [field for field in self if isinstance(field.data, str) and has_lone_surrogates(field.data)]
        if not refused:
            return super().validate(extra_validators)
        for field in refused:
            field.errors = [invalid_character_message()]
        return False


class MaxLength(Length):
    """``Length(max=limit)`` that also stops the field's later validators when the input is too long.

    Costly checks then never see oversized input: ``Email()`` spends seconds of CPU on a
    megabyte-long address, which a request under MAX_CONTENT_LENGTH can carry.
    """

    def __init__(self, limit: int, message: str | None = None) -> None:
        super().__init__(max=limit, message=message)

    def __call__(self, form: Any, field: Any) -> None:
        try:
            super().__call__(form, field)
        except ValidationError as exc:
            raise StopValidation(exc.args[0]) from exc


class ServiceRule:
    """Run a service's cleaning function as a validator, so the form shows the service's own message
    next to the field (the rule lives once, in the service; the form only reports it)."""

    def __init__(self, clean: Callable[[str], Any]) -> None:
        self.clean = clean

    def __call__(self, form: Any, field: Any) -> None:
        try:
            self.clean(field.data or "")
        except DomainError as exc:
            raise ValidationError(exc.message) from exc


class EmptyForm(WebForm):
    """A form with only the CSRF token, for buttons that change state (log out, follow, delete)."""

    submit = SubmitField(_l("Submit"))


class MarkReadForm(WebForm):
    """Mark read what the page showed: everything up to the newest id on it (all when left out)."""

    up_to = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1, max=ID_MAX)])
    submit = SubmitField(_l("Mark as read"))


def show_error(form: FlaskForm, exc: DomainError) -> None:
    """Show a domain error on the form field it concerns, or as a flash message.

    Services name fields for what they are (a post's ``body``); a form whose field is called
    otherwise maps the names in ``service_fields``.
    """
    name = getattr(form, "service_fields", {}).get(exc.field, exc.field) if exc.field else None
    field = form._fields.get(name) if name else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "danger")


def submitted(form: FlaskForm, action: Callable[[], object]) -> bool:
    """Validate ``form`` and, when it is valid, run ``action`` (the service call); True if both pass.

    A domain refusal from the service is shown on the form (``show_error``), so a route reads
    ``if submitted(form, lambda: service.do(...)):`` followed by what success does.
    """
    if not form.validate_on_submit():
        return False
    try:
        action()
    except DomainError as exc:
        show_error(form, exc)
        return False
    return True
