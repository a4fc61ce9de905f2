"""Following a table's new rows by id, as every worker must for rows other workers write.

Ids are handed out at insert but become visible at commit, so a lower id can appear after a
higher one (two workers, or two transactions of one). Asking only for ids above the highest
seen would skip it for good; a ``Tail`` also asks again for the ids it has not seen within
``lookback`` below the highest, which covers every transaction still open when that id was
seen (more than all workers can have in flight at once).
"""

from __future__ import annotations

from collections.abc import Iterable

LOOKBACK = 500


class Tail:
    def __init__(self, lookback: int = LOOKBACK):
        self.lookback = lookback
        self.last = 0  # the highest id seen
        self._seen: set[int] = set()  # ids seen within the look-back window

    def gaps(self) -> list[int]:
        """Ids below the highest seen, within the look-back, not seen yet: ask for them again
        (not committed yet, or rolled back)."""
        return [i for i in range(max(1, self.last - self.lookback), self.last)
                if i not in self._seen]

    def saw(self, ids: Iterable[int]) -> None:
        for i in ids:
            self._seen.add(i)
            if i > self.last:
                self.last = i
        if len(self._seen) > 2 * self.lookback:  # forget what fell out of the window
            floor = self.last - self.lookback
            self._seen = {i for i in self._seen if i >= floor}

    def reset(self) -> None:
        self.last = 0
        self._seen.clear()
