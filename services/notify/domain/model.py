"""The notify service's aggregates: per order (who the parties are, pending reminders) and per
user (language)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

USER = "user:"


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Reminder(Model):
    party: str  # buyer | seller
    task: str  # a key of templates.LABELS["task"]
    due_at: datetime
    fire_at: datetime


class NotifyOrder(Model):
    order_id: str
    buyer_id: str | None = None
    seller_id: str | None = None
    kinds: dict[str, str] = Field(default_factory=dict)  # refund_id -> kind
    rejection_reasons: dict[str, str] = Field(default_factory=dict)  # refund_id -> seller's reason code
    reminders: dict[str, Reminder] = Field(default_factory=dict)  # "remind:<ref>:<party>" -> reminder
    sent: int = 0

    def user(self, party: str) -> str | None:
        return self.buyer_id if party == "buyer" else self.seller_id

    @classmethod
    def load(cls, key: str, state: dict[str, Any] | None) -> "NotifyOrder":
        return cls.model_validate(state) if state else cls(order_id=key)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="python")


class InboxEntry(Model):
    order_id: str
    read: bool = False


# A user's aggregate remembers this many of their latest messages (to check read receipts);
# the inbox itself, with every message, is the query model's.
INBOX_MEMORY = 500


class UserPrefs(Model):
    user_id: str
    locale: str = "zh-CN"
    messages: dict[str, InboxEntry] = Field(default_factory=dict)  # message_id -> entry, oldest first

    def remember(self, message_id: str, order_id: str) -> None:
        self.messages[message_id] = InboxEntry(order_id=order_id)
        while len(self.messages) > INBOX_MEMORY:
            del self.messages[next(iter(self.messages))]

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="python")

    @classmethod
    def load(cls, key: str, state: dict[str, Any] | None) -> "UserPrefs":
        return cls.model_validate(state) if state else cls(user_id=key.removeprefix(USER))
