"""Failed logins, counted per account and per address: past `most` within `window_s`, further tries
are refused until the oldest failure ages out. Pure; kept per workbench process (each replica
counts its own, so a guesser spread over n replicas gets n times the tries)."""
from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Callable


class LoginThrottle:
    def __init__(self, most: int = 5, window_s: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.most, self.window_s, self.clock = most, window_s, clock
        self.failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        q, now = self.failures[key], self.clock()
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def wait_s(self, account: str, address: str) -> float:
        """0 when a try is allowed; else how long until it is."""
        waits = [self.window_s - (self.clock() - q[0]) for q in (self._recent(f"a:{account}"), self._recent(f"ip:{address}"))
                 if len(q) >= self.most]
        return max(waits, default=0.0)

    def failed(self, account: str, address: str) -> None:
        now = self.clock()
        for key in (f"a:{account}", f"ip:{address}"):
            self._recent(key).append(now)

    def succeeded(self, account: str) -> None:
        self.failures.pop(f"a:{account}", None)
