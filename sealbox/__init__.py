"""Safe Passage's cryptographic core.

Plain Python on libsodium (PyNaCl) and Argon2 (argon2-cffi). It must never import Django:
a test enforces that, so the core stays usable from the command line and a notebook and
cannot reach the database, the settings or the request by accident.

Formats and derivations are documented in docs/crypto.md.
"""

from sealbox.boxes import (
    KEY_BYTES,
    CryptoError,
    KeyPair,
    context,
    decrypt,
    encrypt,
    random_key,
    seal,
    unseal,
)
from sealbox.codenames import (
    CODENAME_WORDS,
    InvalidCodename,
    codename_entropy_bits,
    generate_codename,
    normalise_codename,
    wordlist,
)
from sealbox.kdf import (
    PRODUCTION_ARGON2,
    Argon2Params,
    CodenameSecrets,
    derive_codename_secrets,
    derive_password_key,
)
from sealbox.recovery import decode_recovery_key, encode_recovery_key
from sealbox.stream import StreamError, StreamReader, StreamWriter, decrypt_stream, encrypt_stream

__all__ = [
    "CODENAME_WORDS",
    "KEY_BYTES",
    "PRODUCTION_ARGON2",
    "Argon2Params",
    "CodenameSecrets",
    "CryptoError",
    "InvalidCodename",
    "KeyPair",
    "StreamError",
    "StreamReader",
    "StreamWriter",
    "codename_entropy_bits",
    "context",
    "decode_recovery_key",
    "decrypt",
    "decrypt_stream",
    "derive_codename_secrets",
    "derive_password_key",
    "encode_recovery_key",
    "encrypt",
    "encrypt_stream",
    "generate_codename",
    "normalise_codename",
    "random_key",
    "seal",
    "unseal",
    "wordlist",
]
