"""Errors that mean "fix your input", kept apart from bugs.

Library code raises these for bad user input (a wrong path, an unknown option value, a config that does not
compose); the command line prints them as one line and exits non-zero. Every other exception is a bug and keeps
its traceback. This module imports nothing from the suite, so any layer may raise them.
"""

from __future__ import annotations


class UserInputError(ValueError):
    """A value given by the user (option, config entry, path) is wrong; the message says what to change."""


class MissingPathError(UserInputError, FileNotFoundError):
    """A path given by the user does not exist, or holds none of the files it should."""


class UnavailableError(UserInputError):
    """What the run needs is not here (a weight file, the data's segmentation maps): it cannot start on this machine
    or with this data. A study records its cells as n/a with this message instead of failing them, and tries them
    again at its next start (a weight file: once ``path`` exists)."""

    path: str = ""  # the missing file, when one file is what is missing


class MissingWeightsError(MissingPathError, UnavailableError):
    """A pretrained weight file that the run needs is not installed (nothing is downloaded here). The run cannot
    start; a study records its cells as n/a with this message and runs them once ``path`` exists."""

    def __init__(self, message: str, path: object = "") -> None:
        super().__init__(message)
        self.path = str(path)


class NotAFolderError(UserInputError, NotADirectoryError):
    """A path given by the user names a file where a folder is expected."""


class NothingToTrainError(UserInputError):
    """``fit`` was asked of a model without trainable parameters (e.g. the classical OpenCV inpainters): score it
    with ``test`` instead, which needs no checkpoint for such a model."""


def user_input_cause(error: BaseException) -> UserInputError | None:
    """The :class:`UserInputError` that ``error`` is or was explicitly raised from (``raise … from`` chain), e.g.
    one that a config parser wrapped in its own error; None when the chain holds none. The implicit context
    (an error raised *while handling* another) is not followed: that is a new failure, not a wrapped one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, UserInputError):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


__all__ = ["MissingPathError", "MissingWeightsError", "NotAFolderError", "NothingToTrainError", "UnavailableError",
           "UserInputError", "user_input_cause"]
