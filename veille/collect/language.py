"""The language of an item whose source does not say it, from an offline identifier (py3langid)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

# Languages of the watch's sources; restricting the identifier to them makes it far more reliable.
LANGUAGES = ("fr", "en", "pt", "es", "de", "it", "nl", "pl", "ar")
MIN_CHARS = 25  # shorter texts are guessed too often wrong
MIN_PROBABILITY = 0.7


@lru_cache(maxsize=1)
def _identifier() -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_modelpath(Path(MODEL_DIR) / MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect(text: str) -> str | None:
    """Return the ISO 639-1 language of `text`, or None when it is too short or the guess is unsure."""
    text = " ".join(text.split())
    if len(text) < MIN_CHARS:
        return None
    lang, probability = _identifier().classify(text)
    return str(lang) if probability >= MIN_PROBABILITY else None
