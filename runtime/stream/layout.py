"""How the platform's topics lie on the cluster: how many partitions each has (a partition is a
task, the unit of scale-out), on how many brokers each is copied, and how many of those copies
must hold a write before the broker acknowledges it (every producer asks `acks=all`).

From the environment, so that the services, `aftersale topics ensure`, the tests and the compose
file agree: AFTERSALE_PARTITIONS, AFTERSALE_REPLICATION_FACTOR, AFTERSALE_MIN_INSYNC_REPLICAS.
The defaults suit one local broker; production is 3 replicas, 2 in sync (docs/design.md,
"Production profile"). With 3 and 2, one broker can be lost without losing a committed record or
refusing a write; with 2 of 3 lost, writes stop rather than go to a single disk.
"""
from __future__ import annotations

from functools import lru_cache

from aiokafka.admin import NewTopic
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Layout(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AFTERSALE_", extra="ignore", frozen=True)

    # Every platform topic, changelog and repartition topic has this many. Aggregates are keyed
    # over it, so it is fixed once topics exist (changing it moves keys: see PartitionCountMismatch).
    partitions: int = Field(3, ge=1, le=1000)
    replication_factor: int = Field(1, ge=1, le=7)
    min_insync_replicas: int = Field(1, ge=1, le=7)

    @model_validator(mode="after")
    def _isr_within_replicas(self) -> "Layout":
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError(f"AFTERSALE_MIN_INSYNC_REPLICAS ({self.min_insync_replicas}) cannot exceed "
                             f"AFTERSALE_REPLICATION_FACTOR ({self.replication_factor}): no write could ever be acknowledged")
        return self

    def configs(self, configs: dict[str, str]) -> dict[str, str]:
        """A topic's configs with the number of copies a write needs."""
        return {**configs, "min.insync.replicas": str(self.min_insync_replicas)}

    def describe(self) -> str:
        return (f"{self.partitions} partitions, {self.replication_factor} replica(s), "
                f"{self.min_insync_replicas} in sync for a write")


@lru_cache(maxsize=1)
def layout() -> Layout:
    """This process's layout (read once: the partition count keys every aggregate)."""
    return Layout()


def topic(name: str, configs: dict[str, str], partitions: int | None = None) -> NewTopic:
    """A topic of the platform as this layout lays it: `partitions` only for those not keyed by
    aggregate (dead letters keep one, in order)."""
    here = layout()
    return NewTopic(name, partitions or here.partitions, here.replication_factor, topic_configs=here.configs(configs))
