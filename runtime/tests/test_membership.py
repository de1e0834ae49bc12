"""A replica's static member id: the same for the same subscription, new for a new one."""
from __future__ import annotations

from runtime.stream.membership import static_member_id


def test_a_replica_restarted_with_the_same_topics_is_the_same_member() -> None:
    first = static_member_id("aftersale-refund", "0", ["refund.commands", "orders.events"])
    again = static_member_id("aftersale-refund", "0", ["orders.events", "refund.commands", "orders.events"])
    assert first == again
    assert first is not None and first.startswith("aftersale-refund-0-")


def test_a_new_version_reading_one_more_topic_is_a_new_member() -> None:
    old = static_member_id("aftersale-arbitration", "0", ["arbitration.commands"])
    new = static_member_id("aftersale-arbitration", "0", ["arbitration.commands", "orders.events"])
    assert old != new


def test_each_replica_has_its_own_id_and_none_without_one() -> None:
    topics = ["seller.commands"]
    assert static_member_id("aftersale-seller", "0", topics) != static_member_id("aftersale-seller", "1", topics)
    assert static_member_id("aftersale-seller", "", topics) is None


def test_replicas_of_one_definition_take_their_hostnames(monkeypatch) -> None:
    import socket

    from runtime.service.settings import ServiceSettings
    ids = set()
    for host in ("refund-1", "refund-2", "refund-3"):  # compose --scale: one hostname per container
        monkeypatch.setattr(socket, "gethostname", lambda host=host: host)
        s = ServiceSettings(instance_id="hostname")
        assert s.instance_id == host
        ids.add(static_member_id("aftersale-refund", s.instance_id, ["refund.commands"]))
    assert len(ids) == 3
    assert ServiceSettings(instance_id="7").instance_id == "7"
