"""Errors users see. Each names the input it is about."""

from __future__ import annotations


class BalltrackError(Exception):
    """Base class for errors with a message meant for the user."""


class VideoError(BalltrackError):
    """A video could not be opened, probed or decoded. ``uri`` names it."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"{uri}: {reason}")
        self.uri = uri
        self.reason = reason

    def __reduce__(self):  # picklable across Ray processes
        return (type(self), (self.uri, self.reason))


class InputError(BalltrackError):
    """An input argument (path, glob, manifest, option) is unusable."""
