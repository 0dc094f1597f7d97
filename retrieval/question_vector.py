"""The question's vector, encoded on a worker thread while the caller runs the lexical search.

Encoding a question (ONNX Runtime, 4-9 ms on this project's 2-core machine) and the BM25 and
passage searches (Python and NumPy, about 3 ms) need nothing from each other, and ONNX
Runtime and PyTorch release the GIL while they compute, so on two cores the two overlap
instead of adding up. One worker thread serves the whole process: encoders run one question
at a time anyway (they hold a lock), and no thread is left behind per Answerer when a live
reload replaces it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

# A question's vector, or a call that waits for it (``Future.result`` of ``encode_soon``).
QueryVector = np.ndarray | Callable[[], np.ndarray]

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def encode_soon(encoder, text: str) -> Future:
    """Start encoding ``text`` on the worker thread; ``.result()`` is its vector (or raises
    what encoding raised)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsdesk-encode")
    return _pool.submit(lambda: encoder.encode([text])[0])


def vector_of(query_vector: QueryVector) -> np.ndarray:
    """The vector itself, waiting for it when it is still being encoded."""
    return query_vector() if callable(query_vector) else query_vector
