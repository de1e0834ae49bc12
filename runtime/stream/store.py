"""The state store of one task (one partition number of a service): aggregates in memory.

A restore fills it from the changelog with the raw records, compressed (Zstandard at level 1: JSON
of an aggregate shrinks to about a fifth, and a hundred thousand of them fit in tens of MB rather
than the 136 MB they take as text); each is decompressed and decoded the first time it is used, so
a partition with a hundred thousand aggregates is ready as soon as its records are read. zlib at
its fastest shrank them as much, slower: 20-51 µs an aggregate against 9-13, most of a restore.
A batch's changes (runtime.stream.batch) become the store's only once their transaction committed; an
aborted batch leaves the store as it was.
"""
from __future__ import annotations

from typing import Iterator

import zstandard

from runtime.stream.aggregate import Aggregate


_zstd = zstandard.ZstdCompressor(level=1)
_decompress = zstandard.ZstdDecompressor().decompress


def _compress(value: bytes) -> bytes:
    # The compressor's result keeps the block it was written into, sized for the worst case (as
    # large as the input): a copy holds only its bytes (136 MB against 34 for 100,000 aggregates).
    return bytes(memoryview(_zstd.compress(value)))


class StateStore:
    def __init__(self) -> None:
        self._decoded: dict[str, Aggregate] = {}
        self._raw: dict[str, bytes] = {}

    def __len__(self) -> int:
        return len(self._decoded) + len(self._raw)

    def keys(self) -> Iterator[str]:
        yield from self._decoded
        yield from self._raw

    def get(self, key: str) -> Aggregate:
        agg = self._decoded.get(key)
        if agg is not None:
            return agg
        raw = self._raw.pop(key, None)
        if raw is None:
            return Aggregate(key=key)
        agg = self._decoded[key] = Aggregate.decode(key, _decompress(raw))
        return agg

    def restore(self, key: str, value: bytes | None) -> None:
        """One changelog record, oldest first; a later one replaces an earlier one."""
        self._decoded.pop(key, None)
        if value is None:
            self._raw.pop(key, None)
        else:
            self._raw[key] = _compress(value)

    def put_all(self, aggregates: dict[str, Aggregate]) -> None:
        for key, agg in aggregates.items():
            self._raw.pop(key, None)
            self._decoded[key] = agg

