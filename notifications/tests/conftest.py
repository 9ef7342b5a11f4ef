"""One real Synapse homeserver for the whole session (about three seconds to start), with
the organisation's bot and a staff member's own account registered on it."""

from __future__ import annotations

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
