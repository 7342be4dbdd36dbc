"""Forms for writing a message and marking things read."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional
from wtforms.widgets import HiddenInput

from microblog.forms import ServiceRule, WebForm
from microblog.models import ID_MAX
from microblog.services import messages


class MessageForm(WebForm):
    message = TextAreaField(_l("Message"), validators=[DataRequired(), ServiceRule(messages.clean_body)])
    submit = SubmitField(_l("Send"))

    @property
    def max_length(self) -> int:
        return messages.max_message_length()


class MarkReadForm(WebForm):
    """Mark read what the page showed: everything up to the newest id on it (all when left out)."""

    up_to = IntegerField(widget=HiddenInput(), validators=[Optional(), NumberRange(min=1, max=ID_MAX)])
    submit = SubmitField(_l("Mark as read"))
