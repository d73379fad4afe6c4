"""Keep glibc's allocator from returning memory to the kernel after every large message.

glibc serves a request above its mmap threshold (128 KiB at start) with a fresh mapping and
trims the heap whenever 128 KiB at its top is free. A stream of 32 KiB .. 1 MiB messages then
maps, faults in and unmaps its memory over and over: measured here, a receiver of 32 KiB
messages took ~100-180k minor page faults per 20,000 messages and ran at 60% of its speed. glibc
raises both thresholds by itself once a large mapped block is freed (the threshold to that
block's size, the trim threshold to twice it): every program that frees a large buffer gets
there, ours only did by chance. Freeing one 4 MiB block at the start gets there at once, without
fixing the values (``mallopt`` would turn that adaptation off for good).
"""

from __future__ import annotations

import os

#: After the release: blocks up to this size come from the heap, and up to twice it stays free
#: at its top before the heap is trimmed.
SETTLE_SIZE = 4 * 1024 * 1024

_settled = False


def settle_allocator() -> None:
    """Once per process, on glibc: allocate and free one SETTLE_SIZE block (see above)."""
    global _settled
    if _settled:
        return
    _settled = True
    if not _is_glibc():
        return
    # bytes(n) calls calloc: a fresh mapping is zero already, so no page is touched.
    block = bytes(SETTLE_SIZE)
    del block


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError, AttributeError):
        return False
