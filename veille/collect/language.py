"""The language of an item whose source does not say it, from an offline identifier (py3langid).

py3langid's model is compressed: reading it costs more CPU than guessing the languages of a whole collect. The
model restricted to LANGUAGES is kept uncompressed in the user's cache folder (`$XDG_CACHE_HOME/veille`, else
`~/.cache/veille`; about 40 MB) after its first reading, and read from there afterwards; a cache that cannot be
written or read only means reading the compressed model again.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from array import array
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

# Languages of the watch's sources; restricting the identifier to them makes it far more reliable.
LANGUAGES = ("fr", "en", "pt", "es", "de", "it", "nl", "pl", "ar")
MIN_CHARS = 25  # shorter texts are guessed too often wrong
MIN_PROBABILITY = 0.7
SAMPLE = 6  # texts of one source read first (two side by side at its start, middle and end): one language, the source's

_loading = threading.Lock()
_model: Any = None


def identifier() -> Any:
    """The identifier, loaded once per process: the first caller loads it while the other threads wait."""
    global _model
    if _model is None:
        with _loading:
            if _model is None:
                _model = _cached() or _load()
    return _model


def cache_file() -> Path:
    """Where the uncompressed model is kept (named after py3langid's version and the languages)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "veille" / f"langid-{version('py3langid')}-{'-'.join(sorted(LANGUAGES))}.npz"


def _load() -> Any:
    """The model read from py3langid's compressed file, restricted to LANGUAGES, then kept in the cache."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    loaded = LanguageIdentifier.from_modelpath(Path(MODEL_DIR) / MODEL_FILE, norm_probs=True)
    loaded.set_languages(list(LANGUAGES))
    with contextlib.suppress(OSError):  # no cache: the next process reads the compressed model again
        import numpy as np

        path = cache_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as out:
            np.savez(out, ptc=loaded.nb_ptc, pc=loaded.nb_pc, classes=np.array(loaded.nb_classes),
                     nextmove=np.frombuffer(loaded.tk_nextmove, dtype=f"u{loaded.tk_nextmove.itemsize}"),
                     row=np.frombuffer(loaded.tk_row, dtype=f"u{loaded.tk_row.itemsize}"),
                     output=np.array(loaded.tk_output, dtype=np.int64))
        os.replace(out.name, path)  # whole or absent: a process reading it never sees half a file
    return loaded


def _cached() -> Any:
    """The model from the cache, or None when it is absent or unreadable."""
    path = cache_file()
    if not path.is_file():
        return None
    try:
        import numpy as np
        from py3langid.langid import LanguageIdentifier

        with np.load(path, allow_pickle=False) as data:
            nextmove, row = (array({1: "B", 2: "H", 4: "I", 8: "Q"}[data[k].itemsize]) for k in ("nextmove", "row"))
            nextmove.frombytes(data["nextmove"].tobytes())
            row.frombytes(data["row"].tobytes())
            return LanguageIdentifier(data["ptc"], data["pc"], data["classes"].tolist(), nextmove,
                                      data["output"].tolist(), norm_probs=True, tk_row=row)
    except (OSError, ValueError, KeyError):
        return None


def detect(text: str) -> str | None:
    """Return the ISO 639-1 language of `text`, or None when it is too short or the guess is unsure."""
    text = " ".join(text.split())
    if len(text) < MIN_CHARS:
        return None
    lang, probability = identifier().classify(text)
    return str(lang) if probability >= MIN_PROBABILITY else None


def detect_many(texts: Sequence[str]) -> list[str | None]:
    """The language of each of one source's texts. SAMPLE texts are read first, two side by side at the start, the
    middle and the end of the list (a feed alternating two languages, or changing half-way, shows it there): when
    they are all one language, that is every text's (a short title of a French feed is French); when they disagree
    or one is unsure, each text is read on its own."""
    if len(texts) <= SAMPLE:
        return [detect(t) for t in texts]
    middle = len(texts) // 2
    sample = [detect(texts[n]) for n in (0, 1, middle, middle + 1, len(texts) - 2, len(texts) - 1)]
    if sample[0] is not None and sample.count(sample[0]) == SAMPLE:
        return [sample[0]] * len(texts)
    return [detect(t) for t in texts]
