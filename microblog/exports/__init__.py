"""Export pages: start an export of your posts, watch its progress, download the file."""
