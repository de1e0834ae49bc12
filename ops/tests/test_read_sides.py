"""Each service publishes its read side: the operator's CLI and the workbench read another
service's query model through that service's `queries` module (and every service's history
through `runtime.views.history.history_of`), never by a collection's name."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READERS = [*sorted((ROOT / "ops").glob("*.py")), *sorted((ROOT / "services" / "arbitration" / "workbench").glob("*.py")),
           ROOT / "tests" / "deployment" / "compose_boot.py"]
# The collections of the four services' query models.
COLLECTIONS = {"orders", "posts", "history", "shops", "cases", "queue", "buyers", "submissions", "inbox", "reads"}


OPERATIONS = {"find", "find_one", "count_documents", "aggregate", "distinct", "insert_one", "insert_many",
              "replace_one", "update_one", "update_many", "delete_one", "delete_many", "create_index"}


def by_name(path: Path) -> list[str]:
    """Every `x["<collection>"].<operation>(...)` in a file, as `file:line [name]`."""
    tree = ast.parse(path.read_text())
    return [f"{path.relative_to(ROOT)}:{node.lineno} [{node.value.slice.value!r}]" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in OPERATIONS and isinstance(node.value, ast.Subscript)
            and isinstance(node.value.slice, ast.Constant) and node.value.slice.value in COLLECTIONS]


def test_each_service_publishes_its_read_side() -> None:
    for service in ("refund", "seller", "arbitration", "notify"):
        assert (ROOT / "services" / service / "queries.py").exists(), service


def test_readers_name_no_collection_of_another_service() -> None:
    assert READERS and all(p.exists() for p in READERS)
    assert [hit for p in READERS for hit in by_name(p)] == []


def test_the_check_sees_a_collection_read_by_name(tmp_path) -> None:
    sample = ROOT / "ops" / "tests" / "_sample_reader.py"
    sample.write_text('async def f(dbs):\n    return await dbs["seller"]["shops"].find_one({})\n')
    try:
        assert by_name(sample) == ["ops/tests/_sample_reader.py:2 ['shops']"]
    finally:
        sample.unlink()
