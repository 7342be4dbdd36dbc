"""Flask extension objects, created unbound and initialised by the app factory."""

from __future__ import annotations

import threading
from typing import Any

import marshmallow as ma
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Registers the sqlite:/// rate-limit storage with the limits package, before the limiter needs it.
from microblog import limit_storage  # noqa: F401

# Stable constraint names let Alembic alter and drop constraints, on SQLite too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base whose metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ErrorSchema(ma.Schema):
    """Every JSON error: a short title, a sentence for people, and field errors when input was invalid."""

    error = ma.fields.String(required=True, metadata={"description": "Short title, e.g. Not found"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong, for people"})
    errors = ma.fields.Dict(metadata={"description": "Invalid fields and their messages"})


class MicroblogApi(Api):
    """flask-smorest, documenting our error shape and leaving error handling to errors/handlers.py.

    The OpenAPI document is written when it is first read (``/api/openapi.json``, ``/api/docs``), not
    when the app starts: describing every view costs more than the rest of ``create_app`` together
    (bench/README.md), and most processes (workers, CLI commands, every test's app) never serve it.
    """

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, *args, **kwargs) -> None:
        self._undocumented: list[tuple[Any, str, Any]] = []
        self._documenting = threading.Lock()
        super().__init__(*args, **kwargs)

    @property
    def spec(self) -> Any:
        if self._undocumented:
            with self._documenting:
                pending, self._undocumented = self._undocumented, []
                for blueprint, name, parameters in pending:
                    blueprint.register_views_in_doc(self, self._app, self._spec, name=name,
                                                    parameters=parameters)
                    self._spec.tag({"name": name, "description": blueprint.description})
        return self._spec

    @spec.setter
    def spec(self, value: Any) -> None:
        self._spec = value  # a new app, a new document: what waited belongs to the old one
        self._undocumented = []

    def register_blueprint(self, blp, *, parameters=None, **options) -> None:
        # flask-smorest's own, with the documentation step left for ``spec`` to do.
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def _register_error_handlers(self) -> None:
        # One error module for the whole app (HTML or JSON by request); see errors/handlers.py.
        pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
login = LoginManager()
mail = Mail()
babel = Babel()
csrf = CSRFProtect()
bootstrap = Bootstrap5()
api = MicroblogApi()
# Client address from the WSGI environ; ProxyFix (PROXY_HOPS) makes it the real client behind proxies.
limiter = Limiter(key_func=get_remote_address)
