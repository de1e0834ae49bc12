"""The write forms the view writer uses, proved safe on the database the project runs
(FerretDB 1.x hangs for good on a bulk_write of 100 updates; these are not that)."""
from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from pymongo import AsyncMongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError

from tests.support.infra import ROOT


async def test_insert_many_in_batches_with_duplicates_leaves_the_server_answering(mongo: AsyncMongoClient) -> None:
    db = mongo[f"probe_{uuid.uuid4().hex[:8]}"]
    col = db["history"]
    try:
        await col.insert_many([{"_id": f"old-{i}", "order_id": f"O-{i % 50}", "value": "x" * 300} for i in range(2000)])
        for batch in range(10):  # 2,000 new documents, 200 at a time, each batch repeating 20 known ones
            docs = [{"_id": f"new-{batch}-{i}", "order_id": f"O-{i % 50}", "value": "y" * 300} for i in range(180)]
            docs += [{"_id": f"old-{batch * 20 + i}", "order_id": "O-dup", "value": "z"} for i in range(20)]
            try:
                await col.insert_many(docs, ordered=False)
            except BulkWriteError as e:
                assert {err["code"] for err in e.details["writeErrors"]} == {11000}
                assert len(e.details["writeErrors"]) == 20

        assert (await mongo.admin.command("ping"))["ok"] == 1.0
        assert await col.count_documents({}) == 2000 + 1800
        assert await col.count_documents({"order_id": "O-dup"}) == 0  # the duplicates changed nothing
    finally:
        await mongo.drop_database(db.name)


async def test_a_view_only_moves_forward(mongo: AsyncMongoClient) -> None:
    db = mongo[f"probe_{uuid.uuid4().hex[:8]}"]
    col = db["orders"]

    async def write(v: int) -> None:
        try:
            await col.replace_one({"_id": "O-1", "v": {"$lt": v}}, {"v": v, "state": {"n": v}}, upsert=True)
        except DuplicateKeyError:
            pass  # a newer version is there

    try:
        await write(1)
        await write(3)
        await write(2)  # late: a writer that lost the partition

        assert (await col.find_one({"_id": "O-1"}))["v"] == 3
        assert await col.count_documents({}) == 1
    finally:
        await mongo.drop_database(db.name)


async def test_a_lookup_by_id_is_served_by_an_index(mongo: AsyncMongoClient) -> None:
    """Every replace reads its document by _id first. On FerretDB that read must not scan the
    collection (infra/postgres/id-lookups.sql); MongoDB always uses its _id index."""
    db = mongo[f"probe_{uuid.uuid4().hex[:8]}"]
    col = db["orders"]  # a new collection: its table is created now, after the infrastructure started
    try:
        await col.insert_many([{"_id": f"O-{i}", "v": 1, "state": {"pad": "x" * 300}} for i in range(3000)])
        plan = await db.command("explain", {"find": "orders", "filter": {"_id": "O-1234"}})
        if "ferretdbVersion" not in plan.get("serverInfo", {}):
            return  # MongoDB: nothing of ours to prove
        nodes, todo = [], [plan["queryPlanner"]["Plan"]]
        while todo:
            node = todo.pop()
            nodes.append(node["Node Type"])
            todo += node.get("Plans", [])
        assert any("Index" in n for n in nodes) and "Seq Scan" not in nodes, nodes
    finally:
        await mongo.drop_database(db.name)


async def test_the_id_index_of_a_new_collection_has_no_pending_list(mongo: AsyncMongoClient, infra) -> None:
    """A GIN index's pending list is read whole by every lookup until a vacuum merges it, so each
    replace would cost more with every document written since. The project's FerretDB indexes
    every new collection's _id without one (infra/postgres/id-lookups.sql)."""
    if not infra.how.startswith("project scripts"):
        pytest.skip("not the project's FerretDB on PostgreSQL")
    db = mongo[f"probe_{uuid.uuid4().hex[:8]}"]
    try:
        await db["orders"].insert_one({"_id": "O-1", "v": 1})  # creates the table now
        out = subprocess.run(
            [str(ROOT / "infra/scripts/psql.sh"), "-tAc",
             "SELECT c.relname, array_to_string(c.reloptions, ',') FROM pg_class c JOIN pg_namespace n "
             f"ON n.oid = c.relnamespace WHERE n.nspname = '{db.name}' AND c.relname LIKE '%\\_id\\_gin'"],
            env={**os.environ, "AFTERSALE_INSTANCE": os.environ.get("AFTERSALE_INSTANCE", "test")},
            capture_output=True, text=True, check=True).stdout
        indexes = dict(line.split("|", 1) for line in out.split())
        assert any(name.startswith("orders_") for name in indexes), out
        assert all("fastupdate=off" in options for options in indexes.values()), indexes
    finally:
        await mongo.drop_database(db.name)


async def test_new_aggregates_inserted_and_a_batch_read_again_on_the_real_database(mongo: AsyncMongoClient) -> None:
    """The view writer's insert of new aggregates, and its fallback when they are there already
    (the database must say which documents of an insert_many were duplicates)."""
    from runtime.tests.test_views import SETTINGS, ShopDomain, batch_of, changes
    from runtime.views.refusals import MemoryViewDeadLetters
    from runtime.views.writer import ViewWriter

    db = mongo[f"probe_{uuid.uuid4().hex[:8]}"]
    views = ViewWriter(ShopDomain(), SETTINGS, db, {}, MemoryViewDeadLetters())
    try:
        old = [changes(f"O-{i}", {"seller": f"S-{i}", "n": 1}, {"seller": f"S-{i}", "n": 2}) for i in range(30)]
        await views.write(batch_of([r for rs in old for r in rs]))
        # Read again (as after a crash before the commit), now with ten new orders among them.
        new = [changes(f"O-{i}", {"seller": f"S-{i}", "n": 1}) for i in range(30, 40)]
        await views.write(batch_of([rs[0] for rs in old] + [rs[0] for rs in new]))

        assert (await mongo.admin.command("ping"))["ok"] == 1.0
        orders = {d["_id"]: d["v"] async for d in db["orders"].find({})}
        assert orders == {**{f"O-{i}": 2 for i in range(30)}, **{f"O-{i}": 1 for i in range(30, 40)}}
        assert await db["sellers"].find_one({"_id": "S-3"}) == {"_id": "S-3", "orders": 2, "v": 2}
    finally:
        await mongo.drop_database(db.name)


async def test_documents_the_real_database_refuses_are_dead_lettered_and_the_rest_written(mongo) -> None:
    """FerretDB refuses an integer past 64 bits (the client already) and a NUL in a string (the
    server): each such document is set aside with its reason, the others of the batch are written."""
    from runtime.tests.test_views import SETTINGS, ShopDomain, batch_of, changes
    from runtime.views.refusals import MemoryViewDeadLetters
    from runtime.views.writer import ViewWriter

    db = mongo[f"probe_{uuid.uuid4().hex[:8]}"]
    letters = MemoryViewDeadLetters()
    views = ViewWriter(ShopDomain(), SETTINGS, db, {}, letters)
    try:
        [good] = changes("O-good", {"seller": "S-1", "n": 1})
        [big] = changes("O-big", {"seller": "S-2", "n": 2 ** 63})
        [nul] = changes("O-nul", {"seller": "S-\x00-3", "n": 1})
        await views.write(batch_of([good, big, nul]))
        assert await db["orders"].find_one({"_id": "O-good"}) is not None
        assert await db["sellers"].find_one({"_id": "S-1"}) is not None
        refused = [(code, source.key) for code, _, source in letters.sent]
        assert {key for _, key in refused} == {b"O-big", b"O-nul"} and all(c.startswith("view.") for c, _ in refused)
        print(f"\n[views] refused by the real database: {sorted(set(refused))}")
        assert views.health()["refused"]["count"] == len(letters.sent) and views.health()["database"]
    finally:
        await mongo.drop_database(db.name)
