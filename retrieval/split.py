"""Split news text into sentences and passages (chunks of neighbouring sentences).

A rule-based splitter: newlines end paragraphs, and a full stop, question or exclamation
mark ends a sentence only when the next word could start one and the word before it is
not an abbreviation or an initial. It runs at hundreds of thousands of sentences a second,
so splitting costs nothing beside embedding (see README, "Sentence splitting").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that end with a full stop without ending the sentence (compared lowercased, no dot).
ABBREVIATIONS = frozenset(
    """
mr mrs ms dr prof gen lt col maj capt cpt sgt cmdr adm rep sen gov pres supt insp det
st jr sr rev hon fr mt ft ave blvd rd no nos vol vols fig figs pp ed eds approx est dept
jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
inc corp co ltd llc plc bros assn univ vs etc al cf ie eg viz ca
ala ariz ark calif colo conn del fla ga ill ind kan ky la md mass mich minn miss mo mont neb nev okla ore pa tenn tex va vt wash wis wyo
""".split()
)
# Sentence starters that end an abbreviation-sentence anyway ("... in the U.S. The next day").
STARTERS = frozenset(
    """
the a an he she it they we i you this that these those there his her its their our but and
so yet in on at after before when while if as meanwhile however officials some many
""".split()
)
# A run of stops is taken whole (possessively, and only from its first stop), so a long run of
# dots costs one pass instead of one pass per dot.
_BOUNDARY = re.compile(r"""((?<![.!?])[.!?]++|\.\.\.|…)(["'”’)\]]*+)(\s+)(?=["'“‘(\[]?[A-Z0-9])""")
_DOTTED = re.compile(r"(?:\b[A-Za-z]\.){2,}$")  # U.S. U.K. a.m.
_INITIAL = re.compile(r"(?:^|[\s(])[A-Z]$")  # J. in "J. K. Rowling"
_WORD_BEFORE = re.compile(r"([A-Za-z]+)$")
_FIRST_WORD = re.compile(r"[\"'“‘(\[]?([A-Za-z]+)")
# A sentence longer than this is cut at its last clause break (; , : dash) or space before the
# limit: text with no sentence punctuation (a transcript, a scraped table) would otherwise be
# one sentence of any length, past what the model reads (256 word pieces, ~1,000 characters)
# and too long to show as evidence. Real sentences are shorter: 4 of XQuAD's 1,173 exceed 600.
MAX_SENTENCE_CHARS = 1000
_CLAUSE_BREAKS = ("; ", " — ", " – ", " - ", ": ", ", ")
# Abbreviations, initials and dotted acronyms are judged on this much text before a full stop,
# so a line of many sentences is split in linear time (the longest abbreviation is 5 letters).
_LOOKBACK = 64


@dataclass(frozen=True)
class Sentence:
    """A sentence and where it sits in its article."""

    text: str
    paragraph: int
    position: int  # index among the article's sentences


class SentenceSplitter:
    """Splits article text into sentences that survive abbreviations, initials and quotes."""

    version = "rules-3"  # rules-3: datelines are read off before splitting (retrieval/lead.py)

    def __init__(self, min_chars: int = 12, max_chars: int = MAX_SENTENCE_CHARS):
        if max_chars < 2 * max(min_chars, 1):
            raise ValueError(f"max_chars ({max_chars}) must be at least twice min_chars ({min_chars})")
        self.min_chars = min_chars
        self.max_chars = max_chars

    def split(self, text: str) -> list[Sentence]:
        groups: list[list] = []  # the pieces of each sentence, its paragraph and its length
        paragraphs = [p for p in re.split(r"\n\s*\n|\r\n\s*\r\n", text) if p.strip()]
        for number, paragraph in enumerate(paragraphs):
            for line in paragraph.splitlines():
                for piece in self._cap_all(self._split_line(" ".join(line.split()))):
                    if (
                        groups
                        and groups[-1][1] == number
                        and len(piece) < self.min_chars
                        and groups[-1][2] + 1 + len(piece) <= self.max_chars
                    ):
                        groups[-1][0].append(piece)  # too short to stand alone: joins the one before
                        groups[-1][2] += 1 + len(piece)
                    else:
                        groups.append([[piece], number, len(piece)])
        return [Sentence(" ".join(parts), number, position) for position, (parts, number, _) in enumerate(groups)]

    def split_text(self, text: str) -> list[str]:
        return [s.text for s in self.split(text)]

    def _split_line(self, line: str) -> list[str]:
        if not line:
            return []
        pieces, start = [], 0
        for match in _BOUNDARY.finditer(line):
            end = match.end(2)
            if self._is_boundary(line, match):
                piece = line[start:end].strip()
                if piece:
                    pieces.append(piece)
                start = match.end()
        tail = line[start:].strip()
        if tail:
            pieces.append(tail)
        return pieces

    def _cap_all(self, pieces: list[str]) -> list[str]:
        if all(len(piece) <= self.max_chars for piece in pieces):
            return pieces
        return [part for piece in pieces for part in self._cap(piece)]

    def _cap(self, piece: str) -> list[str]:
        """Cut an over-long sentence into parts of at most ``max_chars``: at the last clause
        break in the second half of the window, else the last space, else mid-word."""
        parts, start, limit = [], 0, self.max_chars
        while len(piece) - start > limit:
            window_end, floor = start + limit, start + limit // 2
            cut = -1
            for mark in _CLAUSE_BREAKS:
                at = piece.rfind(mark, floor, window_end)
                if at >= 0:
                    cut = at + len(mark.rstrip())
                    break
            if cut < 0:
                at = piece.rfind(" ", floor, window_end + 1)
                cut = at if at >= 0 else window_end
            parts.append(piece[start:cut].strip())
            start = cut
        parts.append(piece[start:].strip())
        return [part for part in parts if part]

    def _is_boundary(self, line: str, match: re.Match) -> bool:
        if match.group(1) != ".":
            return True  # ? ! ... end sentences; a quote after them is kept with the sentence
        stop = match.start(1)
        start = max(0, stop - _LOOKBACK)  # searched with pos/endpos: no copy of the line, same matches
        next_word = _FIRST_WORD.match(line, match.end())
        starts_sentence = bool(next_word) and next_word.group(1).lower() in STARTERS
        if _DOTTED.search(line, start, stop + 1):
            return starts_sentence
        if _INITIAL.search(line, start, stop):
            return False
        word = _WORD_BEFORE.search(line, start, stop)
        if word and word.group(1).lower() in ABBREVIATIONS and not match.group(2):
            return starts_sentence and word.group(1).lower() not in {"mr", "mrs", "ms", "dr", "st", "no"}
        return True


def chunk_ids(sentences: list[Sentence], max_sentences: int = 5) -> list[int]:
    """Group sentences into passages: a paragraph, cut into windows when it runs long."""
    ids, current, count, last_paragraph = [], -1, 0, None
    for sentence in sentences:
        if sentence.paragraph != last_paragraph or count >= max_sentences:
            current, count, last_paragraph = current + 1, 0, sentence.paragraph
        ids.append(current)
        count += 1
    return ids
