"""Likes, reposts and bookmarks: the POST buttons on post cards, and the bookmarks page."""
