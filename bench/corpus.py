"""Benchmark corpora: the real articles we have, then synthetic news articles up to the size asked for.

Real: the seed articles (news) and the 48 Wikipedia articles of XQuAD (about 1,200 sentences).
Synthetic: article i is drawn from a random generator seeded with i, so every corpus is a
prefix of the larger ones and the same on every run. An article has a topic (conflict,
economy, weather, politics, health, local, crime, sport, tech), a headline, a date between
2019 and 2024, a source, and 3 to 7 paragraphs of 1 to 5 sentences. Sentences come from
90 news templates whose slots take names (120 x 150), places (80 countries, 100 cities),
organisations, roles, numbers, dates and money; a third of them gain a clause of content
words drawn, by frequency, from the vocabulary of the real articles, which gives the
vocabulary a long tail like real text. Sentence lengths (about 20 words) and vocabulary
growth are printed by `python -m bench.corpus`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from bench import lexicon
from retrieval.config import PROJECT_ROOT
from retrieval.ingest import read_paths
from retrieval.split import SentenceSplitter
from retrieval.tokenize import STOPWORDS
from retrieval.types import Article

XQUAD = PROJECT_ROOT.parent / "shared" / "data" / "xquad.en.json"
SEED_GOLD = PROJECT_ROOT / "tests" / "data" / "seed_gold.jsonl"
GENERATOR_VERSION = "news-1"


def xquad_path() -> Path | None:
    for path in (XQUAD, PROJECT_ROOT / "shared" / "data" / "xquad.en.json"):
        if path.is_file():
            return path
    return None


def real_articles() -> list[Article]:
    """The seed news articles and, when the shared data is present, the XQuAD Wikipedia articles."""
    articles = list(read_paths([PROJECT_ROOT / "seeds"]).articles)
    path = xquad_path()
    if path:
        for entry in json.loads(path.read_text(encoding="utf-8"))["data"]:
            text = "\n\n".join(p["context"] for p in entry["paragraphs"])
            title = entry["title"].replace("_", " ")
            articles.append(Article(id=f"xquad-{entry['title']}", text=text, title=title, source="Wikipedia"))
    return articles


@lru_cache(maxsize=1)
def _real_vocabulary() -> tuple[list[str], list[int]]:
    words = Counter()
    for article in real_articles():
        words.update(w for w in re.findall(r"[a-z]{4,}", article.text.lower()) if w not in STOPWORDS)
    common = words.most_common()
    return [w for w, _ in common], [c for _, c in common]


class NewsGenerator:
    """Synthetic news article number ``i``, the same on every run."""

    def __init__(self, seed: int = 2024):
        self.seed = seed
        self.words, self.weights = _real_vocabulary()

    def _fill(self, rng: random.Random, template: str, topic: dict) -> str:
        def pick(name: str) -> str:
            if name.startswith("person"):
                return f"{rng.choice(lexicon.FIRST)} {rng.choice(lexicon.LAST)}"
            table = {
                "country": lexicon.COUNTRIES,
                "city": lexicon.CITIES,
                "org": lexicon.ORGS,
                "role": lexicon.ROLES,
                "day": lexicon.DAYS,
                "month": lexicon.MONTHS,
                "noun": topic["nouns"],
                "counted": topic["counted"],
                "adj": lexicon.ADJECTIVES,
                "unit": lexicon.UNITS,
                "ordinal": lexicon.ORDINALS,
            }
            base = name.rstrip("0123456789")
            if base in table:
                return rng.choice(table[base])
            if base == "org_cap":
                org = rng.choice(lexicon.ORGS)
                return org[0].upper() + org[1:]
            if base == "num":
                return f"{rng.choice([rng.randint(12, 999), rng.randint(1, 99) * 100, rng.randint(1000, 250000)]):,}"
            if base == "small":
                return str(rng.randint(2, 12))
            if base == "pct":
                return f"{rng.uniform(0.5, 40):.1f}"
            if base == "year":
                return str(rng.randint(1990, 2024))
            if base == "money":
                return f"{rng.randint(2, 900)} {rng.choice(['million', 'billion'])} {rng.choice(['dollars', 'euros', 'pounds'])}"
            raise KeyError(name)

        sentence = re.sub(r"\{(\w+)\}", lambda m: pick(m.group(1)), template)
        roll = rng.random()
        if roll < 0.35:
            extra = rng.choices(self.words, weights=self.weights, k=3)
            sentence = (
                sentence[:-1]
                + f", amid {rng.choice(lexicon.ADJECTIVES)} questions over the {extra[0]} of {extra[1]} and {extra[2]}."
            )
        elif roll < 0.6 and not sentence.endswith("said."):
            sentence = sentence[:-1] + f", according to {pick('person')}, a {pick('role')} in {pick('city')}."
        return sentence

    def article(self, i: int) -> Article:
        rng = random.Random(f"{self.seed}:{i}")
        name = rng.choice(sorted(lexicon.TOPICS))
        topic = lexicon.TOPICS[name]
        paragraphs = []
        for _ in range(rng.randint(3, 7)):
            paragraphs.append(
                " ".join(self._fill(rng, rng.choice(topic["templates"]), topic) for _ in range(rng.randint(1, 5)))
            )
        noun, place = rng.choice(topic["nouns"]), rng.choice(lexicon.CITIES + lexicon.COUNTRIES)
        title = f"{noun.capitalize()} in {place}: {rng.choice(lexicon.ROLES)} {rng.choice(lexicon.LAST)} speaks"
        date = f"{rng.randint(2019, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return Article(
            id=f"syn-{i:07d}",
            text="\n\n".join(paragraphs),
            title=title,
            date=date,
            source=rng.choice(lexicon.SOURCES),
            url=f"https://news.example/{name}/{i}",
        )


def build_corpus(target_sentences: int) -> tuple[list[Article], list[int]]:
    """Real articles, then synthetic ones, until ``target_sentences``; also each article's sentence count."""
    splitter = SentenceSplitter()
    articles, counts, total = [], [], 0
    generator = NewsGenerator()
    real = real_articles()
    i = 0
    while total < target_sentences:
        article = real[i] if i < len(real) else generator.article(i - len(real))
        n = len(splitter.split(article.text))
        articles.append(article)
        counts.append(n)
        total += n
        i += 1
    return articles, counts


def prefix_for(counts: list[int], target: int) -> int:
    """How many leading articles hold at least ``target`` sentences."""
    total = 0
    for n, count in enumerate(counts, start=1):
        total += count
        if total >= target:
            return n
    return len(counts)


def content_key(articles: list[Article]) -> str:
    """A short hash of everything indexing reads from the articles."""
    digest = hashlib.sha256(GENERATOR_VERSION.encode())
    for a in articles:
        digest.update(json.dumps([a.id, a.text, a.title, a.date, a.source, a.url]).encode("utf-8"))
    return digest.hexdigest()[:16]


def write_jsonl(articles: list[Article], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for a in articles:
            handle.write(
                json.dumps(
                    {"id": a.id, "text": a.text, "title": a.title, "date": a.date, "source": a.source, "url": a.url},
                    ensure_ascii=False,
                )
                + "\n"
            )
    return path


def questions(n: int, seed: int = 7) -> list[str]:
    """Questions for latency and recall: real (seed gold, XQuAD) and about the synthetic news, mixed."""
    rng = random.Random(seed)
    real = [json.loads(line)["question"] for line in SEED_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = xquad_path()
    if path:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        xquad = [qa["question"] for entry in data for p in entry["paragraphs"] for qa in p["qas"]]
        real += rng.sample(xquad, min(len(xquad), n // 3))
    forms = [
        "how many {counted} were sent to {country}?",
        "who is the {role} of {org}?",
        "what did {person} say about the {noun}?",
        "when does the {noun} in {city} open?",
        "how much will the {noun} in {city} cost?",
        "what was inflation in {country} in {month}?",
        "how many {counted} lost power in {city}?",
        "who won the {noun} in {city}?",
        "why did the {role} resign over the {noun}?",
        "how many {counted} were reported in {city} on {day}?",
    ]
    generator = NewsGenerator()
    synthetic = []
    for _ in range(n):
        topic = lexicon.TOPICS[rng.choice(sorted(lexicon.TOPICS))]
        synthetic.append(
            generator._fill(random.Random(rng.random()), rng.choice(forms), topic)
            .split(", amid")[0]
            .split(", according")[0]
        )
    mixed = real[: n // 2] + synthetic
    rng.shuffle(mixed)
    return mixed[:n]


if __name__ == "__main__":
    articles, counts = build_corpus(20_000)
    words = Counter()
    splitter = SentenceSplitter()
    lengths = []
    for a in articles[:2000]:
        for s in splitter.split_text(a.text):
            lengths.append(len(s.split()))
            words.update(s.lower().split())
    print(
        f"{len(articles)} articles, {sum(counts)} sentences, {sum(lengths) / len(lengths):.1f} words a sentence, "
        f"{len(words)} distinct words in the first {len(lengths)} sentences"
    )
    for a in articles[60:62]:
        print(a.title, a.date, a.source, "\n", a.text[:600], "\n")
