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
from sealbox.certificates import ROW_CERTIFICATE_KEY_PURPOSE, row_certificate, row_certificate_valid
from sealbox.codenames import (
    CODENAME_WORDS,
    InvalidCodename,
    codename_entropy_bits,
    codename_language,
    danger_word_candidates,
    generate_codename,
    in_wordlist,
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
from sealbox.padding import bucket, padded_record_size
from sealbox.recovery import decode_recovery_key, encode_recovery_key
from sealbox.signing import (
    BOX_CERTIFICATE_KEY_PURPOSE,
    CERTIFICATE_KEY_PURPOSE,
    LEGACY_TAG_KEY_PURPOSE,
    MESSAGE_TAG_KEY_PURPOSE,
    SigningKeyPair,
    box_key_certificate,
    box_key_certificate_valid,
    key_certificate,
    key_certificate_valid,
    message_statement,
    message_tag,
    message_tag_valid,
    server_subkey,
    sign,
    sign_off_statement,
    signature_valid,
)
from sealbox.stream import StreamError, StreamReader, StreamWriter, decrypt_stream, encrypt_stream, stream_size

__all__ = [
    "BOX_CERTIFICATE_KEY_PURPOSE",
    "CERTIFICATE_KEY_PURPOSE",
    "CODENAME_WORDS",
    "KEY_BYTES",
    "LEGACY_TAG_KEY_PURPOSE",
    "MESSAGE_TAG_KEY_PURPOSE",
    "PRODUCTION_ARGON2",
    "ROW_CERTIFICATE_KEY_PURPOSE",
    "Argon2Params",
    "CodenameSecrets",
    "CryptoError",
    "InvalidCodename",
    "KeyPair",
    "SigningKeyPair",
    "StreamError",
    "StreamReader",
    "StreamWriter",
    "box_key_certificate",
    "box_key_certificate_valid",
    "bucket",
    "codename_entropy_bits",
    "codename_language",
    "context",
    "danger_word_candidates",
    "decode_recovery_key",
    "decrypt",
    "decrypt_stream",
    "derive_codename_secrets",
    "derive_password_key",
    "encode_recovery_key",
    "encrypt",
    "encrypt_stream",
    "generate_codename",
    "in_wordlist",
    "key_certificate",
    "key_certificate_valid",
    "message_statement",
    "message_tag",
    "message_tag_valid",
    "normalise_codename",
    "padded_record_size",
    "random_key",
    "row_certificate",
    "row_certificate_valid",
    "seal",
    "server_subkey",
    "sign",
    "sign_off_statement",
    "signature_valid",
    "stream_size",
    "unseal",
    "wordlist",
]
