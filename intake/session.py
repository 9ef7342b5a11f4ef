"""The person's login lives only in the session vault (see core/vault.py): the credential
id and the key pair derived from the codename, opened with the browser's cookie key."""

from __future__ import annotations

import json

from django.http import HttpRequest

import sealbox
from casework.models import PersonCredential
from casework.services import PersonSession, credential_usable
from core.vault import vault_get, vault_put

_PERSON = "person"
_PENDING_CODENAME = "pending_codename"


def person_session_start(request: HttpRequest, session: PersonSession) -> None:
    payload = {"credential": session.credential.pk, "key": session.keypair.private_key.hex()}
    vault_put(request, _PERSON, json.dumps(payload).encode())


def person_session(request: HttpRequest) -> PersonSession | None:
    raw = vault_get(request, _PERSON)
    if raw is None:
        return None
    payload = json.loads(raw)
    credential = (
        PersonCredential.objects.select_related("case")
        .filter(pk=payload["credential"], revoked_at__isnull=True)
        .first()
    )
    if credential is None or not credential_usable(credential):
        # Brought back from revoked, moved to another case or relabelled in the database.
        return None
    keypair = sealbox.KeyPair.from_private(bytes.fromhex(payload["key"]))
    return PersonSession(case=credential.case, credential=credential, keypair=keypair)


def pending_codename(request: HttpRequest) -> str | None:
    raw = vault_get(request, _PENDING_CODENAME)
    return raw.decode() if raw else None


def pending_codename_keep(request: HttpRequest, codename: str) -> None:
    vault_put(request, _PENDING_CODENAME, codename.encode())
