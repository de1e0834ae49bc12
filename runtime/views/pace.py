"""How long the broker may gather changes for the view writer's next fetch.

Every change gathered with another change to the same aggregate is a write the database is
spared, and a write costs FerretDB and PostgreSQL about 1 ms of CPU on a machine that also runs
everything else. A longer gather makes the views later by as much. So the gather follows the
database's pace: the shortest while writes are quick, longer as they take longer, so that the
writer spends about `write_share` of its time writing, judged on its usual write rather than the
last one.

Measured with approve, return and escalation disputes, 60 s at a time on the project's 2-core
machine, on a separate instance. At 80/s with a fixed 0.3 s gather, refund's order was replaced
1.73 times per dispute and FerretDB and PostgreSQL kept 0.50 cores busy; with this pace, 1.19
times and 0.42 cores. At 41/s the views' lag p99 stayed at most 0.75 s, and in a full `make
bench` at 41.2/s at most 0.5 s. Without the weight (the last write deciding alone), one full run
saw arbitration's lag p99 reach 2.5 s at 41.2/s.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ViewPace:
    least_s: float
    most_s: float
    write_share: float = 1 / 3
    # Each write moves the pace by this part of its difference from the usual: one slow write (the
    # machine busy with something else for a moment) barely lengthens the gather, and so the lag;
    # the slow writes of a database that is behind lengthen it within a few writes.
    weight: float = 0.2
    usual_write_s: float = 0.0

    def gather_s(self, write_s: float) -> float:
        """The gather of the next fetch, after a write (and its offset commit) that took `write_s`."""
        self.usual_write_s += self.weight * (write_s - self.usual_write_s)
        wanted = self.usual_write_s * (1 - self.write_share) / self.write_share
        return min(self.most_s, max(self.least_s, wanted))
