"""Static group membership (KIP-345), with the member's subscription in its id.

A static member that restarts within the session timeout takes its partitions back without a
rebalance. Under the classic group protocol the broker does not rebalance either when that member
comes back subscribed to more topics (KAFKA-12759), so a new version of a service that reads a new
topic would never be given its partitions, however often it restarted. With the subscription in
the id, a changed subscription makes a new member: the group rebalances once, when the old
member's session times out (session_timeout_ms), and every topic is assigned.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable


def static_member_id(group_id: str, instance_id: str, topics: Iterable[str]) -> str | None:
    """The consumer's `group_instance_id`, or None (dynamic membership) without an instance id."""
    if not instance_id:
        return None
    subscription = "\n".join(sorted(set(topics)))
    return f"{group_id}-{instance_id}-{hashlib.sha256(subscription.encode()).hexdigest()[:8]}"
