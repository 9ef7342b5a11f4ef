"""A real Synapse homeserver for the Matrix notification tests, on a free loopback port.

The configuration is written here rather than generated (``--generate-config`` is slow and
writes much we would switch off anyway). It is closed to the world: one client listener on
127.0.0.1, SQLite in a temporary folder, no federation listener and no federation peers,
no trusted key servers, no URL previews, no usage statistics, no metrics, no identity
server, no push gateway. Users are made through the admin register API with the shared
secret, as an operator would make the organisation's bot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVER_NAME = "hotline.test"
_STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(folder: Path, port: int, shared_secret: str) -> dict[str, Any]:
    generous = {"per_second": 1000, "burst_count": 1000}
    return {
        "server_name": SERVER_NAME,
        "pid_file": str(folder / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}},
        "log_config": str(folder / "log.yaml"),
        "media_store_path": str(folder / "media"),
        "signing_key_path": str(folder / "signing.key"),
        "registration_shared_secret": shared_secret,
        "enable_registration": False,
        "macaroon_secret_key": secrets.token_hex(32),
        "form_secret": secrets.token_hex(32),
        # Nothing leaves the machine.
        "report_stats": False,
        "enable_metrics": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "url_preview_enabled": False,
        "include_profile_data_on_invite": False,
        "presence": {"enabled": False},
        "user_directory": {"enabled": False},
        "push": {"enabled": False},
        "update_user_directory_from_worker": None,
        # A test reads right after the bot writes: no cached /sync answers.
        "caches": {"sync_response_cache_duration": 0},
        "rc_message": generous,
        "rc_registration": generous,
        "rc_login": {"address": generous, "account": generous, "failed_attempts": generous},
        "rc_joins": {"local": generous, "remote": generous},
        "rc_invites": {"per_room": generous, "per_user": generous, "per_issuer": generous},
        "rc_admin_redaction": generous,
    }


_LOG_CONFIG = """\
version: 1
formatters:
  plain:
    format: "%(asctime)s %(name)s %(levelname)s %(message)s"
handlers:
  file:
    class: logging.FileHandler
    filename: {path}
    formatter: plain
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


class HomeserverFailed(RuntimeError):
    pass


@dataclass
class Account:
    user_id: str
    access_token: str


@dataclass
class Homeserver:
    folder: Path
    port: int = field(default_factory=free_port)
    shared_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    process: subprocess.Popen[bytes] | None = None
    _output: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write_signing_key()
        (self.folder / "log.yaml").write_text(_LOG_CONFIG.format(path=self.folder / "homeserver.log"))
        config = self.folder / "homeserver.yaml"
        # JSON is YAML: no YAML writer needed.
        config.write_text(json.dumps(_config(self.folder, self.port, self.shared_secret), indent=1))
        self._output = (self.folder / "stdout.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "--config-path", str(config)],
            cwd=self.folder,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    def _write_signing_key(self) -> None:
        from signedjson.key import generate_signing_key, write_signing_keys

        with (self.folder / "signing.key").open("w") as handle:
            write_signing_keys(handle, [generate_signing_key("a_test")])

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + _STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise HomeserverFailed(self.log_tail())
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise HomeserverFailed("Synapse did not start in time:\n" + self.log_tail())

    def log_tail(self) -> str:
        parts = []
        for name in ("stdout.log", "homeserver.log"):
            path = self.folder / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        self._output.close()

    # --- the client-server API, as an operator or a staff member's own client would use it ---

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, token: str = "") -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310  (loopback only)
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return dict(json.loads(response.read() or b"{}"))

    def register(self, localpart: str, *, admin: bool = False) -> Account:
        """The admin register API: a nonce, then an HMAC over it with the shared secret."""
        nonce = self.call("GET", "/_synapse/admin/v1/register")["nonce"]
        password = secrets.token_hex(16)
        message = b"\x00".join(
            [nonce.encode(), localpart.encode(), password.encode(), b"admin" if admin else b"notadmin"]
        )
        mac = hmac.new(self.shared_secret.encode(), message, hashlib.sha1).hexdigest()
        reply = self.call(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac},
        )
        return Account(user_id=reply["user_id"], access_token=reply["access_token"])

    def create_room(self, owner: Account, *, invite: list[str], encrypted: bool = False) -> str:
        body: dict[str, Any] = {"preset": "private_chat", "invite": invite}
        if encrypted:
            body["initial_state"] = [
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            ]
        return str(self.call("POST", "/_matrix/client/v3/createRoom", body, owner.access_token)["room_id"])

    def join(self, account: Account, room_id: str) -> None:
        self.call("POST", f"/_matrix/client/v3/join/{urllib.parse.quote(room_id)}", {}, account.access_token)

    def invites(self, account: Account) -> list[str]:
        sync = self.call("GET", "/_matrix/client/v3/sync?timeout=0", token=account.access_token)
        return sorted(sync.get("rooms", {}).get("invite", {}))

    def joined_rooms(self, account: Account) -> list[str]:
        return sorted(self.call("GET", "/_matrix/client/v3/joined_rooms", token=account.access_token)["joined_rooms"])

    def messages(self, reader: Account, room_id: str) -> list[dict[str, Any]]:
        """The room's m.room.message events, oldest first, as the reader's client sees them."""
        path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}/messages?dir=b&limit=100"
        chunk = self.call("GET", path, token=reader.access_token)["chunk"]
        return [event for event in reversed(chunk) if event["type"] == "m.room.message"]
