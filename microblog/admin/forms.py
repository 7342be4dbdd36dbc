"""Forms of the admin area: a reason for each action, a role, the outcome of a report, a domain block."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from microblog.admin.labels import role_names
from microblog.forms import WebForm
from microblog.models import DOMAIN_MAX, REASON_MAX, REPORT_DISMISSED, REPORT_RESOLVED, ROLES


class ReasonForm(WebForm):
    """An action that needs a reason (hide, delete, suspend): it goes to the audit log."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=REASON_MAX)],
                           description=_l("Written to the audit log."))
    submit = SubmitField(_l("Confirm"))


class OptionalReasonForm(WebForm):
    """An action undone (show again, lift a suspension): a reason is welcome, not required."""

    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=REASON_MAX)])
    submit = SubmitField(_l("Confirm"))


class RoleForm(WebForm):
    role = SelectField(_l("Role"), choices=[(role, role) for role in ROLES], validators=[DataRequired()])
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=REASON_MAX)])
    submit = SubmitField(_l("Change role"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = list(role_names().items())


class HandleReportForm(WebForm):
    """Resolve (action taken) or dismiss (nothing to do) a report, with a note for the reporter."""

    outcome = SelectField(_l("Outcome"), choices=[(REPORT_RESOLVED, _l("Resolved: action was taken")),
                                                  (REPORT_DISMISSED, _l("Dismissed: no action needed"))],
                          validators=[DataRequired()])
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=REASON_MAX)])
    submit = SubmitField(_l("Close report"))


class SiteSettingsForm(WebForm):
    """The settings of the whole site an administrator may change."""

    staff_two_factor = BooleanField(_l("Require two-factor authentication for moderators and administrators"))
    submit = SubmitField(_l("Save settings"))


class BlockDomainForm(WebForm):
    """Block another server by its domain (its subdomains too), or only reject its media."""

    domain = StringField(_l("Domain"), validators=[DataRequired(), Length(max=DOMAIN_MAX)],
                         description=_l("For example social.example. Its subdomains are blocked too."))
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=REASON_MAX)],
                           description=_l("Written to the audit log."))
    reject_media_only = BooleanField(
        _l("Reject media only"), description=_l("Keep the server, but show its posts without their images."))
    submit = SubmitField(_l("Block"))
