"""The forms that write a post's text, shared by the pages that show them: the home page's composer,
the reply form on a permalink, and the edit form. Fields: ``post`` (the text, the URL map's
contract), ``spoiler`` (an optional content warning), ``visibility``, and up to four images
(file fields ``media-0`` ... ``media-3``, each with its alt text ``alt-0`` ... ``alt-3``)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import FieldList, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from microblog.forms import ServiceRule, WebForm
from microblog.models import MEDIA_DESCRIPTION_MAX, MEDIA_PER_POST_CEILING, SUMMARY_MAX, Visibility
from microblog.services import media, posts


def visibility_choices() -> list[tuple[str, Any]]:
    return [(Visibility.PUBLIC.value, _l("Public")), (Visibility.UNLISTED.value, _l("Unlisted")),
            (Visibility.FOLLOWERS.value, _l("Followers only"))]


class TextForm(WebForm):
    """The text and the content warning of a post (the edit form)."""

    # The services call the fields by what they are: a post's "body" and "summary".
    service_fields = {"body": "post", "summary": "spoiler"}

    post = TextAreaField(_l("Say something"), validators=[DataRequired(), ServiceRule(posts.clean_body)])
    spoiler = StringField(_l("Content warning"),
                          validators=[Length(max=SUMMARY_MAX), ServiceRule(posts.clean_summary)],
                          description=_l("Optional: readers see this and open the post to read it."),
                          render_kw={"maxlength": SUMMARY_MAX})
    submit = SubmitField(_l("Save"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The composer's live counter (static/compose.js) reads the limit from the text area.
        self.post.render_kw = {**(self.post.render_kw or {}), "data-max-length": self.max_length}

    @property
    def max_length(self) -> int:
        return posts.max_post_length()


class ComposeForm(TextForm):
    """A new post: its text, content warning, who may see it, and its images."""

    service_fields = {"body": "post", "summary": "spoiler", "visibility": "visibility"}

    # The alt text of each image slot (alt-0 ... alt-3); the files come from request.files.
    alt = FieldList(TextAreaField(_l("Description (alt text)"),
                                  validators=[Length(max=MEDIA_DESCRIPTION_MAX)],
                                  description=_l("Describe the image for people who cannot see it."),
                                  render_kw={"maxlength": MEDIA_DESCRIPTION_MAX, "rows": 2}),
                    min_entries=MEDIA_PER_POST_CEILING, max_entries=MEDIA_PER_POST_CEILING)

    # Left out of a request, the service picks the default (the author's, or the parent post's).
    visibility = SelectField(_l("Who can see it"), choices=visibility_choices, validate_choice=False,
                             validators=[ServiceRule(lambda value: posts.clean_visibility(value, ""))])
    submit = SubmitField(_l("Post"))

    def start_with(self, visibility: str) -> None:
        """Preselect ``visibility`` on a form that was not submitted (the author's default)."""
        if not self.is_submitted():
            self.visibility.data = visibility

    def publish_args(self) -> dict[str, Any]:
        """The keyword arguments of ``posts.publish_post`` for what was submitted; the images are
        checked from their bytes here.

        :raises ValidationError: an image is refused (``media.check_upload``).
        """
        return {"body": self.post.data, "summary": self.spoiler.data,
                "visibility": self.visibility.data or None, "uploads": self.uploads()}

    def uploads(self) -> list[media.Upload]:
        """The images sent with the form (slots left empty are skipped), checked, with their alt text."""
        limit = current_app.config["MEDIA_MAX_BYTES"]
        checked = []
        for slot in range(MEDIA_PER_POST_CEILING):
            sent = request.files.get(f"media-{slot}")
            if sent is None or not sent.filename:
                continue
            description = self.alt.entries[slot].data if slot < len(self.alt.entries) else None
            checked.append(media.check_upload(sent.stream.read(limit + 1), description))
        return checked


class ReplyForm(ComposeForm):
    """A reply, from a post's permalink."""

    post = TextAreaField(_l("Your reply"), validators=[DataRequired(), ServiceRule(posts.clean_body)])
    submit = SubmitField(_l("Reply"))


def compose_media(form: ComposeForm) -> Markup:
    """The composer's image slots (``_compose_media.html``): a form nobody has filled in looks the same
    for everyone who reads the same language, so it is rendered once per language and kept (about 40
    translated strings and eight fields: 2 ms a page otherwise). A submitted form is rendered with
    what it holds and its errors."""
    if form.is_submitted():
        return Markup(render_template("_compose_media.html", form=form))
    config = current_app.config
    key = (str(get_locale()), config["MEDIA_PER_POST"], config["MEDIA_MAX_BYTES"])
    rendered: dict[tuple, Markup] = current_app.extensions.setdefault("compose_media", {})
    html = rendered.get(key)
    if html is None:
        html = rendered[key] = Markup(render_template("_compose_media.html", form=form))
    return html
