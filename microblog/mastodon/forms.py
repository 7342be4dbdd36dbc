"""Forms of the OAuth pages: the consent page's Authorize / Deny, and revoking an authorized app."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SubmitField

from microblog.forms import EmptyForm, WebForm


class ConsentForm(WebForm):
    """The authorization request travels in hidden fields and is checked again when the form comes back."""

    client_id = HiddenField()
    redirect_uri = HiddenField()
    response_type = HiddenField()
    scope = HiddenField()
    state = HiddenField()
    code_challenge = HiddenField()
    code_challenge_method = HiddenField()
    authorize = SubmitField(_l("Authorize"))
    deny = SubmitField(_l("Deny"))


class RevokeAppForm(EmptyForm):
    """Revoke every token one app holds for you."""

    submit = SubmitField(_l("Revoke"))
