"""The bench's figures as printed at the end of a run (the JSON in bench-results/ has them all)."""
from __future__ import annotations

from typing import Any


def print_report(r: dict[str, Any]) -> None:
    echo, txn, db = r["raw"]["kafka_echo"], r["raw"]["kafka_echo_transactional"], r["raw"]["database"]
    print("\n=== raw limits of this machine ===")
    print(f"kafka consume-then-produce echo: {echo['per_second']} msg/s; transactional: {txn['per_second']} msg/s "
          f"({echo['bytes']} B messages)")
    if hop := r["raw"].get("hop"):
        print(f"one hop alone (a record read, one transaction of two records, {hop['per_second']}/s): "
              f"client {hop['client_ms_per_hop']} ms, Kafka {hop['kafka_ms_per_hop']} ms of CPU")
    print(f"database single-document updates: {db['sequential_updates_per_second']}/s one at a time, "
          f"{db['concurrent_updates_per_second']}/s 64 at once")
    for p in r["phases"]:
        if not p["offered_per_second"]:
            print(f"\n=== {p['phase']}: {p['offered_for_s']} s without disputes ===")
            print(f"  CPU, cores kept busy: {p['cpu_cores_busy_all']} in all; {p['cpu_cores_busy']}")
            print(f"  broker requests per second: {p.get('broker_requests')}")
            print(f"  peak resident memory (MB): {p['peak_rss_mb']}")
            continue
        print(f"\n=== {p['phase']}: offered {p['offered_per_second']} disputes/s for {p['offered_for_s']} s ===")
        print(f"disputes: {p['completed']}/{p['disputes']} completed ({p['mix']}); kept up: {p['kept_up']}")
        print(f"throughput: {p['disputes_per_second']} disputes/s, {p['events_per_second']} platform events/s "
              f"({p['events_per_second'] / txn['per_second']:.1%} of the transactional echo)")
        for name, st in p["latency"].items():
            if st["n"]:
                print(f"  {name:<52} p50 {st['p50_ms']:8.1f} ms  p95 {st['p95_ms']:8.1f} ms  p99 {st['p99_ms']:8.1f} ms  (n={st['n']})")
        print(f"  view lag (histogram upper bounds, s): {p['view_lag']}")
        print(f"  query-model documents written per dispute: {p.get('view_writes_per_dispute')}")
        print(f"  transactions per dispute, commit and record wait (upper bounds, s): {p.get('transactions')}")
        print(f"  peak resident memory (MB): {p['peak_rss_mb']}")
        print(f"  CPU, cores kept busy on average: {p['cpu_cores_busy_all']} in all; {p['cpu_cores_busy']}")
        print(f"  CPU per dispute, every part: {p['cpu_ms_per_dispute']} ms")
        print(f"  broker requests per dispute: {p.get('broker_requests')}")
        if f := p.get("floor_ms_per_dispute"):
            print(f"  of it, {f['transactions']} transactions at one hop's cost: {f['transactions_at_hop_cost']} ms; "
                  f"load generator, payment simulator and database: {f['outside']} ms")
    print(f"\nsustainable rate: {r['sustainable_per_second']} disputes/s")
    if r.get("workbench"):
        w = r["workbench"]
        print(f"workbench with {w['cases']} cases ({w['queued']} queued): case page p50 {w['case_page']['p50_ms']:.0f} ms "
              f"p99 {w['case_page']['p99_ms']:.0f} ms; queue page p50 {w['queue_page']['p50_ms']:.0f} ms "
              f"p99 {w['queue_page']['p99_ms']:.0f} ms")
    if r.get("restore"):
        print(f"restart with {r['restore']['aggregates']} live aggregates: ready {r['restore']['seconds_to_ready_after_kill']} s "
              f"after SIGKILL; peak memory {r['restore']['peak_rss_mb']} MB "
              f"(copies of a {r['restore'].get('aggregate_bytes', '?')}-byte aggregate)")
    print(f"\nverdict: {r['verdict']}")
