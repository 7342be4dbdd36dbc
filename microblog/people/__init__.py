"""Relationships between people: follow, unfollow, block, unblock (POST buttons on profiles)."""
