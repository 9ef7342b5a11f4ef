"""The production stack of deploy/, started on loopback from its own files (`make smoke`).

What runs is read from the files deploy/install puts on a server, not written again here: each
service's ExecStart, Environment and EnvironmentFile lines come from deploy/systemd/, each
socket's path and mode from its .socket unit, nginx's configuration from deploy/nginx/, Tor's
from deploy/tor/. Only the places change: every path of the server layout (/opt/safepassage/
current, /etc/safepassage, /run/safepassage, /var/lib/nginx, /var/lib/tor, ...) is mapped into
a private folder, and nginx's two loopback ports to free ones, so the stack runs beside anything
else on the machine.

What cannot be had without systemd as PID 1 is said plainly: the sandboxing directives are not
applied here (deploy/tests run `systemd-analyze security` on them instead), the services run as
the user who runs this, and socket activation is done by this module the way systemd does it
(the socket is made first, with the unit's owner and mode, and handed over as file descriptor 3
with LISTEN_FDS and LISTEN_PID).

Plain Python: no Django import (the served processes import it; this module starts them).
"""

from __future__ import annotations

import os
import pwd
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
SERVICES = ("safepassage-intake", "safepassage-console", "safepassage-worker")
FACES = ("intake", "console")
# nginx's loopback ports in deploy/nginx/nginx.conf.in (Tor's HiddenServicePort targets).
NGINX_PORTS = {"intake": 8480, "console": 8481}


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file's sections, each a list of (key, value) in order: keys repeat
    (EnvironmentFile, SystemCallFilter), so this is not a dict of keys."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        if current is None or "=" not in line:
            raise ValueError(f"{path.name}: cannot read the line {raw!r}")
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def unit_values(path: Path, section: str, key: str) -> list[str]:
    return [value for k, value in parse_unit(path).get(section, []) if k == key]


def read_environment_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile format: KEY=value lines, # or ; comments, optional quotes."""
    env: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def unit_environment(path: Path, mapped: Mapping[str, str]) -> dict[str, str]:
    """Environment= then each EnvironmentFile=, later ones winning, as systemd builds it."""
    env: dict[str, str] = {}
    for key, value in parse_unit(path)["Service"]:
        if key == "Environment":
            for assignment in shlex.split(value):
                name, _, setting = assignment.partition("=")
                env[name] = setting
        elif key == "EnvironmentFile":
            optional = value.startswith("-")
            file = Path(map_paths(value.lstrip("-"), mapped))
            if file.exists() or not optional:
                env.update(read_environment_file(file))
    return env


def map_paths(text: str, mapped: Mapping[str, str]) -> str:
    """Every server path (and nginx port) of ``mapped`` replaced, longest first."""
    for server_path in sorted(mapped, key=len, reverse=True):
        text = text.replace(server_path, mapped[server_path])
    return text


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Layout:
    """Where each server path of deploy/ lives on this machine."""

    root: Path
    ports: dict[str, int]

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def state(self) -> Path:
        return self.root / "var-lib-safepassage"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def nginx(self) -> Path:
        return self.root / "nginx"

    @property
    def tor(self) -> Path:
        return self.root / "tor"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"  # each service's PrivateTmp=

    @property
    def logs(self) -> Path:
        return self.root / "logs"  # what the journal would hold: each process's stderr

    def mapping(self) -> dict[str, str]:
        return {
            "/opt/safepassage/current": str(ROOT),
            "/etc/safepassage": str(self.etc),
            "/var/lib/safepassage": str(self.state),
            "/var/backups/safepassage": str(self.backups),
            "/run/safepassage": str(self.run),
            "/run/nginx.pid": str(self.nginx / "nginx.pid"),
            "/var/lib/nginx": str(self.nginx),
            "/etc/nginx/safepassage.d": str(self.nginx / "safepassage.d"),
            "/var/lib/tor": str(self.tor),
            "/var/lib/safepassage-acme": str(self.nginx / "acme"),
            **{f"127.0.0.1:{NGINX_PORTS[face]}": f"127.0.0.1:{self.ports[face]}" for face in FACES},
        }

    def url(self, face: str) -> str:
        if face == "https":
            return f"https://localhost:{self.ports[face]}"
        """The face through nginx. "localhost", not an address: browsers take the Secure,
        __Host- cookies of production only from a secure context, which localhost is (as a
        .onion address is in Tor Browser)."""
        return f"http://localhost:{self.ports[face]}"


@dataclass
class Stack:
    layout: Layout
    env: dict[str, dict[str, str]]  # each service's environment, as its unit builds it
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log(self, name: str) -> str:
        path = self.layout.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def onion_hostname(self, face: str) -> str:
        return (self.layout.tor / f"safepassage-{face}" / "hostname").read_text().strip()

    def manage(self, *args: str, timeout: float = 120) -> str:
        """`safepassage-manage ARGS` (deploy/manage): the console's environment."""
        env = {**self.env["safepassage-worker"], "PATH": os.environ["PATH"], "HOME": str(self.layout.tmp)}
        completed = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "manage.py"), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{completed.stdout}\n{completed.stderr}")
        return completed.stdout


def _write_environment(
    layout: Layout, settings: Mapping[str, str], faces_hosts: Mapping[str, str], pepper: bytes | None
) -> None:
    """/etc/safepassage as deploy/install leaves it: the shipped safepassage.env with this
    machine's settings on top, addresses.env and each face's hosts."""
    layout.etc.mkdir(mode=0o750)
    secrets = layout.etc / "secrets"
    secrets.mkdir(mode=0o700)
    pepper_hex = (pepper or os.urandom(32)).hex()
    for name, value in (("django_secret_key", os.urandom(32).hex()), ("pepper", pepper_hex)):
        (secrets / name).write_text(value + "\n")
        (secrets / name).chmod(0o400)
    shipped = read_environment_file(DEPLOY / "safepassage.env")
    lines = [f"{key}={map_paths(value, layout.mapping())}" for key, value in {**shipped, **settings}.items()]
    (layout.etc / "safepassage.env").write_text("\n".join(lines) + "\n")
    (layout.etc / "addresses.env").write_text(
        f"SP_INTAKE_URL={layout.url('intake')}\nSP_CONSOLE_URL={layout.url('console')}\n"
    )
    for face in FACES:
        (layout.etc / f"{face}.env").write_text(f"SP_ALLOWED_HOSTS={faces_hosts[face]}\n")


def _render_nginx(layout: Layout, body_max_bytes: int) -> Path:
    text = (DEPLOY / "nginx" / "nginx.conf.in").read_text().replace("@BODY_MAX_BYTES@", str(body_max_bytes))
    text = map_paths(text, layout.mapping())
    # The master runs as whoever runs this; its workers as nginx's own user where there is one.
    if os.geteuid() != 0:
        text = text.replace("user www-data;", "")
    text = text.replace("pid ", "daemon off;\npid ", 1)
    # Request-level problems are not logged on a server (they name the client); here they are,
    # to catch nginx buffering a body or an answer to a temporary file.
    text = text.replace("error_log stderr emerg;", "error_log stderr warn;")
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "safepassage.d"):
        (layout.nginx / sub).mkdir(parents=True, exist_ok=True)
    # Debian's nginx was built with these temporary folders; none may be used.
    text = text.replace(
        "proxy_temp_path",
        f"fastcgi_temp_path {layout.nginx}/fastcgi;\n    uwsgi_temp_path {layout.nginx}/uwsgi;\n"
        f"    scgi_temp_path {layout.nginx}/scgi;\n    proxy_temp_path",
        1,
    )
    conf = layout.nginx / "nginx.conf"
    conf.write_text(text)
    return conf


def _render_clearnet(layout: Layout, intake_onion: str) -> None:
    """deploy/nginx/clearnet.conf.in as `deploy/install --clearnet-domain` writes it, for the
    name "localhost" with a certificate of its own (no certificate authority is reachable),
    on two free loopback ports instead of 80 and 443."""
    tls = layout.nginx / "tls"
    tls.mkdir(mode=0o700)
    certificate, key = tls / "fullchain.pem", tls / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(certificate)],
        capture_output=True, check=True,
    )  # fmt: skip
    text = (DEPLOY / "nginx" / "clearnet.conf.in").read_text()
    for placeholder, value in {
        "@DOMAIN@": "localhost",
        "@INTAKE_ONION@": intake_onion,
        "@CERTIFICATE@": str(certificate),
        "@CERTIFICATE_KEY@": str(key),
    }.items():
        text = text.replace(placeholder, value)
    text = "\n".join(line for line in text.splitlines() if "listen [::]:" not in line)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{layout.ports['http']};")
    text = text.replace("listen 443 ssl", f"listen 127.0.0.1:{layout.ports['https']} ssl")
    (layout.nginx / "safepassage.d" / "clearnet.conf").write_text(map_paths(text, layout.mapping()))


def _render_tor(layout: Layout) -> Path:
    """deploy/tor/safepassage.conf, included by a torrc with the network off: Tor still makes
    both services' keys and hostnames, and reads the console's client keys."""
    layout.tor.mkdir(mode=0o700)
    fragment = layout.tor / "safepassage.conf"
    fragment.write_text(map_paths((DEPLOY / "tor" / "safepassage.conf").read_text(), layout.mapping()))
    torrc = layout.tor / "torrc"
    torrc.write_text(
        f"DataDirectory {layout.tor}/data\nSocksPort 0\nDisableNetwork 1\nRunAsDaemon 0\n"
        f"Log info file {layout.logs}/tor.log\n%include {fragment}\n"
    )
    return torrc


def _listen_socket(socket_unit: Path, layout: Layout) -> socket.socket:
    """The socket systemd would make from a .socket unit: path, owner, mode."""
    path = Path(map_paths(unit_values(socket_unit, "Socket", "ListenStream")[0], layout.mapping()))
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileNotFoundError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(128)
    os.chmod(path, int(unit_values(socket_unit, "Socket", "SocketMode")[0], 8))
    owner = unit_values(socket_unit, "Socket", "SocketUser")[0]
    if os.geteuid() == 0:
        entry = pwd.getpwnam(owner)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return sock


def _start(
    argv: list[str], env: Mapping[str, str], log: Path, *, cwd: Path, listen: socket.socket | None = None
) -> subprocess.Popen[bytes]:
    if listen is not None:
        # LISTEN_PID must be the served process's own pid: the shell execs it, keeping its pid.
        argv = ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$@"', "sh", *argv]
        env = {**env, "LISTEN_FDS": "1"}
        fd = listen.fileno()

        def hand_over() -> None:
            os.dup2(fd, 3)
            os.set_inheritable(3, True)

        preexec = hand_over
    else:
        preexec = None
    with log.open("ab") as out:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=preexec,
            pass_fds=(3,) if listen is not None else (),
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals, grace: float = 20.0) -> None:
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_for_http(url: str, seconds: float = 60.0) -> None:
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", parts.port or 80, timeout=5)
            conn.request("GET", parts.path or "/")
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
            last = RuntimeError(f"{url} answered {status}")
        except OSError as error:
            last = error
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s: {last}")


def wait_for_file(path: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{path} did not appear within {seconds:.0f} s")


@contextmanager
def running_stack(
    root: Path,
    settings: Mapping[str, str],
    *,
    console_device_key: str | None = None,
    pepper: bytes | None = None,
    clearnet: bool = False,
) -> Iterator[Stack]:
    """Tor, the three services and nginx, started from deploy/'s files under ``root``.

    ``settings`` go into safepassage.env over the shipped defaults (the database, say).
    ``console_device_key``, an X25519 public key in Tor's base32, is put in the console's
    authorized_clients as deploy/staff-device would (so Tor reads a client key). ``pepper`` is
    the instance secret of a database migrated elsewhere (its rows are certified with it);
    otherwise a new one is made, as deploy/install does. ``clearnet`` adds the intake's https
    server (`layout.url("https")`) as `deploy/install --clearnet-domain` would."""
    root.chmod(0o755)  # nginx's workers reach the sockets through it
    layout = Layout(root, {name: free_port() for name in (*FACES, "http", "https", "recorder")})
    for folder in (layout.state, layout.backups, layout.run, layout.tmp, layout.logs):
        folder.mkdir(mode=0o755 if folder == layout.run else 0o700)
    hosts = {face: "127.0.0.1,localhost" for face in FACES}
    _write_environment(layout, settings, hosts, pepper)
    mapping = layout.mapping()
    env = {
        name: {
            **unit_environment(DEPLOY / "systemd" / f"{name}.service", mapping),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TMPDIR": str(layout.tmp),
            "HOME": str(layout.tmp),
        }
        for name in SERVICES
    }
    stack = Stack(layout, env)
    torrc = _render_tor(layout)
    if console_device_key is not None:
        clients = layout.tor / "safepassage-console" / "authorized_clients"
        clients.mkdir(parents=True, mode=0o700)
        (layout.tor / "safepassage-console").chmod(0o700)
        (clients / "smoke-device.auth").write_text(f"descriptor:x25519:{console_device_key}\n")
    sockets: list[socket.socket] = []
    try:
        stack.processes["tor"] = _start(
            ["tor", "-f", str(torrc)],
            {"PATH": env["safepassage-worker"]["PATH"]},
            layout.logs / "tor-stdout.log",
            cwd=root,
        )
        stack.manage("migrate", "--noinput")  # as deploy/install does before starting the services
        body_max = stack.manage(
            "shell", "-c", "from django.conf import settings; print(settings.SP_REQUEST_BODY_MAX_BYTES)"
        )
        conf = _render_nginx(layout, int(body_max.strip().splitlines()[-1]))
        for face in FACES:
            wait_for_file(layout.tor / f"safepassage-{face}" / "hostname")
        if clearnet:
            _render_clearnet(layout, stack.onion_hostname("intake"))
        for name in SERVICES:
            unit = DEPLOY / "systemd" / f"{name}.service"
            argv = shlex.split(map_paths(unit_values(unit, "Service", "ExecStart")[0], mapping))
            cwd = Path(map_paths(unit_values(unit, "Service", "WorkingDirectory")[0], mapping))
            listen = None
            socket_unit = DEPLOY / "systemd" / f"{name}.socket"
            if socket_unit.exists():
                listen = _listen_socket(socket_unit, layout)
                sockets.append(listen)
            stack.processes[name] = _start(argv, env[name], layout.logs / f"{name}.log", cwd=cwd, listen=listen)
        check = subprocess.run(
            ["nginx", "-e", "stderr", "-t", "-q", "-c", str(conf), "-p", str(layout.nginx)],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode:
            raise RuntimeError(f"nginx refuses the configuration:\n{check.stderr}")
        stack.processes["nginx"] = _start(
            ["nginx", "-e", "stderr", "-c", str(conf), "-p", str(layout.nginx)],
            {"PATH": env["safepassage-worker"]["PATH"]},
            layout.logs / "nginx.log",
            cwd=root,
        )
        for face in FACES:
            try:
                wait_for_http(layout.url(face) + "/")
            except RuntimeError as error:
                logs = "\n".join(f"--- {name}\n{stack.log(name)[-1500:]}" for name in ("nginx", f"safepassage-{face}"))
                raise RuntimeError(f"{error}\n{logs}") from None
            wait_for_file(layout.tor / f"safepassage-{face}" / "hostname")
        for name, process in stack.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} stopped at once:\n{stack.log(name)[-3000:]}")
        yield stack
    finally:
        stops = {"nginx": signal.SIGQUIT, "tor": signal.SIGTERM}
        for name in ("nginx", *SERVICES, "tor"):
            if name in stack.processes:
                _stop(stack.processes[name], stops.get(name, signal.SIGTERM))
        for sock in sockets:
            sock.close()
