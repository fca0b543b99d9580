"""The container image's build, checked where no container engine runs (docs/operating.md#containers): the
Dockerfile's structure, the compose file's commands, and the Dockerfile's own steps run in a clean
virtualenv (build the wheel, install it, `roomlink --help`)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import venv
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "ops" / "Dockerfile"
COMPOSE = ROOT / "ops" / "compose.yaml"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(index for index, (name, _) in enumerate(steps) if name == "FROM")
    return steps[last_from:]


def test_the_image_runs_roomlink_as_an_unprivileged_user_with_a_health_check():
    stage = final_stage()
    names = [name for name, _ in stage]
    users = [value for name, value in stage if name == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert names.index("USER") < names.index("ENTRYPOINT")
    (health,) = [value for name, value in stage if name == "HEALTHCHECK"]
    assert "/healthz" in health and "CMD" in health
    (entrypoint,) = [json.loads(value) for name, value in stage if name == "ENTRYPOINT"]
    (command,) = [json.loads(value) for name, value in stage if name == "CMD"]
    assert entrypoint == ["roomlink"] and command == ["serve"]
    # Built from the wheel: the final stage installs a wheel and copies no source tree.
    assert any(name == "RUN" and "pip install" in value and ".whl" in value for name, value in stage)
    assert not any(name == "COPY" and "--from" not in value for name, value in stage)


def test_every_path_the_build_copies_exists():
    for name, value in instructions():
        if name == "COPY" and "--from" not in value:
            *sources, _ = value.split()
            for source in sources:
                assert (ROOT / source).exists(), source


def roomlink_commands() -> set[str]:
    from server import cli

    help_text = subprocess.run([sys.executable, "-m", "server.cli", "--help"], capture_output=True, text=True).stdout
    assert cli.__doc__
    return set(re.search(r"\{([a-z,-]+)\}", help_text).group(1).split(","))


def test_the_compose_file_runs_the_topology_with_real_roomlink_commands():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    commands = roomlink_commands()
    assert {"serve", "worker", "migrate", "zoom-sandbox"} <= commands
    roomlink = {name: service for name, service in services.items() if service.get("image") == "roomlink"}
    ran = {(service.get("command") or ["serve"])[0] for service in roomlink.values()}
    assert ran <= commands and {"serve", "worker", "migrate", "zoom-sandbox"} <= ran
    counted = [(service.get("command") or ["serve"])[0] for service in roomlink.values()]
    assert counted.count("serve") == 2 and counted.count("worker") == 2
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    for name, service in services.items():
        needs = service.get("depends_on") or {}
        assert name not in needs and set(needs) <= set(services), (name, needs)
    assert any("postgres" in service.get("image", "") for service in services.values())
    for name, service in roomlink.items():
        if (service.get("command") or ["serve"])[0] == "serve":
            assert "@pgbouncer:" in service["environment"]["DATABASE_URL"], name
            assert service["environment"]["ROOMLINK_TRUSTED_PROXIES"], name


def test_the_dockerfiles_build_steps_work_in_a_clean_virtualenv(tmp_path):
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("roomlink-*.whl")
    clean = tmp_path / "venv"
    venv.create(clean, with_pip=True)
    installed = subprocess.run([str(clean / "bin" / "pip"), "install", "--quiet", str(wheel)], capture_output=True,
                               text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    # Run from elsewhere, so nothing of the source tree is on the path: only the installed wheel.
    answered = subprocess.run([str(clean / "bin" / "roomlink"), "--help"], capture_output=True, text=True, cwd=tmp_path,
                              timeout=60)
    assert answered.returncode == 0, answered.stderr
    for command in ("serve", "worker", "migrate"):
        assert command in answered.stdout
    # The wheel carries the pages' templates and static files, which the image's pages need.
    listed = subprocess.run([str(clean / "bin" / "python"), "-c",
                             "import importlib.resources as r; print(sorted(p.name for p in r.files('server.ui')"
                             ".joinpath('templates').iterdir()))"], capture_output=True, text=True, cwd=tmp_path)
    assert "base.html" in listed.stdout, listed.stderr
