"""One simulated world: a few disputes (orders that share a shop now and then) played by random
actors against the four services, with the payment system, a virtual clock and crashes, checked by
the invariants after every step and once more when everything is quiet.

A world is a list of steps drawn from its seed. Each step draws its own choices from a generator
seeded by the world's seed and the step's number, so a step means the same thing when steps
before it are left out: that is how a failure shrinks to the shortest sequence that shows it.
"""
from __future__ import annotations

import logging
import random
from datetime import timedelta
from dataclasses import dataclass
from typing import Any

import structlog

from contracts import topics as T
from contracts.build import encode, envelope
from runtime.service import metrics
from services.arbitration.domain.service import ArbitrationDomain
from services.arbitration.settings import ArbitrationSettings
from services.notify.domain.service import NotifyDomain
from services.notify.settings import NotifySettings
from services.refund.domain.service import RefundDomain
from services.refund.settings import RefundSettings
from services.seller.domain.service import SellerDomain
from services.seller.settings import SellerSettings
from sim.platform import actors
from sim.platform.actors import Command
from sim.platform.seen import OrderSeen
from sim.platform.invariants import Checker, Violation
from sim.platform.payments import Payments
from sim.platform.world import TABLES, Clock, Log, Logged, Node

# The services log and count every record; a simulation plays millions, and reads the log itself.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL), cache_logger_on_first_use=True)


class _Uncounted:
    """A Prometheus metric that counts nothing (a quarter of a record's cost in the simulation)."""

    def labels(self, *_: object) -> "_Uncounted":
        return self

    def inc(self, *_: object) -> None:
        pass

    observe = inc


def uncounted() -> None:
    """Stop counting in this process: for a simulation's own process (its command, its workers),
    never for a process that runs anything else."""
    for name in ("MESSAGES", "HANDLE_SECONDS", "TIMERS_FIRED", "REJECTIONS", "DEAD_LETTERS"):
        setattr(metrics, name, _Uncounted())

HOUR = 3600.0
# The platform's real windows (48 h, 7 days, 72 h ...); shop restrictions are reached in a few
# defects so that a world of a few orders meets them.
COMMON = dict(log_level="WARNING", handler_attempts=1, contract_strict=True)  # version 3 placements only
SETTINGS = {
    "refund": RefundSettings(**COMMON),
    "seller": SellerSettings(**COMMON, shop_restrictions="promotions:1,new_listings:2,rejections_reviewed:2",
                             rate_min_orders=10**6),
    "arbitration": ArbitrationSettings(**COMMON),
    "notify": NotifySettings(**COMMON),
}
DOMAINS = {"refund": RefundDomain, "seller": SellerDomain, "arbitration": ArbitrationDomain, "notify": NotifyDomain}
# Refusals that only mean "not yet": the service has not heard of the request or the case.
NOT_YET = frozenset({"not_escalatable", "unknown_refund", "unknown_order", "unknown_case", "not_awaiting_ruling",
                     "no_open_offer"})
PUBLIC = frozenset({T.REFUND_EVENTS, T.SELLER_EVENTS, T.ARBITRATION_EVENTS, T.NOTIFY_EVENTS})


@dataclass(frozen=True)
class Step:
    """One thing that happens: what, to whom, and the number that seeds its own choices."""

    kind: str  # act | deliver | pay | tick | fire | crash | rule
    n: int
    target: str = ""  # the order (act), the service (deliver, fire, crash)
    partition: int = 0

    def __str__(self) -> str:
        where = f" {self.target}" if self.target else ""
        return f"#{self.n} {self.kind}{where}{f' p{self.partition}' if self.kind == 'deliver' else ''}"


@dataclass
class Outcome:
    violations: list[Violation]
    steps: list[Step]
    shown: list[str]  # what each step did, in words
    disputes: int


class World:
    def __init__(self, seed: int, disputes: int, long: bool = False) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = Clock()
        self.log = Log()
        self.nodes = {name: Node(DOMAINS[name](), SETTINGS[name], self.log, self.clock) for name in DOMAINS}
        self.payments = Payments(self.log, self.clock, random.Random(seed ^ 0x5EED))
        self.orders: dict[str, OrderSeen] = {}
        sellers = [f"S{seed}-{i}" for i in range(max(1, disputes // 2))]
        for i in range(disputes):
            oid = f"O{seed}-{i}"
            self.orders[oid] = OrderSeen(oid, f"B{seed}-{i % 3}", self.rng.choice(sellers),
                                         self.rng.choice((9900, 10000, 19900, 250)))
        # How fast its clock runs against its people: in some worlds every deadline passes, in others
        # people answer in time and disputes go all the way to rulings and appeals.
        # A long world is a patient one: its disputes take weeks, and the after-sale window (15 days
        # from delivery) would close on them at the faster clocks.
        self.tick_scale = random.Random(seed * 7919 + 3).choice((0.03, 0.1) if long else (0.03, 0.1, 0.3, 1.0))
        # Where each order stands when the world begins: most disputes come after delivery, where
        # they go deepest (a refusal, a case, a ruling, an appeal); some before shipment.
        stage = random.Random(seed * 7919 + 4)
        self.stages = {oid: stage.choice(("paid", "shipped", "delivered", "delivered")) for oid in self.orders}
        self.checker = Checker(self)
        self.log.listeners.append(self._heard)
        self._sent = 0
        self.retries: dict[str, list[Command]] = {}  # per order: commands refused as "not yet", to send again
        self.tries: dict[tuple[str, Any], int] = {}  # what the platform's people at rest tried, how often
        # How long its parties keep acting once the drawn steps are over, while the clock runs from one
        # deadline to the next: rulings come fast then, and this is where they meet appeals, second
        # requests and answers to both (three rulings on one request need it). Every long world has
        # one, one short world in 15: an epilogue costs about as much as the rest of its world.
        self.epilogue = random.Random(seed * 7919 + 6).choice((0,) * 14 + (12,) if not long else (8, 30, 60))

    # ---- what the world hears ------------------------------------------------------------

    def _heard(self, rec: Logged) -> None:
        for node in self.nodes.values():
            node.table_update(rec) if rec.topic in TABLES else None
        if rec.topic in PUBLIC and rec.type == "command.rejected":
            d = rec.envelope["data"]
            cmd = self.checker.commands.get(d["command_event_id"])
            if cmd is not None and d["code"] in NOT_YET and cmd.data.get("order_id") in self.orders:
                self.retries.setdefault(cmd.data["order_id"], []).append(cmd)
        if rec.topic in PUBLIC:
            env = rec.envelope
            order = self.orders.get(env["data"].get("order_id", ""))
            if order is not None:
                order.learn(env["type"], env["data"])
        self.checker.heard(rec)

    # ---- the outside sends ----------------------------------------------------------------

    def send(self, cmd: Command, event_id: str | None = None) -> str:
        self._sent += 1
        env = envelope(cmd.type, cmd.data, actor={"role": cmd.role, "id": cmd.actor_id},
                       event_id=event_id or f"cmd-{self.seed}-{self._sent}", occurred_at=self.clock(), validate=False)
        self.log.append(cmd.topic, str(cmd.data[cmd.key_field]).encode(), encode(env))
        self.checker.sent(cmd, env["event_id"])
        return env["event_id"]

    def begin(self, o: OrderSeen) -> None:
        """The order system's part before any dispute: paid, then maybe shipped and delivered."""
        self.pay_order(o)
        stage = self.stages[o.order_id]
        if stage != "paid":
            self.send(Command("order.shipped", {"order_id": o.order_id, "carrier": "SF", "tracking_no": "SF0",
                                                "shipped_at": self.clock().isoformat()}, "system", "orders"))
        if stage == "delivered":
            self.send(Command("order.delivered", {"order_id": o.order_id, "delivered_at": self.clock().isoformat()},
                              "system", "orders"))

    def pay_order(self, o: OrderSeen) -> None:
        o.paid = True
        paid = {"order_id": o.order_id, "buyer_id": o.buyer_id, "seller_id": o.seller_id, "amount_fen": o.paid_fen,
                "currency": "CNY", "paid_at": self.clock().isoformat(),
                "items": [{"sku": "SKU1", "title": "商品", "qty": 1, "price_fen": o.paid_fen}]}
        if self.rng.random() < 0.4:  # a ship-by date (发货时效): an hour or three days
            paid["ship_by"] = (self.clock() + timedelta(seconds=self.rng.choice((3600, 3 * 86400)))).isoformat()
        self.send(Command("order.paid", paid, "system", "orders"))

    # ---- steps ----------------------------------------------------------------------------

    def run(self, step: Step) -> str:
        """Do one step; what it did, in words ("" when there was nothing to do)."""
        rng = random.Random(hash((self.seed, step.n)))
        if step.kind == "act":
            o = self.orders[step.target]
            if not o.paid:
                self.pay_order(o)
                return f"order system: order.paid {o.order_id} ({o.paid_fen} fen)"
            waiting = self.retries.get(o.order_id)
            # An app sends again what was refused as "not yet" (another service had not heard the news).
            cmd = waiting.pop(0) if waiting and rng.random() < 0.5 else actors.act(rng, o)
            if cmd is None:
                return ""
            self.send(cmd)
            return cmd.describe()
        if step.kind == "deliver":
            node = self.nodes[step.target]
            task = node.tasks[step.partition]
            if not node.waiting(task):  # a step is not wasted on an idle partition while another waits
                task = next((t for t in node.tasks if node.waiting(t)), task)
            records = node.take(task, rng, rng.choice((1, 1, 2, 5)))
            if not records:
                return ""
            node.process(task, records)
            return f"{node.service} p{task.partition} handles " + ", ".join(r.type for r in records)
        if step.kind == "crash":
            node = self.nodes[step.target]
            pending = [t for t in node.tasks if node.waiting(t)]
            if pending:
                task = rng.choice(pending)
                node.process(task, node.take(task, rng, 3), crash=True)
            node.restart()
            return f"{node.service} crashes and restores from its changelog"
        if step.kind == "rule":
            # The arbitrators work through their queue while the parties act: a ruling they can appeal.
            waiting = [(o, c) for o in self.orders.values() for c in o.cases.values() if c.status == "awaiting_ruling"]
            if not waiting:
                return ""
            o, c = rng.choice(waiting)
            cmd = actors.ruling(rng, o, c)
            if cmd is None:
                return ""
            self.send(cmd)
            return cmd.describe()
        if step.kind == "pay":
            self.payments.read()
            return "payment system answers" if self.payments.answer_one() else ""
        if step.kind == "tick":
            # Mostly minutes and hours (people answer within a deadline), now and then days (they do not).
            seconds = rng.choice((1, 30, 600, HOUR, HOUR, 6 * HOUR, 6 * HOUR, 12 * HOUR, 30 * HOUR, 49 * HOUR, 80 * HOUR))
            seconds = max(1, round(seconds * self.tick_scale))
            self.clock.advance(seconds)
            return f"clock +{seconds:g}s"
        if step.kind == "fire":
            node = self.nodes[step.target]
            fired = [r for task in node.tasks for r in node.fire_due(task)]
            return f"{node.service} deadlines fire: " + ", ".join(r.type for r in fired) if fired else ""
        raise ValueError(step.kind)

    def draw(self, count: int) -> list[Step]:
        """The random part of a world: `count` steps."""
        draw = random.Random(self.seed * 7919 + 1)
        steps = []
        names = list(self.nodes)
        orders = list(self.orders)
        # Each world has a temperament of its own: how busy its people are, how slow its payment
        # system and its clock, how often its services crash. Races need every kind.
        weights = (draw.choice((8, 14, 20)), draw.choice((15, 30, 45)), draw.choice((1, 3, 5, 8)),
                   draw.choice((2, 4, 6)), draw.choice((2, 4, 6)), draw.choice((0, 0.4, 1.5)), draw.choice((1, 4)))
        # ...and each order's people theirs: the slow ones let deadlines pass while others act.
        attention = [draw.choice((0.15, 1, 1, 3)) for _ in orders]
        # ...and each service its pace: now and then one lags far behind the others (its consumer
        # group is slow), and acts on a state the others have long left.
        pace = [draw.choice((1, 1, 1, 0.15)) for _ in names]
        for n in range(count):
            kind = draw.choices(("act", "deliver", "pay", "tick", "fire", "crash", "rule"), weights)[0]
            if kind == "act":
                steps.append(Step(kind, n, draw.choices(orders, attention)[0]))
            elif kind == "deliver":
                steps.append(Step(kind, n, draw.choices(names, pace)[0], draw.randrange(3)))
            elif kind in ("fire", "crash"):
                steps.append(Step(kind, n, draw.choice(names)))
            else:
                steps.append(Step(kind, n))
        return steps

    # ---- the end: everything that waits is carried through ---------------------------------

    def settle(self, limit: int = 5000) -> None:
        """The payment system pays, arbitrators rule on what waits for them, operators retry what was
        parked, the parties make their last moves (the epilogue), then nobody acts any more: every
        record is read and every deadline fires, until nothing is left."""
        self.payments.reliable = True
        rng = random.Random(self.seed * 7919 + 2)
        for _ in range(limit):
            moved = False
            for node in self.nodes.values():
                for task in node.tasks:
                    while node.waiting(task):
                        node.process(task, node.take(task, rng, 50))
                        moved = True
            self.payments.read()
            while self.payments.answer_one():
                moved = True
            if moved:
                continue
            if self.epilogue > 0 and rng.random() < 0.5 and self._parties_act(rng):
                continue
            if self._platform_people_act(rng):
                continue
            due = [d for d in (n.next_due() for n in self.nodes.values()) if d is not None]
            if not due:
                return
            self.clock.to(min(due))
            for node in self.nodes.values():
                for task in node.tasks:
                    node.fire_due(task)
        self.checker.fail("settles", "the platform did not come to rest", "")

    def _parties_act(self, rng: random.Random) -> bool:
        """In the epilogue, one of the parties makes a move that fits where its dispute stands."""
        self.epilogue -= 1
        o = rng.choice(list(self.orders.values()))
        cmd = actors.act(rng, o)
        if cmd is None:
            return False
        self.send(cmd)
        return True

    def _platform_people_act(self, rng: random.Random) -> bool:
        acted = False
        for o in self.orders.values():
            for c in o.cases.values():
                if c.status == "awaiting_ruling" and self._try((c.case_id, len(c.ruled_by))):
                    cmd = actors.ruling(rng, o, c, plain=self.tries[(c.case_id, len(c.ruled_by))] > 3)
                    if cmd is not None:
                        self.send(cmd)
                        acted = True
            for cid in o.complaints:  # every complaint is decided (a refused decision is tried again)
                if self._try((cid, "decide")):
                    self.send(actors.decide_complaint(rng, cid, plain=self.tries[(cid, "decide")] > 3))
                    acted = True
            for r in o.refunds.values():
                if r.state == "payout_failed" and self._try((r.refund_id, "retry")):
                    self.send(Command("payout.retry", {"order_id": o.order_id, "refund_id": r.refund_id},
                                      "system", "ops"))
                    acted = True
        return acted

    def _try(self, what: tuple[str, Any], most: int = 12) -> bool:
        """An arbitrator whose ruling is refused rules again (a few times, then leaves it)."""
        self.tries[what] = self.tries.get(what, 0) + 1
        return self.tries[what] <= most


def play(seed: int, disputes: int = 3, count: int | None = None, steps: list[Step] | None = None,
         to_the_end: bool = False, long_share: float = 0.0) -> Outcome:
    """Play one world: its steps (drawn from the seed unless given), then settle, checking as it goes.
    It stops at the first broken invariant, unless `to_the_end` (to count every invariant it breaks).
    A `long_share` of worlds is three times longer: their disputes reach appeals and second
    requests five times as often, at about three times the cost per dispute."""
    long = random.Random(seed * 7919 + 5).random() < long_share
    world = World(seed, disputes, long)
    if steps is None and count is None:
        count = world.rng.randrange(400, 1500) if long else world.rng.randrange(40, 400)
    if steps is None:
        steps = world.draw(count)
    for o in world.orders.values():
        world.begin(o)
    shown: list[str] = []
    for step in steps:
        did = world.run(step)
        shown.append(did)
        world.checker.after_step()
        if world.checker.violations and not to_the_end:
            break
    if not world.checker.violations or to_the_end:
        world.settle()
        world.checker.at_rest()
    return Outcome(world.checker.violations, steps, shown, disputes)
