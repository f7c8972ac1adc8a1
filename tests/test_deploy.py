"""The deployment files hold together without a Docker daemon: compose.yaml, the Dockerfile, veille.env.example,
.dockerignore and constraints.txt agree with the real command line, the settings model and pyproject.toml."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from sqlalchemy.engine import make_url

from veille.cli import build_parser
from veille.settings import documented

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE_TEXT = (ROOT / "compose.yaml").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
ENV_EXAMPLE = (ROOT / "veille.env.example").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LINUX_311 = {"python_version": "3.11", "python_full_version": "3.11.0", "sys_platform": "linux",
             "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64",
             "implementation_name": "cpython", "platform_python_implementation": "CPython", "extra": ""}


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's (INSTRUCTION, arguments) pairs, continuation lines joined."""
    text = re.sub(r"\\\n", " ", re.sub(r"^\s*#.*\n", "", DOCKERFILE, flags=re.M))
    return [(m[0].upper(), m[1].strip()) for m in re.findall(r"^(\w+)\s+(.*)$", text, re.M)]


def instruction(name: str) -> str:
    found = [args for inst, args in _instructions() if inst == name]
    assert len(found) == 1, f"{name}: {found}"
    return found[0]


def exec_form(arguments: str) -> list[str]:
    """A JSON-array ENTRYPOINT/CMD (the exec form: no shell between Docker and veille, so SIGTERM reaches it)."""
    value = json.loads(arguments)
    assert isinstance(value, list) and all(isinstance(a, str) for a in value), arguments
    return value


def _env_file(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _veille_services() -> dict[str, dict]:
    return {name: s for name, s in COMPOSE["services"].items() if s.get("build") or s.get("image") == "veille"}


def _command(service: dict) -> list[str]:
    command = service.get("command", exec_form(instruction("CMD")))
    return shlex.split(command) if isinstance(command, str) else list(command)


ENTRYPOINT = exec_form(instruction("ENTRYPOINT"))


def test_the_image_runs_veille_with_the_mounted_configuration():
    assert ENTRYPOINT[:1] == ["veille"]
    args = build_parser().parse_args([*ENTRYPOINT[1:], *exec_form(instruction("CMD"))])
    assert args.command == "run" and str(args.config) == "/config"


def test_each_service_command_parses_with_the_real_command_line():
    """The scheduler runs `veille run`, two workers `veille worker`, the site `veille serve` on every interface;
    each parses as the CLI reads it after the image's entrypoint (parsed, not run)."""
    services = _veille_services()
    assert set(services) == {"scheduler", "worker", "site"}, services
    parsed = {name: build_parser().parse_args([*ENTRYPOINT[1:], *_command(s)]) for name, s in services.items()}
    assert parsed["scheduler"].command == "run"
    assert parsed["worker"].command == "worker" and services["worker"]["deploy"]["replicas"] == 2
    assert parsed["site"].command == "serve" and parsed["site"].host == "0.0.0.0"
    for args in parsed.values():
        assert str(args.config) == "/config"
    # the port the site listens on is the one published, exposed and health-checked
    port = parsed["site"].port
    assert any(str(p).endswith(f":{port}") for p in services["site"]["ports"])
    assert str(port) in instruction("EXPOSE").split()
    assert f"127.0.0.1:{port}/healthz" in instruction("HEALTHCHECK")


def test_a_service_command_that_the_cli_refuses_would_be_caught():
    """The check above has teeth: a misspelt command or option does not parse."""
    for wrong in (["serve", "--hots", "0.0.0.0"], ["runn"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args([*ENTRYPOINT[1:], *wrong])


def test_every_veille_variable_named_by_the_deployment_is_a_setting():
    settings = documented()
    for name, text in (("compose.yaml", COMPOSE_TEXT), ("veille.env.example", ENV_EXAMPLE), ("Dockerfile", DOCKERFILE)):
        named = set(re.findall(r"\bVEILLE_[A-Z0-9_]+", text))
        assert named, name
        assert named <= set(settings), f"{name}: {sorted(named - set(settings))} are not settings"


def test_both_veille_services_read_the_one_env_file_with_the_site_secrets():
    """The scheduler signs the sign-in links of member digests: it needs VEILLE_SITE_URL and VEILLE_SITE_SECRET
    as much as the site, so both read the same file, which names them."""
    for name, service in _veille_services().items():
        files = service["env_file"]
        assert (files if isinstance(files, list) else [files]) == ["veille.env"], name
    example = _env_file(ENV_EXAMPLE)
    for name in ("VEILLE_SITE_URL", "VEILLE_SITE_SECRET", "VEILLE_SITE_PASSWORD", "VEILLE_SMTP_PASSWORD"):
        assert name in example, name
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "veille.env" in ignored


def test_the_env_example_holds_no_secret():
    """Every password and secret is left empty (an empty value counts as unset: the site refuses to start, the
    database refuses to initialise), never a value someone could deploy as is."""
    example = _env_file(ENV_EXAMPLE)
    secrets = {k: v for k, v in example.items() if re.search(r"PASSWORD|SECRET", k)}
    assert secrets and all(v == "" for v in secrets.values()), secrets


def test_the_veille_services_use_the_postgresql_service_and_wait_for_it():
    services = COMPOSE["services"]
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in db["healthcheck"]["test"]
    for name, service in _veille_services().items():
        assert service["depends_on"]["db"]["condition"] == "service_healthy", name
        url = make_url(service["environment"]["VEILLE_DB"])
        assert url.drivername == "postgresql+psycopg", name
        assert (url.host, url.username, url.database) == ("db", db["environment"]["POSTGRES_USER"],
                                                          db["environment"]["POSTGRES_DB"]), name
        assert url.password is None, "the password stays in veille.env (PGPASSWORD)"
    example = _env_file(ENV_EXAMPLE)
    assert "POSTGRES_PASSWORD" in example and "PGPASSWORD" in example


def test_the_health_check_asks_healthz_without_curl():
    check = instruction("HEALTHCHECK")
    command = exec_form(check.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"]
    assert urlsplit(re.search(r"'(http://[^']+)'", command[2])[1]).path == "/healthz"
    assert _veille_services()["scheduler"]["healthcheck"] == {"disable": True}  # `veille run` serves no HTTP


def _pins() -> dict[str, Version]:
    lines = (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pins = {}
    for line in lines:
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not NAME==VERSION"
            pins[canonicalize_name(name)] = Version(version)
    return pins


def _runtime_requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    return [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["postgres"]]]


def test_the_image_installs_with_the_constraints():
    copied = [args.split()[:-1] for inst, args in _instructions() if inst == "COPY"]
    assert any("constraints.txt" in sources for sources in copied), copied
    assert "pip install --no-cache-dir -c constraints.txt '.[postgres]'" in instruction("RUN")


def test_constraints_pin_every_dependency_within_pyproject_bounds():
    """Each runtime dependency (the postgres extra included, psycopg's binary too) is pinned to a version that
    pyproject.toml accepts: a raised lower bound, or a stale file, fails here until `make constraints`."""
    pins = _pins()
    for requirement in _runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {name}=={pins[name]}, pyproject.toml asks {requirement}"
    assert pins["psycopg-binary"] == pins["psycopg"]  # psycopg[binary] asks for the same version of both


def test_constraints_pin_what_the_dependencies_need():
    """Every distribution that the runtime dependencies pull in (as installed here, for Python 3.11 on Linux) is
    pinned too: nothing floats in the image."""
    from importlib.metadata import PackageNotFoundError, requires

    pins = _pins()
    missing, seen = set(), set()
    todo = _runtime_requirements()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        key = (name, tuple(sorted(requirement.extras)))
        if key in seen:
            continue
        seen.add(key)
        if name not in pins:
            missing.add(name)
        try:
            needs = [Requirement(text) for text in requires(requirement.name) or []]
        except PackageNotFoundError:  # not installed here: its own needs cannot be read
            continue
        for need in needs:
            if need.marker is None or any(need.marker.evaluate({**LINUX_311, "extra": extra})
                                          for extra in ("", *requirement.extras)):
                todo.append(need)
    assert not missing, f"not pinned in constraints.txt: {sorted(missing)} (run `make constraints`)"


def _dockerignore_regexes() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = line.removeprefix("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        rules.append((keep, re.compile(regex.replace(r"\?", "[^/]") + "$")))
    return rules


def _ignored(path: str) -> bool:
    """Whether Docker leaves `path` out of the build context (its rules: the last matching line wins; a
    folder left out takes its contents with it)."""
    parts = path.split("/")
    ignored = False
    for keep, regex in _dockerignore_regexes():
        if any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            ignored = not keep
    return ignored


def test_dockerignore_leaves_out_what_a_checkout_holds_after_make_demo():
    for path in (".venv/bin/python", "veille.db", "reports/demo/veille.db", "reports/2026-W46/digest.html",
                 "test-output/x.png", ".git/HEAD", ".pytest_cache/v", ".mypy_cache/3.11/x.json",
                 "veille/__pycache__/cli.cpython-311.pyc", "veille.env", "veille.db-wal"):
        assert _ignored(path), path
    for path in ("pyproject.toml", "README.md", "constraints.txt", "veille/cli.py", "veille/web/templates/base.html.j2",
                 "sources.yaml", "members.yaml"):
        assert not _ignored(path), path


def test_every_file_the_dockerfile_copies_is_in_the_build_context():
    for inst, args in _instructions():
        if inst == "COPY":
            for source in args.split()[:-1]:
                assert (ROOT / source).exists() and not _ignored(source), source
