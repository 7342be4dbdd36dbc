"""The forms that write a post's text, shared by the pages that show them: the home page's composer,
the reply form on a permalink, and the edit form. Fields: ``post`` (the text, the URL map's
contract), ``spoiler`` (an optional content warning) and ``visibility``."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from microblog.forms import ServiceRule, WebForm
from microblog.models import SUMMARY_MAX, Visibility
from microblog.services import posts


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

    @property
    def max_length(self) -> int:
        return posts.max_post_length()


class ComposeForm(TextForm):
    """A new post: its text, content warning and who may see it."""

    service_fields = {"body": "post", "summary": "spoiler", "visibility": "visibility"}

    # Left out of a request, the service picks the default (the author's, or the parent post's).
    visibility = SelectField(_l("Who can see it"), choices=visibility_choices, validate_choice=False,
                             validators=[ServiceRule(lambda value: posts.clean_visibility(value, ""))])
    submit = SubmitField(_l("Post"))

    def start_with(self, visibility: str) -> None:
        """Preselect ``visibility`` on a form that was not submitted (the author's default)."""
        if not self.is_submitted():
            self.visibility.data = visibility

    def publish_args(self) -> dict[str, Any]:
        """The keyword arguments of ``posts.publish_post`` for what was submitted."""
        return {"body": self.post.data, "summary": self.spoiler.data,
                "visibility": self.visibility.data or None}


class ReplyForm(ComposeForm):
    """A reply, from a post's permalink."""

    post = TextAreaField(_l("Your reply"), validators=[DataRequired(), ServiceRule(posts.clean_body)])
    submit = SubmitField(_l("Reply"))
