"""How an evidence item is shown. Only http(s) URIs are ever put in a page: anything else
(javascript:, data:, file:, oss:// ...) is shown as text, never fetched, embedded or linked."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".avif")


@dataclass(frozen=True)
class Shown:
    kind: str  # the evidence kind as submitted
    uri: str
    how: str  # "image" (inline), "link" (opened on a click), "text" (not a web address: shown only)


def web_uri(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def shown(item: dict) -> Shown:
    kind, uri = str(item.get("kind", "")), str(item.get("uri", ""))
    if not web_uri(uri):
        return Shown(kind, uri, "text")
    path = urlsplit(uri).path.lower()
    if kind == "photo" or path.endswith(IMAGE_SUFFIXES):
        return Shown(kind, uri, "image")
    return Shown(kind, uri, "link")
