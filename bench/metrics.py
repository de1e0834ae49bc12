"""What the services' own /metrics say after a phase of `make bench`: the query models' lag and
writes, and where a record's time goes between its arrival and its batch's commit."""
from __future__ import annotations

import urllib.request
from typing import Any, Iterable

from ops.launcher import System


def samples(system: System, family: str) -> dict[str, list[Any]]:
    """Each service's samples of one Prometheus metric family, read from its /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, list[Any]] = {}
    for name, p in system.procs.items():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{p.port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            continue
        out[name] = [s for fam in text_string_to_metric_families(text) if fam.name == family for s in fam.samples]
    return out


def bounds(found: Iterable[Any], *quantiles: float) -> tuple[float, list[float | None]] | None:
    """How many a histogram counted, and for each quantile the upper bound of the bucket it falls
    in (a histogram tells no more than that). None for a histogram that counted nothing."""
    buckets = sorted((float(s.labels["le"]), s.value) for s in found if s.name.endswith("_bucket"))
    if not buckets or not buckets[-1][1]:
        return None
    total = buckets[-1][1]
    return total, [next((le for le, n in buckets if n >= q * total), None) for q in quantiles]


def view_lag(system: System) -> dict[str, dict[str, float | None]]:
    """p50 and p99 of each service's view lag (commit to query model), from its histogram."""
    out: dict[str, dict[str, float | None]] = {}
    for name, found in samples(system, "aftersale_view_lag_seconds").items():
        if (b := bounds(found, 0.5, 0.99)) is not None:
            total, (p50, p99) = b
            out[name] = {"n": total, "p50_s_at_most": p50, "p99_s_at_most": p99}
    return out


def view_writes(system: System, disputes: int) -> dict[str, dict[str, float]]:
    """Documents each service wrote to its query model per dispute, by collection and form: the
    database's work (a replace costs FerretDB about ten times an insert of a batch). "unchanged"
    counts the documents a change left as they were, which were not written."""
    out: dict[str, dict[str, float]] = {}
    for metric, form in (("aftersale_view_writes", None), ("aftersale_view_unchanged", "unchanged")):
        for name, found in samples(system, metric).items():
            per = {f"{s.labels['collection']} {form or s.labels['form']}": round(s.value / max(1, disputes), 2)
                   for s in found if s.name.endswith("_total")}
            if per:
                out.setdefault(name, {}).update(per)
    return out


def transactions(system: System, disputes: int) -> dict[str, dict[str, float | None]]:
    """Per service: Kafka transactions per dispute, how long a commit took (the transaction's round
    trips to the broker), and how long a record waited from its timestamp to the start of its batch
    (the writer's commit, the fetch, and the wait for company before a transaction). A step between
    two services is about the second's wait: p50 and p99 as histogram upper bounds, in seconds."""
    commits = samples(system, "aftersale_commit_seconds")
    carried = samples(system, "aftersale_transactions")
    waits = samples(system, "aftersale_record_wait_seconds")
    out: dict[str, dict[str, float | None]] = {}
    for name in commits:
        commit, wait = bounds(commits[name], 0.5, 0.99), bounds(waits.get(name, []), 0.5, 0.99)
        if commit is None:
            continue
        out[name] = {"per_dispute": round(commit[0] / max(1, disputes), 2),
                     "commit_p50_s_at_most": commit[1][0], "commit_p99_s_at_most": commit[1][1],
                     "record_wait_p50_s_at_most": wait[1][0] if wait else None,
                     "record_wait_p99_s_at_most": wait[1][1] if wait else None,
                     **{f"carrying {s.labels['carried']}": round(s.value / max(1, disputes), 2)
                        for s in carried.get(name, []) if s.name.endswith("_total")}}
    return out
