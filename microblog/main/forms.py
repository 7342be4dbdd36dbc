"""Forms for posting and editing a profile."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from microblog import i18n
from microblog.forms import WebForm
from microblog.models import ABOUT_ME_MAX, USERNAME_MAX, User
from microblog.post_forms import ComposeForm
from microblog.services import accounts


class PostForm(ComposeForm):
    """The home page's composer: text, optional content warning (``spoiler``), ``visibility``."""

    # The field keeps its name "post" (the URL map's contract); the service calls the text "body".
    service_fields = {"body": "post", "summary": "spoiler", "visibility": "visibility"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if current_user.is_authenticated:
            self.start_with(current_user.default_visibility)


class EditProfileForm(WebForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(min=3, max=USERNAME_MAX),
            Regexp(accounts.USERNAME_RE.pattern, message=_l("Use only letters, digits and underscores.")),
        ],
    )
    about_me = TextAreaField(_l("About me"), validators=[Length(max=ABOUT_ME_MAX)])
    notify_new_follower = BooleanField(_l("Email me when someone follows me"))
    notify_new_message = BooleanField(_l("Email me about new messages while I am away"))
    notify_mention = BooleanField(_l("Email me when someone mentions me while I am away"))
    notify_reply = BooleanField(_l("Email me about replies to my posts while I am away"))
    # Only the listed values (the service checks them too); left out of the request, it stays as it is.
    default_visibility = SelectField(_l("Who sees my new posts by default"), validate_choice=False, choices=[
        ("public", _l("Everyone (public)")),
        ("unlisted", _l("Everyone, but not in Explore, tags or search (unlisted)")),
        ("followers", _l("My followers and the people I mention (followers only)")),
    ])
    # The service checks the values; a field left out of the request keeps the current setting.
    locale = SelectField(_l("Language"), validate_choice=False)
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    submit = SubmitField(_l("Save"))

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        automatic = ("", _l("Automatic (from your browser)"))
        self.locale.choices = [automatic, *i18n.LANGUAGE_NAMES.items()]
        self.timezone.choices = [automatic, *((zone, zone) for zone in i18n.sorted_timezones())]

    def validate_username(self, field: StringField) -> None:
        if not field.errors and accounts.username_taken(field.data or "", exclude=self.user):
            raise ValidationError(_l("That username is taken. Please choose another."))
