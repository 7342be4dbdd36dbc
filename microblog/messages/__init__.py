"""Private messages, notifications and blocking: the web pages."""
