"""docker-compose.yml boots: the broker from the image's rules for its environment, the setup job's
script unchanged, the topics job, PostgreSQL with its logins and FerretDB, the four services, the workbench and the payment simulator with
the environment compose gives them, each healthcheck command run against its part, and one
dispute paid through it all. No container engine here: tests/deployment/compose_boot.py runs the
parts in private network and mount namespaces, and says what it cannot check."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.deployment.compose import resolve
from tests.support.infra import ROOT


def test_what_compose_names_boots_and_pays_a_dispute(tmp_path: Path) -> None:
    resolved = resolve(tmp_path, secrets_filled=True)
    (tmp_path / "resolved.json").write_text(json.dumps(resolved))
    found = tmp_path / "result.json"
    try:
        out = subprocess.run(["unshare", "--net", "--mount", "--fork", sys.executable, "-m",
                              "tests.deployment.compose_boot", str(tmp_path)],
                             cwd=ROOT, capture_output=True, text=True, timeout=900)
    finally:
        result = json.loads(found.read_text()) if found.exists() else {}
        for made in result.get("made", []):
            shutil.rmtree(made, ignore_errors=True)  # the empty mount points it had to make
    assert result, out.stdout[-2000:] + out.stderr[-3000:]
    assert "failed" not in result, json.dumps(result, ensure_ascii=False, indent=1)[-4000:]
    assert {name: step["exit"] for name, step in result["steps"].items()} == {"kafka-setup": 0, "topics": 0}
    assert {name for name, h in result["healthchecks"].items() if h["passed"]} == {
        "kafka", "kafka-setup", "topics", "postgres", "refund", "seller", "arbitration", "notify", "workbench"}
    assert set(result["healthchecks"]) | set(result["not_checked"]) == set(resolved["services"])
    assert result["dispute"]["ok"] and result["dispute"]["amount_fen"] == 12900, result["dispute"]
    assert result["initdb"] == ["10-id-lookups.sql", "20-users.sh"]
    # The refund service's view writer reads its own events (its ACLs): the dispute is in its query model.
    assert result["refund_query_model"]["order"] and result["refund_query_model"]["history"] >= 4, result

    # Each login: its own database, what it reads, nothing else; no login, nothing.
    allowed = {"refund reads refund", "workbench reads arbitration", "workbench reads seller", "ops reads refund"}
    logins = result["logins"]
    assert {k for k, v in logins.items() if v == "allowed"} == allowed, logins
    refused = {k: v for k, v in logins.items() if k not in allowed}
    assert all(v.startswith("refused") and ("permission denied" in v or "authentication failed" in v)
               for v in refused.values()), logins
