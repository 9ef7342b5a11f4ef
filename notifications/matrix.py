"""Telling a staff member through Matrix, as the organisation's bot account.

The member's preference holds either a room id (``!opaque:server``) the bot has been invited
to, or their own user id (``@name:server``) for a direct chat that the bot opens once and
remembers in its own ``m.direct`` account data on the homeserver (the standard place clients
keep direct chats), so the database holds nothing more than the encrypted address.

Not end-to-end encrypted, on purpose. matrix-nio without libolm cannot encrypt events, and
the notice carries nothing a captor could use: that a case needs attention, its public id and
a console link (the same text as the e-mail; see notifications.delivery.Notice). It is sent as
a plain ``m.notice`` (bots' messages, which clients do not answer), also into a room that has
encryption switched on: clients then mark that one event as not encrypted. What the
homeserver (and anyone who runs it) learns is metadata: that the bot wrote to that room or
person, when, and how often — the rhythm of new and duress cases. An organisation that minds
this runs its own homeserver.

Failures are raised, never swallowed, so the jobs worker retries with its backoff: transport
errors and timeouts come from aiohttp (nio's own retry loops are switched off), homeserver
refusals become MatrixRefused subclasses whose label names the kind and the HTTP status,
never the room or the server's message.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from nio import AsyncClient, AsyncClientConfig, ErrorResponse
from nio.api import RoomPreset

ROOM_ID = re.compile(r"^![A-Za-z0-9._~=+/-]+:[A-Za-z0-9.:\[\]-]+$")
USER_ID = re.compile(r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.:\[\]-]+$")
_MAX_ID_LENGTH = 255  # the Matrix specification's limit for room and user ids
_DIRECT = "m.direct"
# The room id is wrong, or the bot is not (and may not become) a member.
_UNREACHABLE = {"M_FORBIDDEN", "M_NOT_FOUND", "M_INVALID_PARAM", "M_BAD_JSON"}


class MatrixNotConfigured(RuntimeError):
    """A member chose Matrix but the bot account is not set up: retried, and logged."""


class MatrixRefused(RuntimeError):
    """The homeserver answered with an error. ``code`` is the HTTP status, which the job's
    error label shows; the Matrix error code is kept on ``errcode``; the server's message,
    which can quote the room, is dropped."""

    def __init__(self, errcode: str, status: int) -> None:
        super().__init__(errcode)
        self.errcode = errcode
        self.code = status


class MatrixRoomUnreachable(MatrixRefused):
    """The room does not exist, or the bot is not in it and may not join: the member's
    address is wrong (or the bot was removed). Someone has to fix the preference."""


class MatrixRateLimited(MatrixRefused):
    pass


@dataclass(frozen=True)
class BotAccount:
    homeserver: str
    user_id: str
    access_token: str
    timeout: float

    @classmethod
    def from_settings(cls) -> BotAccount:
        if not matrix_enabled() or matrix_problems():
            raise MatrixNotConfigured
        return cls(
            homeserver=settings.SP_MATRIX_HOMESERVER.rstrip("/"),
            user_id=settings.SP_MATRIX_USER_ID,
            access_token=settings.SP_MATRIX_ACCESS_TOKEN,
            timeout=float(settings.SP_MATRIX_TIMEOUT),
        )


def matrix_enabled() -> bool:
    """Matrix is on as soon as any of its settings is given (and then all must be right)."""
    return bool(settings.SP_MATRIX_HOMESERVER or settings.SP_MATRIX_USER_ID or settings.SP_MATRIX_ACCESS_TOKEN)


def matrix_problems() -> list[str]:
    """What is wrong with the Matrix settings, in words for the operator (empty: all good)."""
    problems = []
    url = settings.SP_MATRIX_HOMESERVER
    if not url:
        problems.append("SP_MATRIX_HOMESERVER is not set.")
    elif not (url.startswith("https://") or (url.startswith("http://") and is_loopback_url(url))):
        problems.append("SP_MATRIX_HOMESERVER must be an https:// address (plain http only to this machine).")
    if not USER_ID.match(settings.SP_MATRIX_USER_ID or ""):
        problems.append("SP_MATRIX_USER_ID must be the bot's full user id, like @hotline-bot:example.org.")
    if not settings.SP_MATRIX_ACCESS_TOKEN:
        problems.append("SP_MATRIX_ACCESS_TOKEN (or SP_MATRIX_ACCESS_TOKEN_FILE) is not set.")
    return problems


def is_loopback_url(url: str) -> bool:
    """Plain http would show the bot's token to anyone on the path; only a local relay may use it."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_matrix_address(address: str) -> bool:
    return len(address) <= _MAX_ID_LENGTH and bool(ROOM_ID.match(address) or USER_ID.match(address))


def send_matrix(address: str, text: str, *, transaction_id: str) -> None:
    """Post ``text`` as an m.notice to the room (or direct chat with the user) ``address``.

    ``transaction_id`` makes a resend after a crash the same event for the homeserver, so
    the member sees one notice, not two (Matrix de-duplicates by it per access token)."""
    asyncio.run(_send(BotAccount.from_settings(), address, text, transaction_id))


async def _send(bot: BotAccount, address: str, text: str, transaction_id: str) -> None:
    # nio retries timeouts and rate limits forever by default; here the job worker retries.
    config = AsyncClientConfig(
        max_limit_exceeded=0, max_timeouts=0, request_timeout=bot.timeout, encryption_enabled=False
    )
    client = AsyncClient(bot.homeserver, bot.user_id, config=config)
    client.access_token = bot.access_token
    client.user_id = bot.user_id  # set by nio only on a password login, which the bot never does
    try:
        room_id = address if address.startswith("!") else await _direct_room(client, address)
        await _post_notice(client, room_id, text, transaction_id)
    finally:
        await client.close()


async def _post_notice(client: AsyncClient, room_id: str, text: str, transaction_id: str) -> None:
    content = {"msgtype": "m.notice", "body": text}
    response = await client.room_send(room_id, "m.room.message", content, tx_id=transaction_id)
    if isinstance(response, ErrorResponse) and response.status_code == "M_FORBIDDEN":
        # Not in the room yet: the member invited the bot. Accept the invitation, then post.
        joined = await client.join(room_id)
        if isinstance(joined, ErrorResponse) and _status(joined) not in {401, 429} and 400 <= _status(joined) < 500:
            # No such room, or no invitation: the address is wrong, whatever the server's code.
            raise MatrixRoomUnreachable(joined.status_code or "", _status(joined))
        _raise_for(joined)
        response = await client.room_send(room_id, "m.room.message", content, tx_id=transaction_id)
    _raise_for(response)


async def _direct_room(client: AsyncClient, user_id: str) -> str:
    """The bot's direct chat with ``user_id``: the one it remembers, or a new one."""
    direct = await _account_data(client, _DIRECT)
    for room_id in direct.get(user_id, []):
        if await _user_is_in(client, room_id, user_id):
            return str(room_id)
    created = await client.room_create(is_direct=True, invite=[user_id], preset=RoomPreset.trusted_private_chat)
    _raise_for(created)
    direct[user_id] = [created.room_id, *direct.get(user_id, [])][:5]
    await _put_account_data(client, _DIRECT, direct)
    return str(created.room_id)


async def _user_is_in(client: AsyncClient, room_id: str, user_id: str) -> bool:
    state = await client.room_get_state_event(room_id, "m.room.member", user_id)
    if isinstance(state, ErrorResponse):
        if _status(state) in {403, 404}:
            return False  # the bot left, or the room is gone: open a new one
        _raise_for(state)  # anything else (rate limit, server error) must not open a second chat
    return state.content.get("membership") in {"join", "invite"}


async def _account_data(client: AsyncClient, kind: str) -> dict[str, list[str]]:
    status, body = await _raw(client, "GET", _account_data_path(client, kind))
    if status == 404:
        return {}
    _raise_for_status(status, body)
    return {str(user): [str(room) for room in rooms] for user, rooms in body.items() if isinstance(rooms, list)}


async def _put_account_data(client: AsyncClient, kind: str, data: dict[str, list[str]]) -> None:
    _raise_for_status(*await _raw(client, "PUT", _account_data_path(client, kind), data))


def _account_data_path(client: AsyncClient, kind: str) -> str:
    return f"/_matrix/client/v3/user/{quote(client.user_id, safe='')}/account_data/{quote(kind, safe='')}"


async def _raw(client: AsyncClient, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    """A call nio has no method for, with the bot's token and the same timeout."""
    headers = {"Authorization": f"Bearer {client.access_token}", "Content-Type": "application/json"}
    response = await client.send(method, path, json.dumps(body) if body is not None else None, headers=headers)
    try:
        payload = await response.json(content_type=None)
    finally:
        response.release()
    return response.status, payload if isinstance(payload, dict) else {}


def _raise_for_status(status: int, body: dict[str, Any]) -> None:
    """For the bot's own account data: no room is involved, so no error blames one."""
    if 200 <= status < 300:
        return
    errcode = str(body.get("errcode", ""))
    if errcode == "M_LIMIT_EXCEEDED" or status == 429:
        raise MatrixRateLimited(errcode, status)
    raise MatrixRefused(errcode, status)


def _status(response: ErrorResponse) -> int:
    return int(response.transport_response.status) if response.transport_response is not None else 0


def _raise_for(response: Any) -> None:
    if isinstance(response, ErrorResponse):
        _raise_for_error(response.status_code or "", _status(response))


def _raise_for_error(errcode: str, status: int) -> None:
    if errcode == "M_LIMIT_EXCEEDED" or status == 429:
        raise MatrixRateLimited(errcode, status)
    if errcode in _UNREACHABLE:
        raise MatrixRoomUnreachable(errcode, status)
    raise MatrixRefused(errcode, status)
