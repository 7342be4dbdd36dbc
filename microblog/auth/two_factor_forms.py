"""Forms of two-factor sign-in: start, confirm and turn off, new recovery codes, and the code step."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from microblog.forms import WebForm
from microblog.services import accounts

CODE_MAX = 64  # a recovery code with spaces to spare; anything longer is no code


def password_field() -> PasswordField:
    return PasswordField(_l("Password"), validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX)])


def code_field(label=None, description=None) -> StringField:
    return StringField(
        label or _l("Code"), validators=[DataRequired(), Length(max=CODE_MAX)], description=description,
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )


class StartTwoFactorForm(WebForm):
    password = password_field()
    submit = SubmitField(_l("Set up two-factor authentication"))


class ConfirmTwoFactorForm(WebForm):
    code = code_field(_l("Code from the app"), _l("The six digits your authenticator app shows now."))
    submit = SubmitField(_l("Turn on"))


class DisableTwoFactorForm(WebForm):
    password = password_field()
    code = code_field(_l("Code from the app, or a recovery code"))
    submit = SubmitField(_l("Turn off two-factor authentication"))


class NewRecoveryCodesForm(WebForm):
    password = password_field()
    submit = SubmitField(_l("Make new recovery codes"))


class SecondStepForm(WebForm):
    code = code_field(_l("Code"),
                      _l("The six digits your authenticator app shows, or one of your recovery codes."))
    remember_device = BooleanField(_l("Remember this device"))  # the route adds for how long
    submit = SubmitField(_l("Verify"))
