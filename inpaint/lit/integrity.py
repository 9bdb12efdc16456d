"""Checkpoint integrity: a SHA-256 beside every checkpoint and export the suite writes, verified on every load.

``X.ckpt`` / ``X.pt`` get ``X.ckpt.sha256`` / ``X.pt.sha256`` in the ``sha256sum`` format (``<hex>  <name>``), so
``sha256sum -c X.ckpt.sha256`` checks a file by hand too. The checksum is written after the file itself is complete
and renamed into place, itself atomically (temporary file + ``os.replace``). Every load path verifies it before
``torch.load``: ``inpaint export``, :func:`inpaint.lit.export.load_generator` (``inpaint predict``), ``--ckpt_path
<file>`` of every LightningCLI stage and ``--ckpt_path last`` (a mismatch there is skipped like a truncated file,
and an older intact checkpoint is used). A mismatch is a :class:`ChecksumMismatchError` naming the file; a file
without a checksum (written before this existed, or by other software) loads with one :class:`IntegrityWarning`.
"""

from __future__ import annotations

import hashlib
import os
import warnings

from inpaint.errors import UserInputError

CHECKSUM_SUFFIX = ".sha256"
_CHUNK = 1 << 20


class ChecksumMismatchError(UserInputError):
    """A checkpoint or export whose bytes do not match the SHA-256 written beside it (damaged or altered)."""


class IntegrityWarning(UserWarning):
    """A checkpoint or export without a checksum file: it loads, but its integrity cannot be verified."""


def checksum_path(path: str | os.PathLike[str]) -> str:
    """The checksum file of ``path``: ``path + ".sha256"``."""
    return os.fspath(path) + CHECKSUM_SUFFIX


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_checksum(path: str | os.PathLike[str], digest: str | None = None) -> str:
    """Write ``path``'s SHA-256 (``digest`` when already computed) to ``path.sha256`` atomically; returns its path."""
    path = os.fspath(path)
    digest = digest or file_sha256(path)
    target = checksum_path(path)
    folder = os.path.dirname(os.path.abspath(target))
    partial = os.path.join(folder, f".{os.path.basename(target)}.partial-{os.getpid()}")
    try:
        with open(partial, "w") as handle:
            handle.write(f"{digest}  {os.path.basename(path)}\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return target


def remove_checksum(path: str | os.PathLike[str]) -> None:
    """Delete ``path``'s checksum file if there is one (when the file itself is deleted)."""
    try:
        os.remove(checksum_path(path))
    except FileNotFoundError:
        pass


def recorded_checksum(path: str | os.PathLike[str]) -> str | None:
    """The SHA-256 recorded beside ``path``; None when there is no checksum file."""
    target = checksum_path(path)
    try:
        with open(target) as handle:
            text = handle.read(4096)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ChecksumMismatchError(f"cannot read the checksum file {target}: {err}") from err
    digest = text.split()[0].lower() if text.split() else ""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ChecksumMismatchError(f"checksum file {target} does not hold a SHA-256; delete it to load {path} "
                                    "unverified, or restore it")  # fmt: skip
    return digest


def verify_checksum(path: str | os.PathLike[str], what: str = "checkpoint") -> bool:
    """Check ``path`` against its checksum file before it is loaded.

    Returns True when it matches, False (after one :class:`IntegrityWarning`) when there is no checksum file;
    raises :class:`ChecksumMismatchError` naming the file when it does not match."""
    path = os.fspath(path)
    expected = recorded_checksum(path)
    if expected is None:
        warnings.warn(f"{what} {path} has no {os.path.basename(checksum_path(path))} beside it (written by an older "
                      "version or other software): loaded without an integrity check", IntegrityWarning,
                      stacklevel=2)  # fmt: skip
        return False
    actual = file_sha256(path)
    if actual != expected:
        raise ChecksumMismatchError(
            f"{what} {path} is damaged: its SHA-256 {actual[:16]}… does not match {expected[:16]}… recorded in "
            f"{os.path.basename(checksum_path(path))}; restore the file from a backup or use another checkpoint"
        )
    return True


__all__ = [
    "CHECKSUM_SUFFIX", "ChecksumMismatchError", "IntegrityWarning", "checksum_path", "file_sha256",
    "recorded_checksum", "remove_checksum", "verify_checksum", "write_checksum",
]  # fmt: skip
