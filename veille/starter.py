"""`veille init`: a configuration folder started from the shipped, commented sources.yaml and members.yaml."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from veille.errors import InputError

FILES = ("sources.yaml", "members.yaml")


def write_starter(directory: Path) -> list[tuple[Path, bool]]:
    """Write each shipped file the folder lacks (an existing one is kept as it is); return (path, written)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder {directory}: {exc.strerror}") from exc
    done = []
    for name in FILES:
        target = directory / name
        if target.exists():
            done.append((target, False))
            continue
        text = resources.files("veille").joinpath("examples", name).read_text(encoding="utf-8")
        try:
            with target.open("x", encoding="utf-8") as out:  # never over a file made meanwhile
                out.write(text)
        except OSError as exc:
            raise InputError(f"cannot write {target}: {exc.strerror}") from exc
        done.append((target, True))
    return done
