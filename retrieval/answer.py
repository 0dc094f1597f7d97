"""The answering core: a question in, an `Answer` of dated, sourced evidence sentences out.

Every front end (CLI, Telegram, evaluator) calls `Answerer.ask`, so a number the evaluator
prints describes exactly what users are shown.
"""

from __future__ import annotations

import copy
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.answer_types import AnswerType, answer_spans, question_type
from retrieval.backend import Allowance, SentenceSearch
from retrieval.config import Settings
from retrieval.duplicates import NearDuplicates
from retrieval.embed import load_query_encoder
from retrieval.embedding_text import embedding_text
from retrieval.explain import RankTrace
from retrieval.explain import explain as explain_evidence
from retrieval.filters import nothing_matches_note
from retrieval.fusion import FusionMethod, Mode, reciprocal_rank_fusion, weighted_fusion
from retrieval.language import language_note, not_english
from retrieval.language import prepare as prepare_language
from retrieval.question_vector import QueryVector, encode_soon, vector_of
from retrieval.reading import PairScorer, ReadingReranker, ReadingSettings, newest_answer_first
from retrieval.recency import LatestSettings, RecencySettings, freshness
from retrieval.rerank import FEATURES, FeatureReranker
from retrieval.spelling import Correction, SpellingCorrector, corrector_for
from retrieval.statements import statements_first
from retrieval.store import IndexStore
from retrieval.stores import LOCAL, backend, open_search
from retrieval.term_match import TermMatcher
from retrieval.time_words import TimeQuery, TimeWindows, after_the_archive, read_time_words
from retrieval.timeline import build_timeline
from retrieval.tokenize import Tokenizer
from retrieval.types import Answer, Evidence, Filters, QuestionError

log = logging.getLogger("newsdesk.answer")
# Asked once by ``warm_up``: a date ("in February 2022") loads the date reader.
WARM_UP_QUESTION = "how many troops were sent in February 2022?"


class Answerer:
    """Holds the loaded index and model; `ask` is safe to call from several threads."""

    def __init__(self, index: SentenceSearch, encoder, settings: Settings, scorer: PairScorer | None = None):
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.tokenizer = Tokenizer()
        # Settings arrive checked and typed (retrieval/config.py); defaults are config/default.toml's.
        retrieval = settings.section("retrieval")
        self.default_mode = Mode.parse(retrieval["mode"])
        self.fusion = FusionMethod.parse(retrieval["fusion"])
        self.rrf_k = retrieval["rrf_k"]
        self.weights = [retrieval["bm25_weight"], retrieval["dense_weight"]]
        self.candidates = retrieval["candidates"]
        self.default_k = retrieval["k"]
        rerank = settings.section("rerank")
        weights = {name: float(rerank.get(name, 0.0)) for name in FEATURES}
        matcher = (
            TermMatcher.from_encoder(encoder) if self.fusion is FusionMethod.FEATURES and weights["match"] else None
        )
        self.reranker = FeatureReranker(
            weights,
            dict(rerank["type_weights"]),
            matcher,
        )
        self.passages = rerank["passages"]
        reading = ReadingSettings.from_section(rerank)
        # The cross-encoder reads the head of the hybrid ranking; None: features alone.
        self.reader = ReadingReranker(reading, scorer) if reading.enabled and scorer is not None else None
        answer = settings.section("answer")
        self.max_chars = answer["max_question_chars"]
        self.min_dense_score = answer["min_dense_score"]
        self.min_score = answer["min_score"]
        self.timeline_margin = answer["timeline_margin"]
        self.duplicates = NearDuplicates(answer["duplicate_overlap"])
        self.statements_first = answer["statements_first"]
        self.recency = RecencySettings.from_section(settings.section("time"))
        self.latest = LatestSettings.from_section(settings.section("time"))
        self.report_lag_days = int(settings.get("time", "report_lag_days"))
        self.windows = TimeWindows.from_section(settings.section("time"))
        self.spell_check = bool(answer["spelling"])
        self._corrector: SpellingCorrector | None | bool = None
        self.widen_windows = bool(settings.get("time", "widen_windows"))

    def with_index(self, index: SentenceSearch) -> Answerer:
        """The same answerer (settings, encoder, models) over another generation of the index.
        What it remembers by sentence id starts empty: ids name other sentences once a
        compaction has renumbered them."""
        other = copy.copy(self)
        other.index = index
        other.duplicates = self.duplicates.for_new_index()
        other.reranker = self.reranker.for_new_index()
        other._corrector = None  # the vocabulary is the new generation's
        return other

    def warm_up(self) -> None:
        """Ask one dated question and forget the answer, so that the first user of a long-running
        front end does not wait for first-run costs: loading the date reader (about 0.3 s) and
        the models' first runs. A failure is logged; questions then meet it as they would have."""
        try:
            self.ask(WARM_UP_QUESTION)
            corrector = self._spelling()
            if corrector is not None:
                corrector.prepare()
            prepare_language()
        except Exception as exc:  # noqa: BLE001 - startup goes on; the first question reports it
            log.warning("warming up the answering core failed (%s: %s)", type(exc).__name__, exc)

    def check_question(self, question: str) -> str:
        """The question as it will be searched; QuestionError with advice when it cannot be."""
        if not isinstance(question, str):
            raise QuestionError("The question must be text.")
        cleaned = " ".join("".join(ch for ch in question if ch.isprintable() or ch.isspace()).split())
        if not cleaned:
            raise QuestionError('The question is empty: type a few words, e.g. "how many US troops to Poland?"')
        if len(cleaned) > self.max_chars:
            raise QuestionError(
                f"The question is {len(cleaned):,} characters long; keep it under {self.max_chars:,} "
                "(ask about one thing at a time)."
            )
        if not any(ch.isalnum() for ch in cleaned):
            raise QuestionError(
                'The question has no words to search for; ask in words, e.g. "who expelled Bart Gorman?"'
            )
        return cleaned

    def ask(
        self,
        question: str,
        k: int | None = None,
        mode: str | Mode | None = None,
        rerank: bool = True,
        filters: Filters | None = None,
        as_of: str | None = None,
        time_words: bool = True,
        explain: bool = False,
    ) -> Answer:
        """Answer a question; ``rerank=False`` skips the cross-encoder (for comparisons).

        ``filters`` restrict the evidence to a date range and sources inside retrieval. Time
        words in the question ("latest", "in February 2022", "before July 20") are read against
        ``as_of`` (default: the archive's newest date): periods narrow the filters, "latest"
        ranks newer evidence first among equally good answers; ``time_words=False`` searches
        the question as written (for comparisons). ``explain`` fills each evidence sentence's
        ``why``: its features, scores, matched terms and answer spans."""
        started = time.perf_counter()
        asked = self.check_question(question)
        language = not_english(asked)
        spelling = self._spelling() if language is None else None  # never "correct" another language
        correction = spelling.correct(asked) if spelling is not None else Correction(asked)
        cleaned = correction.question
        mode = Mode.parse(mode.value if isinstance(mode, Mode) else mode) if mode else self.default_mode
        k = self.default_k if k is None else int(k)
        if k < 1:
            raise QuestionError("k must be at least 1.")
        filters = filters or Filters()
        reference = as_of or self.index.describe().date_max
        when = (
            read_time_words(
                cleaned,
                reference,
                explicit_reference=as_of is not None,
                report_lag_days=self.report_lag_days,
                windows=self.windows,
            )
            if time_words and reference
            else TimeQuery(cleaned)
        )
        applied = filters.narrowed(when.since, when.until)
        answer = self._answer(cleaned, when, applied, mode, k, rerank, explain, reference)
        if not answer.answered and self.widen_windows and when.has_window:
            answer = self._widened(answer, cleaned, when, filters, mode, k, rerank, explain, reference)
        if time_words and reference and answer.evidence:
            beyond = after_the_archive(cleaned, reference)
            if beyond is not None:
                # "who won the 2026 World Cup?" of a 2022 archive: a sentence about the 2026 cup
                # written in 2022 is not an answer, however well it matches.
                answer.answered = False
                answer.timeline = []
                runs_to = f"as of {reference}" if as_of else f"runs to {reference}"
                answer.note = (
                    f"The archive {runs_to}: no report in it can say what happened in {beyond}. "
                    "The closest sentences are listed below."
                )
        if language is not None:
            answer.note = f"{language_note(language)} {answer.note}".strip()
        if correction.changed:
            answer.question = asked
            answer.spelling = list(correction.replaced)
            answer.note = f'Searched for "{correction.question}" (spelling corrected). {answer.note}'.strip()
        answer.elapsed_ms = (time.perf_counter() - started) * 1000
        return answer

    def _spelling(self) -> SpellingCorrector | None:
        """This index generation's spelling corrector ([answer] spelling), made on first use."""
        if not self.spell_check:
            return None
        if self._corrector is None:
            self._corrector = corrector_for(self.index, self.tokenizer) or False
        return self._corrector or None

    def _widened(
        self,
        narrow: Answer,
        question: str,
        when: TimeQuery,
        filters: Filters,
        mode: Mode,
        k: int,
        rerank: bool,
        explain: bool,
        reference: str,
    ) -> Answer:
        """The answer from outside a relative window ("this week", "recently") that left no
        confident answer, when there is one; the window's answer otherwise. A window narrows
        where it can and never hides what the archive holds."""
        wide = filters.narrowed(when.wide_since, when.wide_until)
        answer = self._answer(question, when, wide, mode, k, rerank, explain, reference)
        if not answer.answered:
            return narrow
        inside = narrow.filters.describe() if narrow.filters else ""
        outside = f"from the archive {wide.describe()}" if wide.active else "from the whole archive"
        said = (
            f"Nothing {when.window_words} ({inside}) answers well; the best answer {outside} is below."
            if inside
            else f"Nothing {when.window_words} answers well; the best answer {outside} is below."
        )
        answer.note = f"{said} {answer.note}".strip()
        answer.widened = True
        return answer

    def _answer(
        self,
        cleaned: str,
        when: TimeQuery,
        applied: Filters,
        mode: Mode,
        k: int,
        rerank: bool,
        explain: bool,
        reference: str | None,
    ) -> Answer:
        """Answer ``cleaned`` with the evidence ``applied`` admits (elapsed time set by ``ask``)."""
        allowed = None
        if applied.active:
            allowed = self._allowed(applied)
            if allowed.count == 0:
                return self._nothing_matches(cleaned, mode, applied, when, reference)
        searched = when.searched
        # Encoded on the worker thread while _rank runs the lexical searches (question_vector.py).
        pending = encode_soon(self.encoder, searched)
        kind = question_type(cleaned)
        trace = RankTrace() if explain else None
        ranked = self._rank(searched, pending.result, mode, kind, allowed, trace)
        query_vector = pending.result()
        fresh = self.recency if when.newest_first and mode is Mode.HYBRID else None
        if fresh is not None and self.fusion is FusionMethod.FEATURES:
            ranked = self._newer_first(ranked, fresh)
        if trace is not None:
            trace.first_stage = list(ranked)
        read = None
        if self.reader is not None and rerank and mode is Mode.HYBRID:
            prior = self._recency_prior(fresh) if fresh is not None else None
            latest = fresh is not None and self.latest.margin > 0
            read = self.reader.rerank(
                searched,
                ranked,
                self._reading_text,
                prior,
                candidates=self.latest.candidates if latest else None,
                always_read=latest,
            )
            if latest:
                # "latest", "now", "most recently": the newest report that answers leads.
                read = newest_answer_first(read, self._date_of, self.reader.settings.min_score, self.latest.margin)
            ranked = read.ranked
        if self.statements_first:
            ranked = statements_first(ranked, self.index.text)
        evidence = self._evidence(ranked, k, kind, cleaned, read.scores if read else {})
        if trace is not None:
            trace.fused = read.fused if read else {}
            explain_evidence(evidence, trace, kind, searched, self.tokenizer)
        # A newer report moved ahead for "latest" answers as surely as the one the fusion chose.
        judged = [e for e in evidence if read is not None and e.sentence_id == read.leader] or evidence
        answered = self._is_answered(judged, query_vector, mode)
        timeline = build_timeline(evidence, kind, self.timeline_margin, cleaned) if answered else []
        if not evidence:
            note = "The archive is empty: index some articles with `newsdesk index PATH`."
        elif not answered:
            note = "No good answer in the archive; the closest sentences are listed below."
        elif timeline:
            note = "The figures differ by date and source; see the timeline."
        else:
            note = ""
        if answered and when.newest_first and evidence[0].date:
            # Say when the answer held, so "now" is not read as today.
            latest = f"As of {evidence[0].date}, the date of the first report below (the archive runs to {reference})."
            note = f"{latest} {note}".strip()
        return Answer(
            question=cleaned,
            evidence=evidence,
            answered=answered,
            mode=mode.value,
            note=note,
            timeline=timeline,
            elapsed_ms=0.0,
            reranker=self.reader.settings.model if read is not None else "",
            filters=applied,
            time=list(when.readings),
            as_of=reference if when.readings else None,
        )

    def _reading_text(self, sentence_id: int) -> str:
        """What the cross-encoder reads for a sentence: the sentence, with the context
        [rerank] ce_context asks for before it."""
        text = self.index.text(sentence_id)
        context = self.reader.settings.context if self.reader is not None else "none"
        if context == "title":
            return embedding_text(self.index.article_of(sentence_id), text)
        if context == "previous" and sentence_id > 0:
            article = self.index.article_of(sentence_id)
            try:
                same = self.index.article_of(sentence_id - 1)["id"] == article["id"]
            except (KeyError, IndexError):
                same = False
            if same:
                return f"{self.index.text(sentence_id - 1)} {text}"
        return text

    def _allowed(self, filters: Filters) -> Allowance:
        return self.index.allowed(filters)

    def _nothing_matches(
        self, question: str, mode: Mode, filters: Filters, when: TimeQuery, reference: str | None
    ) -> Answer:
        manifest = self.index.describe()
        note = nothing_matches_note(filters, self.index, manifest.date_min, manifest.date_max, when.words)
        return Answer(
            question=question,
            evidence=[],
            answered=False,
            mode=mode.value,
            note=note,
            elapsed_ms=0.0,
            filters=filters,
            time=list(when.readings),
            as_of=reference if when.readings else None,
        )

    def _date_of(self, sentence_id: int) -> str | None:
        return self.index.article_of(sentence_id).get("date")

    def _newer_first(self, ranked: list[tuple[int, float]], settings: RecencySettings) -> list[tuple[int, float]]:
        """The feature ranking reordered with the recency bonus added (a tie-break among close
        scores); each keeps its own score, so the no-answer threshold never counts the bonus."""
        if not ranked or settings.points <= 0:
            return ranked
        ids = [i for i, _ in ranked]
        scores = np.array([s for _, s in ranked])
        bonus = settings.points * freshness(ids, scores, self._date_of, settings)
        total = scores + bonus
        order = np.lexsort((np.array(ids), -total))
        return [(ids[i], float(scores[i])) for i in order]

    def _recency_prior(self, settings: RecencySettings):
        def prior(ids: list[int], features: np.ndarray) -> np.ndarray:
            return settings.z * freshness(ids, features, self._date_of, settings)

        return prior

    def _is_answered(self, evidence: list[Evidence], query_vector: np.ndarray, mode: Mode) -> bool:
        """Whether the best sentence is good enough to call an answer (thresholds in [answer])."""
        if not evidence:
            return False
        top = evidence[0]
        if self._dense_score(top, query_vector) < self.min_dense_score:
            return False
        features_ok = mode is not Mode.HYBRID or self.fusion is not FusionMethod.FEATURES or top.score >= self.min_score
        if top.rerank_score is not None and self.reader is not None:
            # The cross-encoder tells an on-topic near miss from an answer better than cosine or
            # feature points can; both must agree (docs/quality.md, "No answer"), unless the
            # reader is sure enough to vouch for a sentence the features rank low ("Who leads
            # NATO?" answered by "NATO Secretary-General Jens Stoltenberg said ...").
            reading = self.reader.settings
            vouched = top.rerank_score >= reading.vouch_score
            return (features_ok or vouched) and top.rerank_score >= reading.min_score
        return features_ok

    def _rank(
        self,
        question: str,
        query_vector: QueryVector,
        mode: Mode,
        kind: AnswerType,
        allowed: Allowance | None = None,
        trace: RankTrace | None = None,
    ):
        """Sentence ids with scores, best first (only sentences ``allowed`` admits, when given);
        ``trace`` keeps the candidates' features for explaining the ranking."""
        tokens = self.tokenizer(question)
        if mode is Mode.HYBRID and self.fusion is FusionMethod.FEATURES:
            candidates = self.reranker.collect(
                self.index,
                self.tokenizer,
                tokens,
                query_vector,
                kind,
                question,
                self.candidates,
                self.passages,
                allowed,
                # The evidence stage compares candidates for copies: their reports are read
                # while the dense search finishes.
                meanwhile=lambda ids: self.duplicates.remember(ids, self.index.text),
            )
            scores = self.reranker.score(candidates, kind)
            if trace is not None:
                trace.candidates = candidates
                trace.weights = self.reranker.effective_weights(kind)
            order = np.lexsort((candidates.ids, -scores))
            return [(int(candidates.ids[i]), float(scores[i])) for i in order]
        return self._rank_fused(tokens, query_vector, mode, allowed)

    def _rank_fused(
        self, tokens: list[str], query_vector: QueryVector, mode: Mode, allowed: Allowance | None = None
    ) -> list[tuple[int, float]]:
        results = []
        if mode in (Mode.BM25, Mode.HYBRID):
            results.append(self.index.lexical_top(tokens, self.candidates, allowed))
        if mode in (Mode.DENSE, Mode.HYBRID):
            results.append(self.index.dense_top(vector_of(query_vector), self.candidates, allowed))
        if mode is not Mode.HYBRID:
            ids, scores = results[0]
            return [(int(i), float(s)) for i, s in zip(ids, scores)]
        if self.fusion is FusionMethod.RRF:
            fused = reciprocal_rank_fusion([ids for ids, _ in results], self.weights, self.rrf_k)
        else:
            fused = weighted_fusion(results, self.weights)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))

    def _dense_score(self, evidence: Evidence, query_vector: np.ndarray) -> float:
        return float(self.index.dense_scores(query_vector, np.array([evidence.sentence_id]))[0])

    def _evidence(
        self, ranked: list[tuple[int, float]], k: int, kind: AnswerType, question: str, read_scores: dict[int, float]
    ) -> list[Evidence]:
        """Top-k evidence, each report once: copies of a shown sentence (syndicated wire copy,
        word for word or lightly edited) are counted in ``also_in`` and the earliest copy is shown."""
        shown: list[Evidence] = []
        seen = self.duplicates.tracker()
        for sentence_id, score in ranked:
            text = self.index.text(sentence_id)
            copy_of = seen.find(text, sentence_id)
            if copy_of is None and len(shown) >= k:
                continue  # keep scanning only to count copies of what is shown
            article = self.index.article_of(sentence_id)
            if copy_of is not None:
                first = shown[copy_of]
                first.also_in += 1
                if article.get("date") and (first.date is None or article["date"] < first.date):
                    earliest = self._make_evidence(sentence_id, first.score, text, article)
                    earliest.also_in = first.also_in
                    earliest.rerank_score = first.rerank_score
                    earliest.highlights = answer_spans(text, kind, question)
                    shown[copy_of] = earliest
                continue
            evidence = self._make_evidence(sentence_id, score, text, article)
            evidence.highlights = answer_spans(text, kind, question)
            if sentence_id in read_scores:
                evidence.rerank_score = round(read_scores[sentence_id], 4)
            seen.add(text, sentence_id)
            shown.append(evidence)
        return shown

    def _make_evidence(self, sentence_id: int, score: float, text: str, article: dict[str, Any]) -> Evidence:
        return Evidence(
            text=text,
            article_id=article["id"],
            title=article.get("title", ""),
            date=article.get("date"),
            source=article.get("source", ""),
            url=article.get("url", ""),
            score=round(float(score), 6),
            sentence_id=int(sentence_id),
            dateline=article.get("dateline", ""),
        )

    def stats(self) -> dict[str, Any]:
        manifest = self.index.describe()
        return {
            "articles": manifest.articles,
            "sentences": manifest.sentences,
            "date_min": manifest.date_min,
            "date_max": manifest.date_max,
            "model": manifest.model,
            "index_bytes": manifest.index_bytes,
            "built_at": manifest.built_at,
        }


def open_answerer(
    settings: Settings,
    index_dir: Path | None = None,
    encoder=None,
) -> Answerer:
    """Load the store and the model once. A missing store raises StoreMissing naming the command
    to run (a fresh clone's default folder is seeded first by retrieval/seeding.py)."""
    store = IndexStore(Path(index_dir) if index_dir else settings.index_dir)
    model = settings.get("model", "name")
    if backend(settings) == LOCAL:
        store.current()
    index = open_search(settings, store.root, model=model)
    encoder = encoder or load_query_encoder(settings)
    return Answerer(index, encoder, settings, scorer=load_scorer(settings))


def load_scorer(settings: Settings) -> PairScorer | None:
    """The configured cross-encoder, loaded once per process; None when [rerank] turns it off."""
    from retrieval.cross_encoder import load_cross_encoder

    reading = ReadingSettings.from_section(settings.section("rerank"))
    if not reading.enabled:
        return None
    return load_cross_encoder(reading.model, reading.precision, reading.max_length, reading.threads, reading.runtime)
