"""The language of an item whose source does not say it, from an offline identifier (py3langid)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

# Languages of the watch's sources; restricting the identifier to them makes it far more reliable.
LANGUAGES = ("fr", "en", "pt", "es", "de", "it", "nl", "pl", "ar")
MIN_CHARS = 25  # shorter texts are guessed too often wrong
MIN_PROBABILITY = 0.7

_loading = threading.Lock()
_model: Any = None


def identifier() -> Any:
    """The identifier, loaded once per process: the first caller loads it while the other threads wait."""
    global _model
    if _model is None:
        with _loading:
            if _model is None:
                from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

                loaded = LanguageIdentifier.from_modelpath(Path(MODEL_DIR) / MODEL_FILE, norm_probs=True)
                loaded.set_languages(list(LANGUAGES))
                _model = loaded
    return _model


def detect(text: str) -> str | None:
    """Return the ISO 639-1 language of `text`, or None when it is too short or the guess is unsure."""
    text = " ".join(text.split())
    if len(text) < MIN_CHARS:
        return None
    lang, probability = identifier().classify(text)
    return str(lang) if probability >= MIN_PROBABILITY else None
