"""A bounded, thread-safe per-process cache: built SQL statements and layout URLs, keyed by
everything they are built from.

Building a scoped SQLAlchemy statement (its clauses, their coercions, the
cache key SQLAlchemy derives from them) cost more than running it for the
menu's badges, which every page shows (issue 19 item 4). A statement object is
immutable and safe to share between threads, so one built for a key can be
executed again by any later request with the same key. The key must hold every
value the statement is built from — for a scoped statement that is
``Scope.cache_key()``, the account's id, role and organisation, the setting and
the day — so two users never share one unless their statements are identical.

The cache is bounded (least recently used out first): keys made from many
accounts and days cannot grow it without limit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class BoundedCache:
    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
                return value
        # Built outside the lock: two threads may both build the same value
        # once, which is harmless (it is the same); neither waits for the other.
        value = build()
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
