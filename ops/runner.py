"""`python -m ops.runner`: start the four services (and the payment simulator) against running
infrastructure, play the demo, follow the topics, and stop everything cleanly on Ctrl-C."""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from ops.launcher import make_system
from ops.reads import add_arbitrator
from sim.evidence import EvidenceStore

# Deadlines for watching a dispute at human speed (production defaults are hours and days).
DEMO_DEADLINES = {
    "AFTERSALE_SELLER_TIMEOUT_S": "20",
    "AFTERSALE_RETURN_SHIP_S": "120",
    "AFTERSALE_RETURN_CONFIRM_S": "120",
    "AFTERSALE_ESCALATION_WINDOW_S": "120",
    "AFTERSALE_RACE_GRACE_S": "5",
    "AFTERSALE_EVIDENCE_WINDOW_S": "8",
    "AFTERSALE_RULING_TARGET_S": "300",
    "AFTERSALE_APPEAL_WINDOW_S": "60",
    "AFTERSALE_OFFER_WINDOW_S": "120",
    "AFTERSALE_REMINDER_LEAD_S": "5",
    "AFTERSALE_PAYOUT_RETRY_BASE_S": "2",
    "AFTERSALE_TIMER_TICK_S": "0.5",
    "PAYSIM_DELAY_S": "0.5",
}


# Workbench accounts of the demo (a real deployment adds its own: `aftersale arbitrator add`).
DEMO_ARBITRATORS = (("xiaoer1", "小二一号", False), ("xiaoer2", "小二二号", False), ("zhuguan", "主管", True))
DEMO_PASSWORD = "aftersale-demo"
# Photos the demo's parties upload (served on loopback by a stand-in evidence store).
DEMO_PHOTOS = {"screen-dead-pixels.png": (30, 30, 30), "unboxing.png": (210, 180, 140),
               "factory-check.png": (60, 140, 200)}


class Stop(Exception):
    """SIGTERM (a service manager, `kill`, make passing it on): stop everything this started."""


def _on_term(*_: object) -> None:
    raise Stop()


def main() -> int:
    # Without this, SIGTERM ends the runner at once and leaves every process it started running.
    signal.signal(signal.SIGTERM, _on_term)
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--no-demo", action="store_true", help="only start the services")
    ap.add_argument("--no-follow", action="store_true", help="exit after the demo")
    ap.add_argument("--logs", default=os.path.expanduser("~/.cache/aftersale/state/dev/logs"))
    args = ap.parse_args()
    env = {k: os.environ.get(k, v) for k, v in DEMO_DEADLINES.items()}
    env["AFTERSALE_LOG_FORMAT"] = os.environ.get("AFTERSALE_LOG_FORMAT", "json")
    # The demo's supervisor is one the arbitration service lists too (case.assign is checked there).
    env["AFTERSALE_SUPERVISORS"] = os.environ.get(
        "AFTERSALE_SUPERVISORS", ",".join(a for a, _, supervisor in DEMO_ARBITRATORS if supervisor))
    system = make_system(env, Path(args.logs), ["refund", "seller", "arbitration", "notify", "paysim", "workbench"])
    print(f"[run] starting refund, seller, arbitration, notify, the payment simulator and the workbench; "
          f"logs in {args.logs}", file=sys.stderr)
    code = 0
    demo: subprocess.Popen[bytes] | None = None
    evidence = EvidenceStore(DEMO_PHOTOS)  # the demo's photos, so the workbench shows real ones
    evidence.thread.start()
    os.environ["AFTERSALE_DEMO_EVIDENCE"] = evidence.url("")
    try:
        for account_id, name, supervisor in DEMO_ARBITRATORS:
            asyncio.run(add_arbitrator(None, None, account_id, name, DEMO_PASSWORD, supervisor))
        system.start()
        for p in system.procs.values():
            print(f"[run] {p.name:<12} ready  http://127.0.0.1:{p.port}/health", file=sys.stderr)
        wb = system.procs["workbench"]
        print(f"[run] the arbitrators' workbench: http://127.0.0.1:{wb.port}/  (demo logins: "
              f"{', '.join(a for a, _, _ in DEMO_ARBITRATORS)}; password {DEMO_PASSWORD})", file=sys.stderr)
        if not args.no_demo:
            cmd = [sys.executable, "-m", "ops.demo"] + (["--no-follow"] if args.no_follow else [])
            demo = subprocess.Popen(cmd)
            code = demo.wait()
        elif not args.no_follow:
            signal.pause()
    except (KeyboardInterrupt, Stop):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the stop short
        if demo is not None and demo.poll() is None:
            demo.terminate()
            try:
                demo.wait(10)
            except subprocess.TimeoutExpired:
                demo.kill()
        print("\n[run] stopping the services ...", file=sys.stderr)
        system.stop()
        evidence.server.shutdown()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
