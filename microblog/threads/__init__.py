"""Conversations on the web: replying to a post, editing one's own post, and its edit history."""
