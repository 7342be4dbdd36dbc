"""Forms for posting and editing a profile."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, FileField, HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Regexp, ValidationError

from microblog import i18n, themes
from microblog.exceptions import DomainError
from microblog.forms import WebForm
from microblog.models import ABOUT_ME_MAX, USERNAME_MAX, User
from microblog.post_forms import ComposeForm
from microblog.services import accounts, media, profile_media

# What the file pickers offer (the server checks the bytes whatever the browser sends).
IMAGE_TYPES = "image/jpeg,image/png,image/webp,image/gif"


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
    locked = BooleanField(_l("Approve new followers by hand"), description=_l(
        "People who follow you send a request, which you approve or refuse. Unticking it approves the "
        "requests that are waiting."))
    # Only the listed values (the service checks them too); left out of the request, it stays as it is.
    default_visibility = SelectField(_l("Who sees my new posts by default"), validate_choice=False, choices=[
        ("public", _l("Everyone (public)")),
        ("unlisted", _l("Everyone, but not in Explore, tags or search (unlisted)")),
        ("followers", _l("My followers and the people I mention (followers only)")),
    ])
    # The service checks the values; a field left out of the request keeps the current setting.
    locale = SelectField(_l("Language"), validate_choice=False)
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    theme = SelectField(_l("Theme"), validate_choice=False)
    # The files come from request.files (a WebForm reads only text): these fields give each a label and
    # a place for its error. Left empty, the current picture stays.
    avatar = FileField(_l("Profile picture"), render_kw={"accept": IMAGE_TYPES},
                       description=_l("JPEG, PNG, WebP or GIF, cropped to a square."))
    header = FileField(_l("Header image"), render_kw={"accept": IMAGE_TYPES},
                       description=_l("JPEG, PNG, WebP or GIF, shown across the top of your profile (3:1)."))
    submit = SubmitField(_l("Save"))

    def __init__(self, user: User, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self._pictures: dict[str, bytes | None] = {}
        automatic = ("", _l("Automatic (from your browser)"))
        self.locale.choices = [automatic, *i18n.LANGUAGE_NAMES.items()]
        self.timezone.choices = [automatic, *((zone, zone) for zone in i18n.sorted_timezones())]
        self.theme.choices = themes.theme_choices()

    def validate_username(self, field: StringField) -> None:
        if not field.errors and accounts.username_taken(field.data or "", exclude=self.user):
            raise ValidationError(_l("That username is taken. Please choose another."))

    def validate_avatar(self, field: FileField) -> None:
        self._check_picture(field)

    def validate_header(self, field: FileField) -> None:
        self._check_picture(field)

    def _check_picture(self, field: FileField) -> None:
        """Refuse a file that is not an image we take before anything is saved (the same check as
        ``media.check_upload``, which ``profile_media.set_picture`` runs again)."""
        data = self.picture(field.name)
        if data is None:
            return
        try:
            media.check_upload(data)
        except DomainError as exc:
            raise ValidationError(exc.message) from exc

    def picture(self, kind: str) -> bytes | None:
        """The bytes of the file sent as ``kind`` ("avatar" or "header"), or None when none was chosen."""
        if kind not in self._pictures:
            sent = request.files.get(kind)
            limit = current_app.config["MEDIA_MAX_BYTES"]
            self._pictures[kind] = sent.stream.read(limit + 1) if sent is not None and sent.filename else None
        return self._pictures[kind]

    def pictures(self) -> list[tuple[str, bytes]]:
        """(kind, bytes) for each picture sent with the form."""
        return [(kind, data) for kind in profile_media.KINDS if (data := self.picture(kind)) is not None]


class RemovePictureForm(WebForm):
    """The "Remove" button of the profile picture or of the header image (``kind``)."""

    kind = HiddenField(validators=[DataRequired(), AnyOf(profile_media.KINDS)])
