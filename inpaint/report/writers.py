"""What every report table shares: LaTeX escaping, Markdown pipe rows, and writing ``<stem>.{md,csv,tex}``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def latex_escape(text: str) -> str:
    """Escape the characters LaTeX treats specially in table text (``\\ % _ & #``)."""
    return (text.replace("\\", r"\textbackslash{}").replace("%", r"\%").replace("_", r"\_").replace("&", r"\&")
            .replace("#", r"\#"))


def markdown_row(values: Sequence[str]) -> str:
    """One GitHub-Markdown table line."""
    return "| " + " | ".join(values) + " |"


def markdown_rule(aligns: Sequence[str]) -> str:
    """The header separator; ``aligns`` holds ``"l"`` or ``"r"`` per column."""
    return "|" + "|".join("---:" if a == "r" else "---" for a in aligns) + "|"


def write_files(out_dir: str | Path, stem: str, texts: Mapping[str, str]) -> list[Path]:
    """Write ``texts[suffix]`` to ``<out_dir>/<stem>.<suffix>`` (folders created); returns the paths in order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in texts.items():
        path = out_dir / f"{stem}.{suffix}"
        path.write_text(text)
        paths.append(path)
    return paths
