"""民事民议: hearings run in the room and online at once."""
