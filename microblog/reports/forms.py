"""The form for reporting a post or an account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from microblog.forms import WebForm
from microblog.models import REASON_MAX


class ReportForm(WebForm):
    reason = TextAreaField(_l("What is wrong?"), validators=[DataRequired(), Length(max=REASON_MAX)],
                           description=_l("Only the moderators see your report."))
    # Shown only for accounts and posts of other servers; the route names the server in the label.
    forward = BooleanField(_l("Also send this report (anonymously) to their server"), default=False)
    submit = SubmitField(_l("Send report"))
