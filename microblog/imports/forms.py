"""The import form: what the file holds, merge or overwrite, and the file."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FileField, RadioField, SelectField, SubmitField
from wtforms.validators import InputRequired

from microblog.forms import WebForm
from microblog.services.import_files import BLOCKS, BOOKMARKS, FOLLOWING, MUTES
from microblog.services.imports import MERGE, OVERWRITE


class ImportForm(WebForm):
    """Upload a CSV file exported from Mastodon (or from here). The file comes from request.files (a
    WebForm reads only text): the field gives it a label and a place for its error."""

    kind = SelectField(_l("What the file holds"), validators=[InputRequired()], choices=[
        (FOLLOWING, _l("Follows (following_accounts.csv)")),
        (BLOCKS, _l("Blocked accounts (blocked_accounts.csv)")),
        (MUTES, _l("Muted accounts (muted_accounts.csv)")),
        (BOOKMARKS, _l("Bookmarks (bookmarks.csv)")),
    ])
    mode = RadioField(_l("How to import"), default=MERGE, validators=[InputRequired()], choices=[
        (MERGE, _l("Merge: keep what you have and add what the file holds")),
        (OVERWRITE, _l("Overwrite: make your list exactly the file's; what it does not name is removed")),
    ])
    file = FileField(_l("CSV file"), render_kw={"accept": ".csv,text/csv,text/plain"},
                     description=_l("A CSV file of at most 1 MB and 10,000 lines, as Mastodon exports it."))
    submit = SubmitField(_l("Import"))
