"""Private messages: the web pages."""
