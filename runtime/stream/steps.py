"""The chain of steps every record takes, declared once: what `aftersale describe` prints (like
Kafka Streams' `Topology.describe()`), each step with the code that is it, and what a test checks
the processor runs, in this order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from runtime.stream.processor import Processor
from runtime.stream.task import Task


@dataclass(frozen=True)
class Step:
    name: str
    code: Callable[..., object]

    @property
    def does(self) -> str:
        """The first sentence of the step's docstring: the code says what it does, once."""
        doc = " ".join((self.code.__doc__ or "").split())
        return doc.split(". ")[0].rstrip(".")


STEPS: tuple[Step, ...] = (
    Step("parse", Processor.parse),
    Step("authorize", Processor.authorize),
    Step("route", Processor.route),
    Step("apply", Processor.apply),
    Step("commit", Task.commit),
)
