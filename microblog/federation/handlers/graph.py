"""Handlers of the follower graph's activities (Follow, Accept, Reject, Undo of a Follow, Block)."""
