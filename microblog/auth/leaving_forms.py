"""Forms of leaving: deactivating the account, and asking for its deletion."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from microblog.auth.two_factor_forms import CODE_MAX
from microblog.forms import WebForm
from microblog.services import accounts


def _password() -> PasswordField:
    return PasswordField(_l("Password"), validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX)])


def _code() -> StringField:
    # Asked of accounts with two-factor sign-in only (the page shows it to them); the service checks it.
    return StringField(
        _l("Code from the app, or a recovery code"), validators=[Optional(), Length(max=CODE_MAX)],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )


class DeactivateAccountForm(WebForm):
    password = _password()
    code = _code()
    submit = SubmitField(_l("Deactivate my account"))


class DeleteAccountForm(WebForm):
    password = _password()
    code = _code()
    submit = SubmitField(_l("Delete my account"))
