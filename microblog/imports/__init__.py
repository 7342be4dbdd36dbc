"""Import pages: follows, blocks, mutes and bookmarks from Mastodon's CSV files, and their progress."""
