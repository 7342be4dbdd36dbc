"""Notifications: the web pages and the bell's count."""
