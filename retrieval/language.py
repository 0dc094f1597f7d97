"""Whether a question is in English: newsdesk's models and archive read English only, so a
question in another language is told so in one line, in English.

Two signals must agree, so a short English question full of names ("Liz Truss resign?") is
never taken for German: a quarter or more of its words are not English words (the shipped
models' vocabulary) or it has letters outside ASCII, and py3langid (a maintained langid.py,
its model in the package) names another language with confidence. The classifier loads only for questions that fail the first test.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from retrieval.spelling import model_words

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_WORDS = 3
ENGLISH_SHARE = 0.75
CONFIDENCE = 0.8
# Languages a newsroom question is likely to come in; naming them keeps short questions from
# being read as a language nobody asks in.
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "ru", "uk", "pl", "tr", "ar", "zh", "ja", "ko", "hi", "id", "sv")
NAMES = {
    "es": "Spanish", "fr": "French", "de": "German", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
    "ru": "Russian", "uk": "Ukrainian", "pl": "Polish", "tr": "Turkish", "ar": "Arabic", "zh": "Chinese",
    "ja": "Japanese", "ko": "Korean", "hi": "Hindi", "id": "Indonesian", "sv": "Swedish",
}  # fmt: skip
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def prepare() -> None:
    """Load the language classifier now (about 2.5 s), so no question waits for it."""
    _identifier()


def not_english(question: str) -> str | None:
    """The name of the language ``question`` is in, when that is clearly not English; else None."""
    words = [w.lower() for w in _WORD.findall(question)]
    if len(words) < MIN_WORDS:
        return None
    english = model_words()
    if not english or (sum(w in english for w in words) >= ENGLISH_SHARE * len(words) and question.isascii()):
        return None  # nearly every word is an English word: no need to ask the classifier
    with _lock:
        language, probability = _identifier().classify(question)
    if language == "en" or probability < CONFIDENCE:
        return None
    return NAMES.get(language, language)


def language_note(language: str) -> str:
    return f"newsdesk reads English, and this question looks {language}: ask in English for answers from the archive."
