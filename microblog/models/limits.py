"""Column sizes and id bounds that more than one model (and the forms and API schemas) rely on."""

USERNAME_MAX = 32
# A remote account's username is "name@domain" (federation), so the column holds more than a local name.
HANDLE_MAX = 300
EMAIL_MAX = 254
# The longest reason a moderator or a reporter can give (also a suspension's reason).
REASON_MAX = 500
# Integer primary keys are 32-bit on PostgreSQL (64-bit on SQLite); ids past this match nothing.
ID_MAX = 2**31 - 1
