"""Forms of the passkeys page: naming a new passkey, renaming one, removing one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from microblog.forms import WebForm
from microblog.models import PASSKEY_NAME_MAX
from microblog.services import accounts


def name_field() -> StringField:
    return StringField(_l("Name"), validators=[DataRequired(), Length(max=PASSKEY_NAME_MAX)],
                       description=_l("So you can tell your passkeys apart: “YubiKey”, “Phone”."),
                       render_kw={"maxlength": PASSKEY_NAME_MAX, "autocomplete": "off"})


class AddPasskeyForm(WebForm):
    """Sent by passkeys.js as JSON with the new passkey; rendered for its field and CSRF token."""

    name = name_field()
    submit = SubmitField(_l("Add a passkey"))


class RenamePasskeyForm(WebForm):
    name = name_field()
    submit = SubmitField(_l("Rename"))


class RemovePasskeyForm(WebForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=accounts.PASSWORD_MAX)])
    submit = SubmitField(_l("Remove"))
