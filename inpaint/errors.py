"""Error types shared across the package."""

from __future__ import annotations


class UserInputError(ValueError):
    """Input a user can fix (a flag, a config value, a file); commands print the message and exit with code 2."""
