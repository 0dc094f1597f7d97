"""The question's vector, and the dense search with it, on a worker thread while the caller
runs the lexical search.

Encoding a question (ONNX Runtime, 4-9 ms on this project's 2-core machine), then searching
the vectors (FAISS, about 2 ms at 100k sentences), need nothing from the BM25 and passage
searches or from featurising their candidates (Python and NumPy, about 6 ms), and ONNX
Runtime, PyTorch and FAISS release the GIL while they compute, so on two cores the two
overlap instead of adding up. One worker thread serves the whole process: encoders run one
question at a time anyway (they hold a lock), and no thread is left behind per Answerer when
a live reload replaces it. Jobs run in the order they were handed in, so a job that waits
for a vector handed in before it never waits on itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

# A question's vector, or a call that waits for it (``Future.result`` of ``encode_soon``).
QueryVector = np.ndarray | Callable[[], np.ndarray]
T = TypeVar("T")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def encode_soon(encoder, text: str) -> Future:
    """Start encoding ``text`` on the worker thread; ``.result()`` is its vector (or raises
    what encoding raised)."""
    return _worker().submit(lambda: encoder.encode([text])[0])


def with_vector_soon(query_vector: QueryVector, job: Callable[[np.ndarray], T]) -> Future:
    """Run ``job`` on the vector on the worker thread, once the vector is ready (``job``'s
    result, or what encoding or ``job`` raised, comes from ``.result()``). ``query_vector``
    must be a vector or come from ``encode_soon``: a job never waits for a later one."""
    return _worker().submit(lambda: job(vector_of(query_vector)))


def _worker() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-encode")
        return _pool


def vector_of(query_vector: QueryVector) -> np.ndarray:
    """The vector itself, waiting for it when it is still being encoded."""
    return query_vector() if callable(query_vector) else query_vector
