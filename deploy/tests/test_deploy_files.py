"""What deploy/ puts on a server, checked without a server: the systemd units (systemd's own
verifier and its security rating), nginx's configuration (nginx's own check), Tor's, the staff
device keys, and that the units serve the faces exactly as `make run` does."""

from __future__ import annotations

import base64
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from core.management.commands.serve import gunicorn_argv
from deploy.stack import DEPLOY, ROOT, SERVICES, map_paths, parse_unit, unit_values

UNITS = DEPLOY / "systemd"
# systemd-analyze security: "OK" or better is an exposure of at most 3.0 (of 10).
MOST_EXPOSURE = 3.0


def _tool(program: str) -> str:
    path = shutil.which(program)
    if path:
        return path
    reason = f"{program} is not installed: run `make deploy-deps` (scripts/install-deploy-deps)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}. CI must run the deploy tests, not skip them.", pytrace=False)
    pytest.skip(reason)


def _units_here(tmp_path: Path) -> Path:
    """The units with the release path pointing at this checkout, so that systemd finds the
    programs they name."""
    folder = tmp_path / "units"
    folder.mkdir()
    for unit in UNITS.iterdir():
        (folder / unit.name).write_text(unit.read_text().replace("/opt/safepassage/current", str(ROOT)))
    return folder


def test_systemd_verifies_every_unit(tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    folder = _units_here(tmp_path)
    units = sorted(str(path) for path in folder.iterdir())
    assert len(units) == 5
    verified = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == "", verified.stderr


def test_systemd_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    """The check above can fail: a unit naming a program that is not there is refused."""
    analyze = _tool("systemd-analyze")
    folder = _units_here(tmp_path)
    worker = folder / "safepassage-worker.service"
    worker.write_text(worker.read_text().replace(f"{ROOT}/.venv/bin/python", "/nonexistent/python"))
    verified = subprocess.run([analyze, "verify", str(worker)], capture_output=True, text=True, check=False)
    assert verified.returncode != 0 or "nonexistent" in verified.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_rated_ok_or_better_by_systemd(service: str, tmp_path: Path) -> None:
    analyze = _tool("systemd-analyze")
    unit = _units_here(tmp_path) / f"{service}.service"
    rated = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(unit)], capture_output=True, text=True, check=False
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", rated.stdout)
    assert found, rated.stdout[-2000:] + rated.stderr
    assert float(found.group(1)) <= MOST_EXPOSURE, rated.stdout
    assert found.group(2) in {"OK", "SAFE"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_sandboxed_and_keeps_no_core_dump(service: str) -> None:
    lines = parse_unit(UNITS / f"{service}.service")["Service"]
    settings = {key: value for key, value in lines}
    for key, value in {
        "User": "safepassage",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "NoNewPrivileges": "yes",
        "LimitCORE": "0",
        "CapabilityBoundingSet": "",
        "MemoryDenyWriteExecute": "yes",
    }.items():
        assert settings.get(key) == value, f"{service}: {key}={settings.get(key)!r}"
    assert "@system-service" in unit_values(UNITS / f"{service}.service", "Service", "SystemCallFilter")
    # Only the file store (and the worker's backups) may be written.
    writable = settings["ReadWritePaths"].split()
    assert set(writable) <= {"/var/lib/safepassage", "/var/backups/safepassage"}


def test_the_intake_may_open_no_network_socket_at_all() -> None:
    """It reaches PostgreSQL over the local socket and is reached over systemd's: a bug or an
    attacker in the intake cannot connect anywhere."""
    unit = UNITS / "safepassage-intake.service"
    assert unit_values(unit, "Service", "RestrictAddressFamilies") == ["AF_UNIX"]
    assert unit_values(unit, "Service", "IPAddressDeny") == ["any"]


@pytest.mark.parametrize("face", ["intake", "console"])
def test_the_units_serve_each_face_as_make_run_does(face: str) -> None:
    """Same application, worker class, threads, timeouts and logging as serve.py's command
    line; only the socket differs (systemd's, instead of a port)."""
    unit = UNITS / f"safepassage-{face}.service"
    from_unit = shlex.split(unit_values(unit, "Service", "ExecStart")[0])
    from_serve = gunicorn_argv(face, "http://127.0.0.1:8000", workers=2)
    bind = from_serve.index("--bind")
    del from_serve[bind : bind + 2]
    assert from_unit[0] == "/opt/safepassage/current/.venv/bin/python"
    assert from_unit[1:] == from_serve[1:]
    socket_unit = UNITS / f"safepassage-{face}.socket"
    assert unit_values(socket_unit, "Socket", "ListenStream") == [f"/run/safepassage/{face}.sock"]
    assert unit_values(socket_unit, "Socket", "SocketUser") == ["www-data"]
    assert unit_values(socket_unit, "Socket", "SocketMode") == ["0600"]
    assert f"Requires=safepassage-{face}.socket" in unit.read_text()


def test_nginx_accepts_its_configuration_with_and_without_the_clearnet_server(tmp_path: Path) -> None:
    nginx = _tool("nginx")
    openssl = _tool("openssl")
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=help.example.org",
         "-keyout", str(key), "-out", str(certificate)],
        capture_output=True, check=True,
    )  # fmt: skip
    included = tmp_path / "safepassage.d"
    included.mkdir()
    mapping = {
        "/etc/nginx/safepassage.d": str(included),
        "/var/lib/nginx": str(tmp_path / "nginx"),
        "/run/safepassage": str(tmp_path / "run"),
        "/run/nginx.pid": str(tmp_path / "nginx.pid"),
    }
    (tmp_path / "nginx").mkdir()
    conf = tmp_path / "nginx.conf"
    text = map_paths((DEPLOY / "nginx" / "nginx.conf.in").read_text(), mapping).replace("@BODY_MAX_BYTES@", "1000")
    conf.write_text(text.replace("user www-data;", ""))
    for clearnet in (False, True):
        if clearnet:
            server = (DEPLOY / "nginx" / "clearnet.conf.in").read_text()
            for placeholder, value in {
                "@DOMAIN@": "help.example.org",
                "@INTAKE_ONION@": "a" * 56 + ".onion",
                "@CERTIFICATE@": str(certificate),
                "@CERTIFICATE_KEY@": str(key),
            }.items():
                server = server.replace(placeholder, value)
            assert "@" not in server.replace("$request_uri", "")
            (included / "clearnet.conf").write_text(map_paths(server, mapping))
        checked = subprocess.run(
            [nginx, "-e", "stderr", "-t", "-q", "-c", str(conf), "-p", str(tmp_path)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stderr


def _directives(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_nginx_logs_no_visitor_writes_no_body_to_disk_and_passes_on_no_address() -> None:
    lines = _directives((DEPLOY / "nginx" / "nginx.conf.in").read_text())
    assert "access_log off;" in lines
    assert [line for line in lines if line.startswith("access_log")] == ["access_log off;"]
    assert "error_log stderr emerg;" in lines  # request-level errors name the client
    assert "proxy_request_buffering off;" in lines
    assert "proxy_max_temp_file_size 0;" in lines
    assert "client_max_body_size @BODY_MAX_BYTES@;" in lines
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        assert f'proxy_set_header {header} "";' in lines
    assert "gzip off;" in lines
    assert "server_tokens off;" in lines
    listens = [line for line in lines if line.startswith("listen")]
    assert listens == ["listen 127.0.0.1:8480 default_server;", "listen 127.0.0.1:8481 default_server;"]
    clearnet = _directives((DEPLOY / "nginx" / "clearnet.conf.in").read_text())
    assert "add_header Onion-Location http://@INTAKE_ONION@$request_uri always;" in clearnet
    assert not any("safepassage_console" in line for line in clearnet)  # the console is never on the clearnet


def test_tor_accepts_the_onion_services(tmp_path: Path) -> None:
    tor = _tool("tor")
    fragment = tmp_path / "safepassage.conf"
    fragment.write_text(map_paths((DEPLOY / "tor" / "safepassage.conf").read_text(), {"/var/lib/tor": str(tmp_path)}))
    torrc = tmp_path / "torrc"
    torrc.write_text(f"DataDirectory {tmp_path}/data\nSocksPort 0\nDisableNetwork 1\n%include {fragment}\n")
    checked = subprocess.run([tor, "--verify-config", "-f", str(torrc)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout[-2000:]
    text = (DEPLOY / "tor" / "safepassage.conf").read_text()
    assert "HiddenServicePort 80 127.0.0.1:8480" in text
    assert "HiddenServicePort 80 127.0.0.1:8481" in text


def _staff_device(tmp_path: Path, *args: str, recipient: str = "") -> subprocess.CompletedProcess[str]:
    (tmp_path / "safepassage.env").write_text(f"SP_BACKUP_RECIPIENT={recipient}\n" if recipient else "")
    if not (tmp_path / "safepassage-intake").exists():  # as Tor leaves it once it has started
        (tmp_path / "safepassage-intake").mkdir()
        (tmp_path / "safepassage-intake" / "hs_ed25519_secret_key").write_bytes(b"onion key")
    env = {
        "PATH": os.environ["PATH"],
        "SP_TOR_CONSOLE_DIR": str(tmp_path / "safepassage-console"),
        "SP_TOR_USER": subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip(),
        "SP_TOR_NO_RELOAD": "1",
        "SP_LOCK_FILE": str(tmp_path / "lock"),
        "SP_ENV_FILE": str(tmp_path / "safepassage.env"),
        "SP_ONION_KEYS_BACKUP": str(tmp_path / "onion-keys.age"),
    }
    return subprocess.run([str(DEPLOY / "staff-device"), *args], capture_output=True, text=True, env=env, check=False)


def _b32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def test_a_staff_device_key_is_a_matching_x25519_pair_in_tors_format(tmp_path: Path) -> None:
    _tool("openssl")
    added = _staff_device(tmp_path, "add", "marat-laptop")
    assert added.returncode == 0, added.stderr
    private = re.search(r"^\s+([A-Z2-7]{52})$", added.stdout, re.MULTILINE)
    assert private, added.stdout
    auth = (tmp_path / "safepassage-console" / "authorized_clients" / "marat-laptop.auth").read_text()
    public = re.fullmatch(r"descriptor:x25519:([A-Z2-7]{52})\n", auth)
    assert public, auth
    assert bytes(PrivateKey(_b32(private.group(1))).public_key) == _b32(public.group(1))
    assert oct((tmp_path / "safepassage-console" / "authorized_clients").stat().st_mode & 0o777) == "0o700"
    # The private half is printed, never written on the server.
    assert private.group(1) not in "".join(
        p.read_text() for p in (tmp_path / "safepassage-console").rglob("*") if p.is_file()
    )
    assert _staff_device(tmp_path, "list").stdout.split() == ["marat-laptop"]


def test_the_last_staff_device_is_never_removed_and_names_are_checked(tmp_path: Path) -> None:
    """With no key in authorized_clients Tor serves the console to anyone."""
    _tool("openssl")
    assert _staff_device(tmp_path, "add", "one").returncode == 0
    refused = _staff_device(tmp_path, "remove", "one")
    assert refused.returncode != 0 and "last device" in refused.stderr
    assert _staff_device(tmp_path, "add", "two").returncode == 0
    assert _staff_device(tmp_path, "add", "two").returncode != 0  # no silent replacement
    assert _staff_device(tmp_path, "remove", "one").returncode == 0
    assert _staff_device(tmp_path, "list").stdout.split() == ["two"]
    for bad in ("../etc", "Marat", "a b", ""):
        assert _staff_device(tmp_path, "add", bad).returncode != 0


def test_the_installer_installs_only_files_that_exist() -> None:
    install = (DEPLOY / "install").read_text()
    named = set(re.findall(r'"\$SOURCE/(deploy/[\w./-]+)"', install))
    assert len(named) >= 10
    for path in named:
        assert (ROOT / path).is_file(), path
    for unit in UNITS.iterdir():
        assert unit.name in install, f"deploy/install does not install {unit.name}"
    checked = subprocess.run(["bash", "-n", str(DEPLOY / "install")], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_a_key_file_tor_would_skip_does_not_count_as_a_device(tmp_path: Path) -> None:
    """Tor ignores a key file it cannot parse or read; if only such files were left it would
    serve the console to anyone. So the last usable key cannot be removed beside them."""
    _tool("openssl")
    assert _staff_device(tmp_path, "add", "one").returncode == 0
    clients = tmp_path / "safepassage-console" / "authorized_clients"
    (clients / "broken.auth").write_text("descriptor:x25519:NOT-A-KEY\n")
    refused = _staff_device(tmp_path, "remove", "one")
    assert refused.returncode != 0 and "last device" in refused.stderr
    assert (clients / "one.auth").exists()


def test_every_change_of_devices_rewrites_the_encrypted_copy_of_the_onion_keys(tmp_path: Path) -> None:
    """A restored copy must not bring back a device that was taken off."""
    _tool("openssl")
    _tool("age")
    import io
    import tarfile

    import pyrage

    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())

    def devices_in_backup() -> set[str]:
        plain = pyrage.decrypt((tmp_path / "onion-keys.age").read_bytes(), [identity])
        with tarfile.open(fileobj=io.BytesIO(plain)) as archive:
            return {Path(name).stem for name in archive.getnames() if name.endswith(".auth")}

    assert _staff_device(tmp_path, "add", "one", recipient=recipient).returncode == 0
    assert _staff_device(tmp_path, "add", "two", recipient=recipient).returncode == 0
    assert devices_in_backup() == {"one", "two"}
    assert _staff_device(tmp_path, "remove", "one", recipient=recipient).returncode == 0
    assert devices_in_backup() == {"two"}


def test_a_first_device_before_tor_ever_started_is_added_without_a_backup(tmp_path: Path) -> None:
    """deploy/install makes the first key before Tor has made the onion keys: nothing to back up
    yet, and that is no failure."""
    _tool("openssl")
    import pyrage

    recipient = str(pyrage.x25519.Identity.generate().to_public())
    _staff_device(tmp_path, "list")
    (tmp_path / "safepassage-intake" / "hs_ed25519_secret_key").unlink()
    added = _staff_device(tmp_path, "add", "first-device", recipient=recipient)
    assert added.returncode == 0, added.stderr
    assert not (tmp_path / "onion-keys.age").exists()
