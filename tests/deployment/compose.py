"""docker-compose.yml as Compose resolves it, and the apache/kafka image's rule for its environment:
shared by the file's checks (test_compose.py) and its boot (test_compose_boot.py)."""
from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from pathlib import Path

import yaml

from tests.support.infra import ROOT


def env_file(example: str) -> str:
    """.env.example with every change-me placeholder replaced by a secret of its own."""
    return re.sub(r"change-me[\w-]*", lambda _: secrets.token_hex(12), example)


def resolve(into: Path, secrets_filled: bool = False, cluster: bool = False) -> dict:
    """`docker-compose config` of the project's file, with .env.example as its .env (secrets filled
    in when asked; with `cluster`, .env.cluster.example appended, as its comment says): every
    service with its environment, env_file merged, variables substituted. Only the services that
    `up` starts: a profile's are left out unless its profile is active, as Compose does."""
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose is needed to read the deployment (scripts/test.sh installs Debian's)"
    shutil.copy(ROOT / "docker-compose.yml", into / "docker-compose.yml")
    example = (ROOT / ".env.example").read_text()
    if cluster:
        example += (ROOT / ".env.cluster.example").read_text()
    (into / ".env").write_text(env_file(example) if secrets_filled else example)
    out = subprocess.run([exe, "config"], cwd=into, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    resolved = yaml.safe_load(out.stdout)
    active = {"cluster"} if cluster else set()
    resolved["services"] = {name: svc for name, svc in resolved["services"].items()
                            if not svc.get("profiles") or active & set(svc["profiles"])}
    return resolved


def broker_properties(env: dict) -> dict[str, str]:
    """The apache/kafka image's rule for its KAFKA_* environment: drop the prefix, lower-case,
    `___` -> `-`, `__` -> `_`, `_` -> `.` (its documentation, "Using environment variables")."""
    out = {}
    for k, v in env.items():
        if k.startswith("KAFKA_") and k != "KAFKA_HEAP_OPTS":
            name = k[len("KAFKA_"):].lower().replace("___", "-").replace("__", "\0").replace("_", ".")
            out[name.replace("\0", "_")] = str(v)
    return out
