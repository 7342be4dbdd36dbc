"""The admin and moderator area under /admin."""
