"""Handlers of content activities (Create, Update, Delete, Like, Announce, Undo of those, Move)."""
