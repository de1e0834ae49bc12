"""A document the database refuses is dead-lettered with its reason and the rest are written; a
database that is away is waited out, and nothing is dead-lettered for it."""
from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from runtime.tests.test_views import CHANGELOG, Collection, Database, ShopDomain, SETTINGS, batch_of, changes
from runtime.views.refusals import MemoryViewDeadLetters
from runtime.views.writer import ViewWriter


class Refusing(Collection):
    """Refuses any document with a seller named "poison", as FerretDB refuses an integer past 64 bits."""

    def __init__(self, error: type[BaseException] = OverflowError) -> None:
        super().__init__()
        self.error = error

    def _check(self, doc: dict[str, Any]) -> None:
        if doc.get("_id") == "poison":
            raise self.error("MongoDB can only handle up to 8-byte ints")

    async def insert_many(self, docs: list[dict[str, Any]], ordered: bool = True) -> None:
        for d in docs:
            self._check(d)
        await super().insert_many(docs, ordered)

    async def replace_one(self, flt: dict[str, Any], doc: dict[str, Any], upsert: bool = False) -> None:
        self._check(flt)
        await super().replace_one(flt, doc, upsert)


def writer(sellers: Collection, probe_ok: bool = True) -> tuple[ViewWriter, Database, MemoryViewDeadLetters]:
    db = Database()
    db["sellers"] = sellers
    if not probe_ok:
        db["_writer_probe"] = Refusing(AutoReconnect)
        db["_writer_probe"]._check = lambda doc: (_ for _ in ()).throw(AutoReconnect("away"))  # type: ignore[method-assign]
    letters = MemoryViewDeadLetters()
    return ViewWriter(ShopDomain(), SETTINGS, db, {}, letters), db, letters


async def test_a_refused_document_is_dead_lettered_and_every_other_one_is_written() -> None:
    views, db, letters = writer(Refusing())
    [good] = changes("O-1", {"seller": "S-1", "n": 1})
    [bad] = changes("O-2", {"seller": "poison", "n": 1})
    await views.write(batch_of([good, bad]))

    assert set(db["orders"].docs) == {"O-1", "O-2"} and set(db["sellers"].docs) == {"S-1"}
    [(code, reason, source)] = letters.sent
    assert code == "view.OverflowError" and "8-byte ints" in reason and source is bad
    refused = views.health()["refused"]
    assert refused["count"] == 1 and refused["last"]["topic"] == CHANGELOG and views.health()["database"]


async def test_a_later_change_of_the_same_aggregate_is_refused_again_and_written_around_again() -> None:
    views, db, letters = writer(Refusing())
    first, second = changes("O-2", {"seller": "poison", "n": 1}, {"seller": "poison", "n": 2})
    await views.write(batch_of([first]))
    await views.write(batch_of([second]))
    assert db["orders"].docs["O-2"]["state"]["n"] == 2 and len(letters.sent) == 2


async def test_a_database_that_is_away_is_not_a_refusal() -> None:
    views, db, letters = writer(Refusing(AutoReconnect))
    with pytest.raises(AutoReconnect):
        await views.write(batch_of(changes("O-2", {"seller": "poison", "n": 1})))
    assert letters.sent == []


async def test_an_error_while_the_database_takes_no_write_at_all_is_not_a_refusal() -> None:
    views, db, letters = writer(Refusing(RuntimeError), probe_ok=False)
    with pytest.raises(RuntimeError):
        await views.write(batch_of(changes("O-2", {"seller": "poison", "n": 1})))
    assert letters.sent == []
