"""What a case file holds by reference (runtime/api/decision.py, `payloads`): each evidence.submit's
description and evidence, and the text and attachments of each conversation post its negotiation
copies. The order's aggregate keeps who, when and how many; the query model keeps each as a
document (`submissions`, `posts`), and the case file is read back whole (`with_submissions`,
`with_posts`)."""
from __future__ import annotations

from typing import Any, Iterable

SUBMISSIONS = "submissions"
POSTS = "posts"  # the conversation posts the case file copies, each its own document


def post_ref(post_id: str) -> str:
    return f"post/{post_id}"


def submission_ref(case_id: str, n: int) -> str:
    return f"{case_id}/{n}"


def refs(case: dict[str, Any]) -> list[str]:
    """The documents of a case's submissions kept by reference."""
    return [submission_ref(case["case_id"], n) for n in range(sum((case.get("filed") or {}).values()))]


def with_submissions(case: dict[str, Any], docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The case with its submissions kept by reference among the others, in the order they came."""
    fields = ("party", "at", "round", "kind", "description", "evidence")
    filed = [{k: d.get(k) for k in fields} for d in sorted(docs, key=lambda d: int(str(d["_id"]).rpartition("/")[2]))]
    return {**case, "submissions": [*(case.get("submissions") or []), *filed]}


def post_ids(request: dict[str, Any] | None) -> list[str]:
    """The posts a request's negotiation holds by reference."""
    return [n["post_id"] for n in (request or {}).get("negotiation") or []
            if n.get("entry") == "post" and n.get("post_id") and "text" not in n]


def with_posts(request: dict[str, Any] | None, docs: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    if request is None:
        return None
    by_id = {d["_id"]: d for d in docs}
    negotiation = []
    for n in request.get("negotiation") or []:
        doc = by_id.get(n.get("post_id") or "") if n.get("entry") == "post" else None
        negotiation.append({**n, "text": doc.get("text", ""), "attachments": doc.get("attachments", [])} if doc else n)
    return {**request, "negotiation": negotiation}
