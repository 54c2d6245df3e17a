"""The world outside the prediction: finding the real ``aws`` and its version, the launcher, the
memo of quiet decisions, and file I/O."""
