"""`notify.commands` (the app) and `notify.events` (notify service). Keyed by `user_id`."""
from __future__ import annotations

from typing import Literal

from pydantic import StrictStr

from contracts.common import Data, Id, ShortText

Locale = Literal["zh-CN", "en"]


class MessageRead(Data):
    user_id: Id
    message_id: Id


class LocaleSet(Data):
    """Internal: a user picks the language of their messages."""

    user_id: Id
    locale: Locale


class LocaleChanged(Data):
    """Internal: a user's language, as every notify instance keeps it (a compacted global table)."""

    user_id: Id
    locale: Locale


class MessageSent(Data):
    message_id: Id
    user_id: Id
    order_id: Id
    template: ShortText
    title: StrictStr
    body: StrictStr
    locale: Locale


class MessageMarkedRead(Data):
    """Internal: a message was read by its recipient."""

    message_id: Id
    user_id: Id
