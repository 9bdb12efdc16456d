"""The package's one ``class_path`` / ``init_args`` instantiator (the LightningCLI config convention).

Only classes under ``inpaint.`` are imported unless the caller vouches for the source, so a config or weights file
cannot make the suite import arbitrary code.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from torch import nn

from inpaint.errors import UserInputError

TRUSTED_PREFIXES = ("inpaint.",)


class ClassPathError(UserInputError):
    """A ``class_path`` that is untrusted, cannot be imported, is not a module class, or rejects its init args."""


def import_class(class_path: str, allow_any_class: bool = False) -> type[nn.Module]:
    """The ``torch.nn.Module`` subclass named by a dotted ``class_path`` (``inpaint.*`` only unless allowed)."""
    if not allow_any_class and not class_path.startswith(TRUSTED_PREFIXES):
        raise ClassPathError(f"refusing to import {class_path!r}: only inpaint.* classes are loaded "
                             f"(pass allow_any_class=True for a source you trust)")
    module_name, _, class_name = class_path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as err:  # ValueError: empty module name
        raise ClassPathError(f"class {class_path!r} cannot be imported: {err}") from err
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ClassPathError(f"{class_path!r} is not a torch.nn.Module class")
    return cls


def instantiate(
    class_path: str, init_args: Mapping[str, Any] | None = None, allow_any_class: bool = False
) -> nn.Module:
    """``cls(**init_args)`` for the class at ``class_path``; a signature mismatch is reported as bad init args."""
    cls = import_class(class_path, allow_any_class)
    kwargs = dict(init_args or {})
    try:
        return cls(**kwargs)
    except TypeError as err:
        if "argument" not in str(err):  # a TypeError from inside the constructor is a bug, not bad input
            raise
        raise ClassPathError(f"bad init args for {class_path}: {err}") from err
