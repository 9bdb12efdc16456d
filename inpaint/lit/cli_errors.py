"""Which exceptions the command line reports as one line, and how that line reads.

User errors are :class:`~inpaint.errors.UserInputError` (raised by the library for bad input — also when the
config parser wraps one raised by a constructor it calls: the original message is used), the config parser's own
errors (unknown key, wrong type or class_path — jsonargparse's ``ArgumentError``), a checkpoint that does not fit
the configured model, and a non-finite loss (a diverged run, with the hint where to look). Everything else is
a bug and keeps its traceback: :func:`user_error_message` returns None for it.
"""

from __future__ import annotations

import re

from inpaint.errors import user_input_cause
from inpaint.lit.nan_guard import NonFiniteLossError

STATE_DICT_MISMATCH = "Error(s) in loading state_dict"
DEBUG_ENV = "INPAINT_DEBUG"  # set to 1: user errors are raised with their traceback too
DEBUG_HINT = f" ({DEBUG_ENV}=1 shows the traceback)"


def condense_parser_message(message: str) -> str:
    """A jsonargparse error as one line: the config key, the most specific reason, the given value."""
    text = str(message)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return text
    key = re.search(r'Parser key "([^"]+)"', text)
    if not key:
        return " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else lines[0]
    reasons: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("Problem with given class_path") and i + 1 < len(lines):
            reasons.append(f"{line.rstrip(':')}: {lines[i + 1]}")
        elif line.startswith("- ") and "Does not validate against" not in line and "Problem with" not in line:
            reasons.append(line[2:])
        elif line.startswith(("Key ", "No action for key", "Unexpected", "Expected")):
            reasons.append(line)
    given = re.search(r"Given value: (.*)", text)
    reason = "; ".join(dict.fromkeys(reasons)) or lines[-1]
    suffix = f" (given: {given.group(1)[:120]})" if given else ""
    return f"config key '{key.group(1)}': {reason}{suffix}"


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def user_error_message(error: BaseException) -> str | None:
    """The one-line report for a user error, or None when ``error`` is a bug (it must keep its traceback)."""
    from jsonargparse import ArgumentError

    if isinstance(error, ArgumentError):
        cause = user_input_cause(error)
        if cause is not None:
            key = re.search(r'Parser key "([^"]+)"', str(error))
            return f"config key '{key.group(1)}': {_one_line(str(cause))}" if key else _one_line(str(cause))
        return condense_parser_message(str(error))
    cause = user_input_cause(error)  # itself, or wrapped by the parser while instantiating a class
    if cause is not None:
        return _one_line(str(cause)) + DEBUG_HINT
    if isinstance(error, NonFiniteLossError):
        return f"{type(error).__name__}: {_one_line(str(error))}{DEBUG_HINT}"
    if isinstance(error, RuntimeError) and STATE_DICT_MISMATCH in str(error):
        details = [line.strip() for line in str(error).splitlines()[1:] if line.strip()]
        return ("the checkpoint does not fit the configured model (was it trained with another config? use the "
                f"run's config.yaml): {details[0][:300] if details else ''}")
    return None
