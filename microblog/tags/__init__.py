"""Hashtag pages and Atom feeds (of a tag, of a person), and the trending list Explore shows."""
