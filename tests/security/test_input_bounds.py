"""Bounded, typed input: form limits equal the columns, paging arguments have ranges, bodies a ceiling.

The first tests walk every form class the app defines and every field in it, so a new field, or a
column made shorter, cannot slip through: each text field is either stored (its limit is its
column's length), checked by a service against a setting capped by its column, a choice (every
choice fits its column), or a password (bounded, and hashed before it is stored).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict
from wtforms.fields.core import UnboundField
from wtforms.validators import EqualTo, Length, NumberRange

from config import Config
from microblog import create_app, i18n, search
from microblog.auth import two_factor_forms
from microblog.forms import WebForm
from microblog.models import (
    ID_MAX,
    REPORT_DISMISSED,
    REPORT_RESOLVED,
    ROLES,
    THEMES,
    USERNAME_MAX,
    AuditLogEntry,
    Instance,
    Media,
    Message,
    Post,
    Report,
    Task,
    User,
    Visibility,
    WebAuthnCredential,
)
from microblog.paging import MAX_PAGE
from microblog.services import accounts, imports, messages, posts
from microblog.services.import_files import KINDS
from tests.conftest import TestConfig
from tests.factories import make_post, make_user

# Form field -> the column its value is stored in (or compared with, for the login name).
STORED_IN = {
    ("RegistrationForm", "email"): User.email,
    ("ResetPasswordRequestForm", "email"): User.email,
    ("ChangeEmailForm", "email"): User.email,
    ("EditProfileForm", "about_me"): User.about_me,
    ("ReportForm", "reason"): Report.reason,
    ("ReasonForm", "reason"): AuditLogEntry.reason,
    ("OptionalReasonForm", "reason"): AuditLogEntry.reason,
    ("RoleForm", "reason"): AuditLogEntry.reason,
    ("HandleReportForm", "note"): Report.note,
    ("BlockDomainForm", "domain"): Instance.domain,
    ("BlockDomainForm", "reason"): Instance.block_reason,
    ("AddPasskeyForm", "name"): WebAuthnCredential.name,
    ("RenamePasskeyForm", "name"): WebAuthnCredential.name,
    **{(form, "spoiler"): Post.summary for form in ("TextForm", "ComposeForm", "ReplyForm", "PostForm")},
    # Each image's alt text (a list of fields: alt-0, alt-1, ...).
    **{(form, "alt"): Media.description for form in ("ComposeForm", "ReplyForm", "PostForm")},
}
# A local username: USERNAME_MAX, narrower than its column, which also holds remote accounts' "name@domain".
LOCAL_NAMES = {(form, "username"): User.username
               for form in ("LoginForm", "RegistrationForm", "EditProfileForm")}
# A suspension's reason is kept on the account too.
ALSO_STORED_IN = {("ReasonForm", "reason"): User.suspension_reason}
# Checked by a service against a setting (POST_MAX_LENGTH...), which the column caps.
SERVICE_LIMITED = {
    **{(form, "post"): (Post.body, "POST_MAX_LENGTH", posts.max_post_length)
       for form in ("TextForm", "ComposeForm", "ReplyForm", "PostForm")},
    ("MessageForm", "message"): (Message.body, "MESSAGE_MAX_LENGTH", messages.max_message_length),
}
# A value from a fixed list (the services refuse anything else).
CHOICES = {
    ("EditProfileForm", "locale"): (User.locale, lambda: list(i18n.LANGUAGE_NAMES)),
    ("EditProfileForm", "timezone"): (User.timezone, i18n.sorted_timezones),
    ("RoleForm", "role"): (User.role, lambda: list(ROLES)),
    ("HandleReportForm", "outcome"): (Report.status, lambda: [REPORT_RESOLVED, REPORT_DISMISSED]),
    **{(form, "visibility"): (Post.visibility, lambda: list(Visibility))
       for form in ("ComposeForm", "ReplyForm", "PostForm")},
    ("EditProfileForm", "default_visibility"): (User.default_visibility, lambda: list(Visibility)),
    ("EditProfileForm", "theme"): (User.theme, lambda: list(THEMES)),
    # An import's kind and mode are stored in its task's name (services.imports).
    **{("ImportForm", field): (Task.name, lambda: [f"{imports.TASK_PREFIX}{kind}_{mode}" for kind in KINDS
                                                   for mode in imports.MODES])
       for field in ("kind", "mode")},
}
# Compared with a secret and never stored: two-factor codes (from the app, or a recovery code).
COMPARED_ONLY = {**{(form, "code"): two_factor_forms.CODE_MAX
                    for form in ("ConfirmTwoFactorForm", "DisableTwoFactorForm", "SecondStepForm",
                                 "DeactivateAccountForm", "DeleteAccountForm")},
                 ("ChangeEmailForm", "otp"): two_factor_forms.CODE_MAX}
# Not text: FileField's bytes come from request.files, bounded by MEDIA_MAX_BYTES (the form reads at
# most that much; the view's request allowance stops more) and stored as files, never in a column.
NOT_INPUT = {"SubmitField", "BooleanField", "CSRFTokenField", "HiddenField", "FileField"}


def form_classes() -> Iterator[type[WebForm]]:
    pending = list(WebForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        yield form


def input_fields() -> list[tuple[str, str, UnboundField]]:
    found = []
    for form in form_classes():
        for name in dir(form):
            unbound = getattr(form, name, None)
            if isinstance(unbound, UnboundField) and unbound.field_class.__name__ not in NOT_INPUT:
                found.append((form.__name__, name, unbound))
    return sorted(found, key=lambda item: item[:2])


def validators(unbound: UnboundField) -> list:
    if unbound.field_class.__name__ == "FieldList":  # the fields of a list are bounded one by one
        unbound = unbound.args[0]
    return list(unbound.kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else []))


def max_length(unbound: UnboundField) -> int | None:
    limits = [v.max for v in validators(unbound) if isinstance(v, Length) and v.max >= 0]
    return min(limits) if limits else None


def column_length(column) -> int:
    length = column.property.columns[0].type.length
    assert isinstance(length, int), f"{column} has no length"
    return length


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> None:
    """An app built once, so every blueprint (and so every form class) has been imported."""
    folder = tmp_path_factory.mktemp("forms")
    create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_DIR": str(folder)})


def test_the_walk_sees_the_forms(loaded):
    names = {form.__name__ for form in form_classes()}
    assert {"RegistrationForm", "LoginForm", "PostForm", "EditProfileForm", "MessageForm", "ReportForm",
            "ReasonForm", "ResetPasswordRequestForm"} <= names


def test_every_form_field_is_bounded_and_accounted_for(loaded):
    unaccounted = []
    for form, name, unbound in input_fields():
        key = (form, name)
        if key in STORED_IN or key in LOCAL_NAMES or key in SERVICE_LIMITED or key in CHOICES:
            continue
        if key in COMPARED_ONLY:
            assert max_length(unbound) == COMPARED_ONLY[key], f"{form}.{name}: unbounded code"
            continue
        kind = unbound.field_class.__name__
        if kind == "PasswordField":
            checks = validators(unbound)
            repeats = any(isinstance(v, EqualTo) for v in checks)
            assert repeats or max_length(unbound) == accounts.PASSWORD_MAX, (
                f"{form}.{name}: unbounded password"
            )
            continue
        if kind == "IntegerField":
            ranges = [v for v in validators(unbound) if isinstance(v, NumberRange)]
            assert ranges and ranges[0].max is not None, f"{form}.{name}: no range"
            assert ranges[0].max <= ID_MAX, f"{form}.{name}: range beyond ids"
            continue
        unaccounted.append(f"{form}.{name} ({kind})")
    assert not unaccounted, f"say which column bounds these fields (STORED_IN, CHOICES...): {unaccounted}"


@pytest.mark.parametrize("key", sorted(STORED_IN), ids=[".".join(k) for k in sorted(STORED_IN)])
def test_a_stored_field_allows_exactly_its_column(loaded, key):
    form, name = key
    unbound = {(f, n): u for f, n, u in input_fields()}[key]
    assert max_length(unbound) == column_length(STORED_IN[key])
    if key in ALSO_STORED_IN:
        assert max_length(unbound) <= column_length(ALSO_STORED_IN[key])


@pytest.mark.parametrize("key", sorted(LOCAL_NAMES), ids=[".".join(k) for k in sorted(LOCAL_NAMES)])
def test_a_local_username_field_allows_a_local_name(loaded, key):
    unbound = {(f, n): u for f, n, u in input_fields()}[key]
    assert max_length(unbound) == USERNAME_MAX < column_length(LOCAL_NAMES[key])


@pytest.mark.parametrize("key", sorted(SERVICE_LIMITED), ids=[".".join(k) for k in sorted(SERVICE_LIMITED)])
def test_a_service_limit_is_capped_by_its_column(make_app, key):
    column, setting, limit = SERVICE_LIMITED[key]
    with make_app().app_context():
        assert limit() <= column_length(column)
    with make_app(**{setting: 10 * column_length(column)}).app_context():
        assert limit() == column_length(column)


@pytest.mark.parametrize("key", sorted(CHOICES), ids=[".".join(k) for k in sorted(CHOICES)])
def test_every_choice_fits_its_column(loaded, key):
    column, choices = CHOICES[key]
    values = choices()
    assert values
    assert max(len(value) for value in values) <= column_length(column)


def test_the_pages_tell_browsers_the_limits(client):
    """The limits reach the browser as maxlength attributes (the server checks them again)."""
    html = client.get("/auth/register").get_data(as_text=True)
    assert f'maxlength="{USERNAME_MAX}"' in html  # a local name (the column also holds remote ones)
    assert f'maxlength="{column_length(User.email)}"' in html


def test_every_text_field_of_every_form_refuses_a_lone_surrogate(app):
    """A lone surrogate (no UTF-8 form: the database driver cannot send it) is a form error on any
    field, found before the field's own checks (some look the text up in the database)."""
    message = "This text contains an invalid character (a lone surrogate). Please remove it."
    with app.app_context():
        user = make_user("alice")
    checked = []
    classes = {form.__name__: form for form in form_classes()}
    for form_name, name, _unbound in input_fields():
        # Werkzeug never decodes one from a request body, so the form is handed its data directly.
        with app.test_request_context("/", method="POST"):
            data = MultiDict({name: "x\ud800y"})
            args = (user,) if form_name == "EditProfileForm" else ()
            form = classes[form_name](*args, formdata=data)
            if not isinstance(form[name].data, str):
                continue  # a number field: its value never reaches the database as text
            assert not form.validate(), f"{form_name}.{name}"
            assert form[name].errors == [message], f"{form_name}.{name}: {form[name].errors}"
            checked.append(f"{form_name}.{name}")
    assert {"PostForm.post", "MessageForm.message", "EditProfileForm.about_me", "RegistrationForm.password",
            "LoginForm.username", "ReportForm.reason"} <= set(checked)


# -- paging ------------------------------------------------------------------------------------
WEB_LISTS = ["/explore", "/user/bob", "/user/bob/followers", "/user/bob/following", "/search?q=hello",
             "/messages", "/notifications", "/admin/users", "/admin/audit", "/admin/reports", "/admin/outbox"]
BAD_PAGES = ["0", "-1", str(MAX_PAGE + 1), "99999999999999999999999", "1.5", "1e3", "abc", "", " 1", "١", "²"]


@pytest.fixture
def admin_client(app):
    with app.app_context():
        make_user("root", role="admin")
        bob = make_user("bob")
        make_post(bob, "hello world")
        search.reindex()  # without an index, search answers 503 while it rebuilds one
    client = app.test_client()
    response = client.post("/auth/login", data={"username": "root", "password": "correct-horse"})
    assert response.status_code == 302
    return client


def test_web_page_numbers_out_of_range_are_404(admin_client):
    for path in WEB_LISTS:
        joiner = "&" if "?" in path else "?"
        for bad in BAD_PAGES:
            response = admin_client.get(f"{path}{joiner}page={bad}")
            assert response.status_code == 404, (path, bad, response.status_code)
        assert admin_client.get(f"{path}{joiner}page=1").status_code == 200, path


API_LISTS = ["/api/posts", "/api/users", "/api/users/2/followers", "/api/users/2/following",
             "/api/users/2/posts", "/api/search?q=hello"]


def test_api_page_and_per_page_out_of_range_are_422(admin_client):
    for path in API_LISTS:
        joiner = "&" if "?" in path else "?"
        for bad in ["page=0", "page=-1", f"page={MAX_PAGE + 1}", "page=abc", "per_page=0", "per_page=101",
                    "per_page=-5", "per_page=99999999999999999999", "per_page=1.5"]:
            response = admin_client.get(f"{path}{joiner}{bad}")
            assert response.status_code == 422 and response.is_json, (path, bad, response.status_code)
        assert admin_client.get(f"{path}{joiner}per_page=100").status_code == 200, path


def test_cursors_that_are_not_ours_are_404(admin_client):
    for path in ["/explore", "/user/bob/followers", "/api/posts"]:
        for bad in ["x", "W10.bad", "a" * 201, "%00", "", "WzEsMiwzXQ"]:
            for direction in ("before", "after"):
                response = admin_client.get(path, query_string={direction: bad})
                assert response.status_code == 404, (path, direction, bad, response.status_code)
        assert admin_client.get(path, query_string={"before": "x", "after": "y"}).status_code == 404


# -- ids and bodies ----------------------------------------------------------------------------
def test_ids_past_an_integer_key_and_odd_task_ids_are_404(admin_client):
    for path in ["/api/users/{n}", "/api/posts/{n}", "/api/users/{n}/posts", "/api/users/{n}/followers",
                 "/post/{n}", "/post/{n}/report", "/admin/posts/{n}"]:
        for n in (ID_MAX + 1, 2**63, 2**64):
            assert admin_client.get(path.format(n=n)).status_code == 404, (path, n)
    for path in ["/tasks/{t}", "/tasks/{t}.json", "/export/{t}/download", "/admin/tasks/{t}"]:
        for task_id in ("%00", "a%00b", "x" * 37, "..", "not-a-task"):
            assert admin_client.get(path.format(t=task_id)).status_code == 404, (path, task_id)


def test_bodies_have_a_ceiling():
    assert Config.MAX_CONTENT_LENGTH == 1024 * 1024


def test_a_body_over_the_ceiling_is_413_on_forms_and_api(app, client):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    web = client.post("/auth/login", data={"username": "alice", "password": big})
    assert web.status_code == 413
    api = client.post("/api/users", data=big, content_type="application/json")
    assert api.status_code == 413 and api.is_json
    with app.app_context():
        from microblog.extensions import db

        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_the_api_takes_only_addresses_the_sign_up_form_takes(client, app):
    """The API and the form share one rule (before, the API took any text with an @ in it)."""
    bad = ["\x81\x0b@example.com", "a@b", "@example.com", "alice@", "a b@example.com", "x@exa mple.com"]
    for email in bad:
        response = client.post("/api/users", json={"username": "alice", "email": email,
                                                   "password": "a long enough passphrase"})
        assert response.status_code == 422, (email, response.json)
        assert "email" in response.json["errors"]["json"], (email, response.json)
        form = client.post("/auth/register", data={"username": "alice", "email": email,
                                                   "password": "a long enough passphrase",
                                                   "password2": "a long enough passphrase"})
        assert form.status_code == 200, email
    with app.app_context():
        from microblog.extensions import db

        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert client.post("/api/users", json={"username": "alice", "email": "Alice@Example.com",
                                           "password": "a long enough passphrase"}).status_code in (201, 202)
