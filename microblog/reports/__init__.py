"""Reporting posts and accounts to the moderators."""
