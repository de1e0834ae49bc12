"""structlog, JSON by default, with the message's ids bound on every line and personal data masked."""
from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

# Free text and contact details never reach a log line in clear.
PII_KEYS = frozenset({
    "description", "message", "reasoning", "note", "body", "title", "address", "phone",
    "mobile", "email", "name", "receiver", "tracking_no", "evidence", "return_address",
})
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+)")


def mask_text(text: str) -> str:
    text = _PHONE.sub(r"\1****\2", text)
    return _EMAIL.sub(r"\1***@\2", text)


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: ("***" if k in PII_KEYS else _mask(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask(v) for v in value]
    return value


def mask_pii(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    for key in list(event_dict):
        if key in PII_KEYS:
            event_dict[key] = "***"
        elif key != "event":
            event_dict[key] = _mask(event_dict[key])
    if isinstance(event_dict.get("event"), str):
        event_dict["event"] = mask_text(event_dict["event"])
    return event_dict


def configure(service: str, level: str = "INFO", fmt: str = "json") -> None:
    renderer: Any
    if fmt == "console" or (fmt == "auto" and sys.stderr.isatty()):
        renderer = structlog.dev.ConsoleRenderer()
    else:
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False)
    level_no = logging.getLevelName(level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_pii,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level_no if isinstance(level_no, int) else logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    # Third-party loggers (aiokafka, faststream, uvicorn) go to stderr at WARNING.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
