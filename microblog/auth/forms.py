"""Forms for signing up, logging in and out."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp, ValidationError

from microblog.auth.two_factor_forms import code_field
from microblog.forms import MaxLength, WebForm
from microblog.models import EMAIL_MAX, USERNAME_MAX
from microblog.services import accounts


def new_password_field(label) -> PasswordField:
    """A password to be set, with the site's length rules."""
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(
                min=accounts.PASSWORD_MIN,
                max=accounts.PASSWORD_MAX,
                message=_l("Passwords are 8 to 128 characters long."),
            ),
        ],
        description=_l("At least 8 characters."),
    )


def repeat_password_field() -> PasswordField:
    return PasswordField(
        _l("Repeat password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )


class LoginForm(WebForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=USERNAME_MAX)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX)]
    )
    remember_me = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Sign in"))


class RegistrationForm(WebForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(min=3, max=USERNAME_MAX),
            Regexp(
                accounts.USERNAME_RE.pattern,
                message=_l("Use only letters, digits and underscores."),
            ),
        ],
        description=_l("3 to 32 letters, digits or underscores."),
    )
    email = EmailField(_l("Email"), validators=[DataRequired(), MaxLength(EMAIL_MAX), Email()])
    password = new_password_field(_l("Password"))
    password2 = repeat_password_field()
    submit = SubmitField(_l("Register"))

    def validate_username(self, field: StringField) -> None:
        if not field.errors and accounts.username_taken(field.data or ""):
            raise ValidationError(_l("That username is taken. Please choose another."))


class ResetPasswordRequestForm(WebForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), MaxLength(EMAIL_MAX), Email()])
    submit = SubmitField(_l("Send me a reset link"))


class ResetPasswordForm(WebForm):
    password = new_password_field(_l("New password"))
    password2 = repeat_password_field()
    submit = SubmitField(_l("Set password"))


class ChangePasswordForm(WebForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX)]
    )
    password = new_password_field(_l("New password"))
    password2 = repeat_password_field()
    submit = SubmitField(_l("Change password"))


class ChangeEmailForm(WebForm):
    """A new address, with the password (and a two-factor code when it is on: the route drops the field
    when it is off)."""

    email = EmailField(_l("New email address"), validators=[DataRequired(), MaxLength(EMAIL_MAX), Email()])
    password = PasswordField(_l("Current password"),
                             validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX)])
    otp = code_field(_l("Code from your authenticator app, or a recovery code"))
    submit = SubmitField(_l("Send a confirmation link"))
