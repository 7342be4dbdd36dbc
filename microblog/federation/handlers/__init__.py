"""The handlers of received activities, one module per concern; importing this package registers them
with ``processing.handles``: ``graph`` (Follow, Accept, Reject, Undo of a Follow, Block) and
``content`` (Create, Update, Delete, Like, Announce, Undo of those, Move)."""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
