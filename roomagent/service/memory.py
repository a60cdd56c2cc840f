"""Once the agent is up: leave the start-up's garbage behind and keep the collector off the
long-lived objects (the imported code, the config and the parts: ~50 000 objects).

- `gc.freeze()` moves every object alive now into the collector's permanent generation, so
  a later full collection (which CPython runs now and then as objects come and go) walks only
  what came after start-up: under 1 ms instead of tens of ms, never such a pause in the middle of a
  press. A reload that restarts the parts calls `thaw()`: the old parts' reference cycles
  must be collectable again.
- `malloc_trim(0)` (glibc) hands the heap pages that reading the config and building the
  models freed back to the kernel, which glibc otherwise keeps for reuse (~0.25 MiB with the
  page and mDNS on). Only when ctypes is loaded already (mDNS's ifaddr loads it): importing
  ctypes for this alone costs about as much as it hands back.
"""

from __future__ import annotations

import gc
import sys


def settle() -> int:
    """Collect, freeze and trim once; returns how many objects are now frozen."""
    gc.collect()
    gc.freeze()
    _malloc_trim()
    return gc.get_freeze_count()


def thaw() -> None:
    gc.unfreeze()


def _malloc_trim() -> None:
    ctypes = sys.modules.get("ctypes")
    if ctypes is None:
        return
    try:  # the process's own symbols: glibc's malloc_trim (musl has none: nothing to do)
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
