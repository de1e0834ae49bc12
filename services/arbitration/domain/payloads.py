"""What a case file holds by reference: each evidence.submit's description and evidence, under a
key of its own beside the order (runtime/decision.py, `payloads`). The order's aggregate keeps
who, when and how many items, and the submission's `ref`; the query model keeps each submission
as a document of `submissions` (its `_id` the ref), and the case file is read back whole
(`with_submissions`)."""
from __future__ import annotations

from typing import Any, Iterable

SUBMISSIONS = "submissions"
# Between the order id and the ref in a payload's key. Every message with a NUL anywhere is
# refused (contracts/parsing.py), so no order's key can ever be a payload's.
MARK = "\x00"


def submission_ref(case_id: str, n: int) -> str:
    return f"{case_id}/{n}"


def payload_key(order_id: str, ref: str) -> str:
    return f"{order_id}{MARK}{ref}"


def is_payload(key: str) -> bool:
    return MARK in key


def ref_of(key: str) -> str:
    return key.partition(MARK)[2]


def refs(case: dict[str, Any]) -> list[str]:
    """The documents of a case's submissions kept by reference."""
    return [submission_ref(case["case_id"], n) for n in range(sum((case.get("filed") or {}).values()))]


def with_submissions(case: dict[str, Any], docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The case with its submissions kept by reference among the others, in the order they came."""
    fields = ("party", "at", "round", "kind", "description", "evidence")
    filed = [{k: d.get(k) for k in fields} for d in sorted(docs, key=lambda d: int(str(d["_id"]).rpartition("/")[2]))]
    return {**case, "submissions": [*(case.get("submissions") or []), *filed]}
