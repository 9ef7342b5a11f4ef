"""One real Synapse homeserver for the whole session (about three seconds to start), with
the organisation's bot and a staff member's own account registered on it; and a table of host
names for the webhook tests, so that none of them asks a real DNS server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from notifications.tests.synapse_server import Account, Homeserver


@dataclass
class MatrixWorld:
    server: Homeserver
    bot: Account
    staff: Account  # the caseworker's own Matrix account, read with their own client


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MatrixWorld]:
    server = Homeserver(Path(tmp_path_factory.mktemp("synapse")))
    server.start()
    try:
        yield MatrixWorld(server=server, bot=server.register("hotline-bot"), staff=server.register("caseworker"))
    finally:
        server.stop()


@pytest.fixture
def matrix(synapse: MatrixWorld, settings: Any) -> MatrixWorld:
    """The bot account configured as an operator would: homeserver, user id, token."""
    settings.SP_MATRIX_HOMESERVER = synapse.server.url
    settings.SP_MATRIX_USER_ID = synapse.bot.user_id
    settings.SP_MATRIX_ACCESS_TOKEN = synapse.bot.access_token
    settings.SP_MATRIX_TIMEOUT = 10
    return synapse


class HostTable:
    """Answers host-name lookups from a table and records them, so no test asks a real DNS
    server and a test can change what a name points to between two lookups."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(self.names[host])


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> HostTable:
    """Host names resolve from this table instead of the system resolver (IP literals and the
    address policy itself are untouched)."""
    from notifications import outbound

    table = HostTable()
    monkeypatch.setattr(outbound, "resolver", table)
    return table
