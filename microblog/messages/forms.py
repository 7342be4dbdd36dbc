"""The form for writing a message."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired

from microblog.forms import ServiceRule, WebForm
from microblog.services import messages


class MessageForm(WebForm):
    service_fields = {"body": "message"}

    message = TextAreaField(_l("Message"), validators=[DataRequired(), ServiceRule(messages.clean_body)])
    submit = SubmitField(_l("Send"))

    @property
    def max_length(self) -> int:
        return messages.max_message_length()
