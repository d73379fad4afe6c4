"""The job kinds of the web demo: checking a job's input, and doing the work.

Each kind has a check that turns the posted parameters into canonical ones (or raises
``JobInputError`` with an HTTP status and a message for the client) and a run generator that does
the work in pure Python, yielding its progress (a fraction from 0 to 1) now and then and returning
the result, a small JSON-able dict::

    kind, params = check_job({"kind": "primes", "below": 100_000})
    steps = run_job(kind, params)
    ...  # next(steps) -> progress; StopIteration.value -> result

The work is deliberately CPU-bound: squaring an N x N matrix (N <= 300, the talk's demo but for
real), counting the primes below N by trial division, and word statistics of a text.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import random
import re
from collections import Counter, deque
from collections.abc import Callable, Generator, Mapping
from typing import Any

__all__ = [
    "KINDS",
    "MATRIX_MAX_N",
    "PRIMES_MAX",
    "TEXT_MAX_BYTES",
    "JobInputError",
    "cache_key",
    "check_job",
    "describe",
    "run_job",
]

MATRIX_MAX_N = 300
PRIMES_MAX = 5_000_000
TEXT_MAX_BYTES = 1_000_000
TOP_MAX = 50

Steps = Generator[float, None, dict[str, Any]]


class JobInputError(ValueError):
    """A job the server refuses: ``status`` is the HTTP status to answer (400, 413, ...)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# -- checking input ---------------------------------------------------------------------------


def _int(params: Mapping[str, Any], name: str, default: int | None, low: int, high: int) -> int:
    """An integer parameter (a JSON number or, from a form, a decimal string) in [low, high].

    Above ``high`` is "too large" (413); anything else wrong is a 400.
    """
    value = params.get(name, default)
    if value is None or value == "":
        if default is None:
            raise JobInputError(f"missing parameter {name!r}")
        value = default
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise JobInputError(f"parameter {name!r} must be an integer, not {value!r}") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise JobInputError(f"parameter {name!r} must be an integer, not {value!r}")
    if value > high:
        raise JobInputError(f"job too large: {name}={value}, at most {high} is allowed", 413)
    if value < low:
        raise JobInputError(f"parameter {name!r} must be at least {low}, not {value}")
    return value


def _only(params: Mapping[str, Any], kind: str, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(allowed) - {"kind"})
    if unknown:
        raise JobInputError(
            f"unknown parameter {unknown[0]!r} for a {kind} job (expected: {', '.join(allowed)})"
        )


def _check_matrix(params: Mapping[str, Any]) -> dict[str, Any]:
    _only(params, "matrix", ("n", "seed", "matrix"))
    rows = params.get("matrix")
    if rows is None or rows == "":
        n = _int(params, "n", 200, 1, MATRIX_MAX_N)
        seed = _int(params, "seed", 1, 0, 2**63 - 1)
        return {"n": n, "seed": seed}
    if isinstance(rows, str):  # from a form: the matrix as JSON text
        try:
            rows = json.loads(rows)
        except ValueError:
            raise JobInputError("parameter 'matrix' is not valid JSON") from None
    if not isinstance(rows, list) or not rows:
        raise JobInputError("parameter 'matrix' must be a non-empty list of rows")
    n = len(rows)
    if n > MATRIX_MAX_N:
        raise JobInputError(f"job too large: a {n}x{n} matrix, at most {MATRIX_MAX_N} rows", 413)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != n:
            raise JobInputError(f"the matrix must be square: row {i} does not have {n} numbers")
        for x in row:
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                raise JobInputError(f"the matrix holds a non-number in row {i}: {x!r}")
            if isinstance(x, int) and abs(x) > 2**53:
                raise JobInputError(f"a matrix entry in row {i} is too large: {x}", 413)
    if "n" in params and params["n"] not in ("", None, n, str(n)):
        raise JobInputError(f"parameter 'n' ({params['n']!r}) does not match the matrix ({n})")
    return {"n": n, "matrix": rows}


def _check_primes(params: Mapping[str, Any]) -> dict[str, Any]:
    _only(params, "primes", ("below",))
    return {"below": _int(params, "below", None, 2, PRIMES_MAX)}


def _check_words(params: Mapping[str, Any]) -> dict[str, Any]:
    _only(params, "words", ("text", "top"))
    text = params.get("text")
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise JobInputError("the text is not UTF-8") from None
    if not isinstance(text, str):
        raise JobInputError("a words job needs a 'text' (a string, or an uploaded file)")
    size = len(text.encode("utf-8"))
    if size > TEXT_MAX_BYTES:
        raise JobInputError(f"job too large: {size} bytes of text, at most {TEXT_MAX_BYTES}", 413)
    if not text.strip():
        raise JobInputError("the text is empty")
    return {"text": text, "top": _int(params, "top", 10, 1, TOP_MAX)}


_CHECKS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "matrix": _check_matrix,
    "primes": _check_primes,
    "words": _check_words,
}
KINDS: tuple[str, ...] = tuple(_CHECKS)


def check_job(payload: Any) -> tuple[str, dict[str, Any]]:
    """``(kind, params)`` for a posted job ``{"kind": ..., **params}``, or ``JobInputError``."""
    if not isinstance(payload, Mapping):
        raise JobInputError(f"a job must be a JSON object, not {type(payload).__name__}")
    kind = payload.get("kind")
    if kind is None or kind == "":
        raise JobInputError(f"missing 'kind' (one of: {', '.join(KINDS)})")
    if not isinstance(kind, str) or kind not in _CHECKS:
        raise JobInputError(f"unknown job kind {kind!r} (expected one of: {', '.join(KINDS)})")
    return kind, _CHECKS[kind](payload)


def cache_key(kind: str, params: Mapping[str, Any]) -> str:
    """The same for two jobs with the same input."""
    blob = json.dumps([kind, params], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def describe(kind: str, params: Mapping[str, Any]) -> str:
    """A short human label: ``"matrix 300x300 (seed 1)"``."""
    if kind == "matrix":
        n = params["n"]
        return f"matrix {n}x{n}" + (
            f" (seed {params['seed']})" if "seed" in params else " (posted)"
        )
    if kind == "primes":
        return f"primes below {params['below']:,}"
    if kind == "words":
        return f"words in {len(params['text']):,} characters"
    return kind


# -- the work ---------------------------------------------------------------------------------


def _matrix(params: Mapping[str, Any]) -> Steps:
    n = params["n"]
    if "matrix" in params:
        a = [list(row) for row in params["matrix"]]
    else:
        rng = random.Random(params["seed"])
        a = [[rng.randrange(10) for _ in range(n)] for _ in range(n)]
    cols = list(zip(*a, strict=True))
    square = []
    for i, row in enumerate(a):
        square.append([sum(x * y for x, y in zip(row, col, strict=True)) for col in cols])
        yield (i + 1) / n
    flat = [x for row in square for x in row]
    result: dict[str, Any] = {
        "n": n,
        "trace": sum(square[i][i] for i in range(n)),
        "sum": sum(flat),
        "min": min(flat),
        "max": max(flat),
        "corner": [row[:4] for row in square[:4]],
    }
    if n <= 8:
        result["square"] = square
    return result


def _primes(params: Mapping[str, Any]) -> Steps:
    below = params["below"]
    small: list[int] = []  # the primes up to sqrt(below): all trial division needs
    root = math.isqrt(below - 1)
    count = 0
    last: deque[int] = deque(maxlen=5)
    chunk = max(2_000, below // 400)
    for start in range(2, below, chunk):
        for k in range(start, min(start + chunk, below)):
            prime = True
            for p in small:
                if p * p > k:
                    break
                if k % p == 0:
                    prime = False
                    break
            if prime:
                count += 1
                last.append(k)
                if k <= root:
                    small.append(k)
        yield min(1.0, (start + chunk) / below)
    return {
        "below": below,
        "count": count,
        "largest": last[-1] if last else None,
        "last": list(last),
    }


def _most_common(counts: Counter[str], n: int) -> list[list[Any]]:
    """The ``n`` most common, ties in alphabetical order."""
    return [[w, c] for w, c in heapq.nsmallest(n, counts.items(), key=lambda wc: (-wc[1], wc[0]))]


_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def _words(params: Mapping[str, Any]) -> Steps:
    text: str = params["text"]
    top = params["top"]
    lines = text.splitlines()
    words: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    total = letters = 0
    longest = ""
    previous = None
    done = 0
    step = max(1, len(lines) // 50)
    for index, line in enumerate(lines, 1):
        for match in _WORD.finditer(line.lower()):
            word = match.group()
            words[word] += 1
            total += 1
            letters += len(word)
            if len(word) > len(longest):
                longest = word
            if previous is not None:
                pairs[f"{previous} {word}"] += 1
            previous = word
        done += len(line) + 1
        if index % step == 0:
            yield min(1.0, done / max(1, len(text)))
    return {
        "characters": len(text),
        "lines": len(lines),
        "words": total,
        "unique": len(words),
        "average_length": round(letters / total, 2) if total else 0,
        "longest": longest,
        "top": _most_common(words, top),
        "top_pairs": _most_common(pairs, min(top, 10)),
    }


_RUNS: dict[str, Callable[[Mapping[str, Any]], Steps]] = {
    "matrix": _matrix,
    "primes": _primes,
    "words": _words,
}


def run_job(kind: str, params: Mapping[str, Any]) -> Steps:
    """The work for a checked job: a generator of progress fractions returning the result."""
    if kind not in _RUNS:
        raise JobInputError(f"unknown job kind {kind!r}")
    return _RUNS[kind](params)
