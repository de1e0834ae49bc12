"""What the view writer last wrote of each document, so that a change that leaves a document as it
was costs the database nothing.

An aggregate changes more often than each of its documents: an arbitration order changes with
every event of its dispute, while its case's queue entry changes only when the case's status, round
or holder does. A replace costs FerretDB and PostgreSQL about 1 ms of CPU, the digest here a few
microseconds.

The memo only says what this writer wrote. It is forgotten whenever the writer's partitions move
(another writer may write them meanwhile), and an entry is dropped when the database holds a newer
version than the one written. It is bounded: the least recently written documents are forgotten
first, and a forgotten document is simply written again.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import orjson


def digest(doc: dict[str, Any]) -> bytes:
    """The document's content, `v` aside: versions move on while the content stays."""
    text = orjson.dumps({k: v for k, v in doc.items() if k != "v"}, default=str, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(text, digest_size=16).digest()


class WrittenDocs:
    def __init__(self, size: int) -> None:
        self.size = size
        self._digests: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        # Moves on at every clear: a write that started before it is not remembered after it.
        self.epoch = 0

    def __len__(self) -> int:
        return len(self._digests)

    def __contains__(self, document: tuple[str, str]) -> bool:
        """Whether this writer remembers what it wrote of (collection, _id)."""
        return document in self._digests

    def holds(self, collection: str, _id: str, content: bytes) -> bool:
        """Whether this writer last wrote the document with this content (a digest)."""
        return self._digests.get((collection, _id)) == content

    def remember(self, collection: str, _id: str, content: bytes, epoch: int) -> None:
        """The write of `content` that started in `epoch` succeeded."""
        if epoch != self.epoch:
            return
        key = (collection, _id)
        self._digests[key] = content
        self._digests.move_to_end(key)
        while len(self._digests) > self.size:
            self._digests.popitem(last=False)

    def forget(self, collection: str, _id: str) -> None:
        self._digests.pop((collection, _id), None)

    def clear(self) -> None:
        self._digests.clear()
        self.epoch += 1
