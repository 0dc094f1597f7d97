"""Training and evaluation examples for the question/sentence cross-encoder, from SQuAD-format JSON.

Each question becomes one listwise example: the sentence holding its first answer's start
(the positive), up to ``same_paragraph`` other sentences of its paragraph, then random
sentences from other paragraphs of the same article until there are ``negatives``. A
sentence holding any of the question's gold answers is never a negative. Sentences are cut
with the model card's regex, so the recipe reproduces the shipped model.

With ``unanswerable`` > 0, that share of the questions is also asked a second time of the
same sentences without every sentence that holds an answer (SQuAD 2.0's idea: a question
about the paragraph's story that the paragraph does not answer). Those examples have no
positive; the loss then asks every candidate to score below the "no answer" logit.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# A sentence ends at . ! or ? (with any closing quote or bracket) followed by white space.
SENTENCE_END = re.compile(r"(?<=[.!?])([\"\u201d')\]]?)\s+")


@dataclass(frozen=True)
class Example:
    """One question with its candidate sentences; ``texts[0]`` is the positive unless the
    example is ``answerable=False`` (no candidate answers)."""

    question: str
    texts: tuple[str, ...]
    answerable: bool = True


@dataclass(frozen=True)
class Paragraph:
    """A paragraph's sentences with their character spans, and the questions asked of it."""

    article: int
    sentences: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    questions: tuple[tuple[str, tuple[int, ...]], ...]  # (question, answer starts)

    def holding(self, offset: int) -> int | None:
        """Index of the sentence whose span holds a character offset."""
        for i, (start, end) in enumerate(self.spans):
            if start <= offset < end:
                return i
        return None


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (white space between them belongs to none)."""
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        end = match.start() + len(match.group(1))
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def read_squad(paths: list[Path]) -> list[Paragraph]:
    """Every paragraph of the SQuAD v1.1-format files, articles numbered across files."""
    paragraphs: list[Paragraph] = []
    article_no = 0
    for path in paths:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
        for article in data:
            for para in article["paragraphs"]:
                context = para["context"]
                spans = split_sentences(context)
                questions = tuple(
                    (qa["question"].strip(), tuple(int(a["answer_start"]) for a in qa["answers"]))
                    for qa in para["qas"]
                    if qa.get("answers")
                )
                paragraphs.append(
                    Paragraph(
                        article=article_no,
                        sentences=tuple(context[s:e].strip() for s, e in spans),
                        spans=tuple(spans),
                        questions=questions,
                    )
                )
            article_no += 1
    return paragraphs


def build_examples(
    paragraphs: list[Paragraph],
    negatives: int = 7,
    same_paragraph: int = 5,
    seed: int = 0,
    unanswerable: float = 0.0,
) -> list[Example]:
    """One listwise example per answerable question, and an unanswerable one for a share
    ``unanswerable`` of them (see the module docstring)."""
    rng = random.Random(seed)
    spare = random.Random(seed + 1)  # its own stream, so the answerable examples stay the same
    by_article: dict[int, list[int]] = {}
    for i, para in enumerate(paragraphs):
        by_article.setdefault(para.article, []).append(i)
    examples = []
    for p_index, para in enumerate(paragraphs):
        for question, starts in para.questions:
            positive = para.holding(starts[0])
            if positive is None:
                continue
            golden = {i for i in (para.holding(s) for s in starts) if i is not None}
            same = [i for i in range(len(para.sentences)) if i not in golden]
            rng.shuffle(same)
            texts = [para.sentences[positive]] + [para.sentences[i] for i in same[: min(same_paragraph, negatives)]]
            texts = list(dict.fromkeys(texts))  # a paragraph may repeat a sentence word for word
            texts += _others(paragraphs, by_article[para.article], p_index, negatives + 1 - len(texts), rng, texts)
            if len(texts) < negatives + 1:  # an article of one short paragraph: borrow from anywhere
                texts += _others(paragraphs, range(len(paragraphs)), p_index, negatives + 1 - len(texts), rng, texts)
            examples.append(Example(question, tuple(texts)))
            if unanswerable and spare.random() < unanswerable:
                missing = [para.sentences[i] for i in same[:same_paragraph]]
                missing = list(dict.fromkeys(t for t in missing if t != para.sentences[positive]))
                missing += _others(
                    paragraphs,
                    by_article[para.article],
                    p_index,
                    negatives + 1 - len(missing),
                    spare,
                    missing + texts[:1],
                )
                examples.append(Example(question, tuple(missing[: negatives + 1]), answerable=False))
    return examples


def _others(
    paragraphs: list[Paragraph], pool, own: int, wanted: int, rng: random.Random, taken: list[str]
) -> list[str]:
    """Up to ``wanted`` random sentences from the paragraphs in ``pool`` other than ``own``,
    none of them already ``taken``."""
    choices = [i for i in pool if i != own and paragraphs[i].sentences]
    out: list[str] = []
    for _ in range(wanted * 4):
        if len(out) >= wanted or not choices:
            break
        para = paragraphs[rng.choice(choices)]
        sentence = rng.choice(para.sentences)
        if sentence not in out and sentence not in taken:
            out.append(sentence)
    return out


def selection_tasks(paragraphs: list[Paragraph], scope: str) -> Iterator[tuple[str, list[str], set[int]]]:
    """Sentence-selection test items: (question, candidate sentences, indexes holding an answer start).

    ``scope`` is "paragraph" (the sentences of the question's paragraph) or "article" (every
    sentence of its article), as the model card measures.
    """
    if scope not in ("paragraph", "article"):
        raise ValueError(f"scope must be 'paragraph' or 'article', not {scope!r}")
    by_article: dict[int, list[Paragraph]] = {}
    for para in paragraphs:
        by_article.setdefault(para.article, []).append(para)
    for para in paragraphs:
        group = [para] if scope == "paragraph" else by_article[para.article]
        offset = 0
        for other in group:
            if other is para:
                break
            offset += len(other.sentences)
        sentences = [s for other in group for s in other.sentences]
        for question, starts in para.questions:
            gold = {offset + i for i in (para.holding(s) for s in starts) if i is not None}
            if gold:
                yield question, sentences, gold
