"""System check: contact digests must stay slow in production (vetting/digests.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

import sealbox

# Below this a guessed phone number costs too little (see docs/crypto.md, "Keyed hashes").
CONTACT_ARGON2_MINIMUM = sealbox.Argon2Params(time_cost=2, memory_kib=32 * 1024)


@register()
def check_contact_digest_cost(app_configs: Any, **kwargs: Any) -> list[Error]:
    params = settings.SP_CONTACT_ARGON2
    strong = (
        params.time_cost >= CONTACT_ARGON2_MINIMUM.time_cost and params.memory_kib >= CONTACT_ARGON2_MINIMUM.memory_kib
    )
    if strong or not settings.PRODUCTION:
        return []
    return [
        Error(
            "Contact digests are cheaper to guess than the production minimum.",
            hint=f"Set SP_CONTACT_ARGON2_TIME_COST>={CONTACT_ARGON2_MINIMUM.time_cost} and "
            f"SP_CONTACT_ARGON2_MEMORY_KIB>={CONTACT_ARGON2_MINIMUM.memory_kib}.",
            id="vetting.E001",
        )
    ]
