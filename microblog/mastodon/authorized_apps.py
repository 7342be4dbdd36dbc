"""Settings: the apps that may use your account (Mastodon's "Authorized apps"), and revoking one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from microblog.mastodon.forms import RevokeAppForm
from microblog.services import authorized_apps as apps_
from microblog.services import oauth_scopes as scopes_
from microblog.suspension import allowed_while_suspended

bp = Blueprint("authorized_apps", __name__)


@bp.route("/settings/apps", strict_slashes=False)
@login_required
def authorized_apps():
    """Each app holding a live token of yours: what it may do, since when, when it was last used."""
    return render_template("oauth/authorized_apps.html", title=_("Authorized apps"),
                           apps=apps_.authorized_apps(current_user), describe=scopes_.describe,
                           form=RevokeAppForm())


@bp.route("/settings/apps/<id:app_id>/revoke", methods=["POST"], strict_slashes=False)
@login_required
@allowed_while_suspended  # signing an app out
def revoke_app(app_id: int):
    """Revoke every token the app holds for you."""
    if not RevokeAppForm().validate_on_submit():
        abort(400)
    if apps_.revoke_application(current_user, app_id):
        flash(_("The app's access has been revoked."), "success")
    return redirect(url_for("authorized_apps.authorized_apps"))
