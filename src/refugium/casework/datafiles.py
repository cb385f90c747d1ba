"""Reading casework's rule files: the shipped one in ``refugium/casework/data/`` or an
operator's own, with one error for both when it cannot be read."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from refugium.errors import BadInput


def read_rules(name: str, path: Path | None, what: str) -> tuple[str, str]:
    """The text of ``path``, or of the shipped file ``name`` when None, and the name to use
    in error messages.

    Raises:
        BadInput: the file cannot be read or is not UTF-8 ("SOURCE: cannot read WHAT").
    """
    source = str(path) if path is not None else name
    try:
        if path is None:
            return resources.files("refugium.casework").joinpath("data", name).read_text(
                "utf-8"
            ), source
        return path.read_text("utf-8"), source
    except (OSError, UnicodeDecodeError):
        raise BadInput(f"{source}: cannot read {what}") from None
