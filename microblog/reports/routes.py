"""Reporting: anyone signed in can ask the moderators to look at a post or an account."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.forms import submitted
from microblog.models import User
from microblog.reports.forms import ReportForm
from microblog.services import posts, report_forwarding
from microblog.services.report_forwarding import Filed

bp = Blueprint("reports", __name__)


@bp.route("/post/<id:post_id>/report", methods=["GET", "POST"])
@login_required
def report_post(post_id: int):
    """The form to report a post, and sending it."""
    post = posts.visible_post(current_user, post_id) or abort(404)
    form, domain = _form(post.author)
    filed: list[Filed] = []
    if submitted(form, lambda: filed.append(report_forwarding.report_post(
            current_user, post, form.reason.data, forward=bool(domain and form.forward.data)))):
        _thank(filed[0],
               _("Thank you. The moderators will look at this post, and you will be told the outcome."))
        return redirect(url_for("main.post", post_id=post.id))
    return render_template("reports/report.html", title=_("Report a post"), form=form, post=post, person=None,
                           forward_domain=domain)


@bp.route("/user/<username>/report", methods=["GET", "POST"])
@login_required
def report_user(username: str):
    """The form to report an account, and sending it."""
    person = report_forwarding.reportable_user(username) or abort(404)
    form, domain = _form(person)
    filed: list[Filed] = []
    if submitted(form, lambda: filed.append(report_forwarding.report_user(
            current_user, person, form.reason.data, forward=bool(domain and form.forward.data)))):
        _thank(filed[0],
               _("Thank you. The moderators will look at this account, and you will be told the outcome."))
        return redirect(url_for("main.user", username=person.username))
    title = _("Report %(username)s", username=person.username)
    return render_template("reports/report.html", title=title, form=form, post=None, person=person,
                           forward_domain=domain)


def _form(target: User) -> tuple[ReportForm, str | None]:
    """The report form, with the choice to forward it when ``target`` is another server's account."""
    form = ReportForm()
    domain = report_forwarding.forward_domain(target)
    if domain is not None:
        form.forward.label.text = _("Also send this report (anonymously) to %(domain)s", domain=domain)
    return form, domain


def _thank(filed: Filed, message: str) -> None:
    flash(message, "success")
    if filed.forward_error is not None:
        flash(_("The report could not be sent to the other server: %(error)s", error=filed.forward_error),
              "warning")
