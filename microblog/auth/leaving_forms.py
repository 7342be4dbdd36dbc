"""Forms of leaving: deactivating the account, and asking for its deletion."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from microblog.auth.two_factor_forms import CODE_MAX
from microblog.forms import WebForm
from microblog.services import accounts


# Both forms share one page: their fields keep the names the API and scripts use ("password", "code")
# but get ids of their own, so each label points at its own input.
def _password(form: str) -> PasswordField:
    return PasswordField(_l("Password"), validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX)],
                         id=f"{form}-password")


def _code(form: str) -> StringField:
    # Asked of accounts with two-factor sign-in only (the page shows it to them); the service checks it.
    return StringField(
        _l("Code from the app, or a recovery code"), validators=[Optional(), Length(max=CODE_MAX)],
        id=f"{form}-code",
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )


class DeactivateAccountForm(WebForm):
    password = _password("deactivate")
    code = _code("deactivate")
    submit = SubmitField(_l("Deactivate my account"))


class DeleteAccountForm(WebForm):
    password = _password("delete")
    code = _code("delete")
    submit = SubmitField(_l("Delete my account"))
