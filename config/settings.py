"""Settings for both faces. Everything comes from the environment (see config/env.py).

SP_ENV selects the posture: ``development`` (default: var/ on this machine, localhost only),
``test`` (cheap Argon2, used by the test suite) or ``production`` (fails closed: every secret
and host must be given, or start-up raises ImproperlyConfigured).
SP_FACE selects the face this process serves: ``intake`` or ``console``.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import dev_secret, env_amounts, env_bool, env_int, env_list, env_path, env_secret, env_str
from sealbox import PRODUCTION_ARGON2, Argon2Params

BASE_DIR = Path(__file__).resolve().parent.parent
SP_ENV = env_str("SP_ENV", "development")
if SP_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("SP_ENV must be development, test or production")
PRODUCTION = SP_ENV == "production"
SP_FACE = env_str("SP_FACE", "console")
if SP_FACE not in {"intake", "console"}:
    raise ImproperlyConfigured("SP_FACE must be intake or console")
VAR_DIR = env_path("SP_VAR_DIR", BASE_DIR / "var")


def _secret(name: str, dev_file: str) -> str:
    value = env_secret(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) must be set in production")
    return dev_secret(VAR_DIR / "secrets" / dev_file)


SECRET_KEY = _secret("SP_SECRET_KEY", "django_secret_key")
# The instance secret (pepper) for codename derivation. It never enters the database.
_pepper_hex = _secret("SP_PEPPER", "pepper")
try:
    SP_PEPPER = bytes.fromhex(_pepper_hex)
except ValueError:
    raise ImproperlyConfigured("SP_PEPPER must be hexadecimal (64 characters or more)") from None
if len(SP_PEPPER) < 32:
    raise ImproperlyConfigured("SP_PEPPER must hold at least 32 bytes (64 hex characters)")

SP_ARGON2 = Argon2Params(
    time_cost=env_int("SP_ARGON2_TIME_COST", PRODUCTION_ARGON2.time_cost, minimum=1),
    memory_kib=env_int("SP_ARGON2_MEMORY_KIB", PRODUCTION_ARGON2.memory_kib, minimum=8),
)
# Contact and red-flag identifier digests (vetting/digests.py): one Argon2id per hash, so each
# guessed phone number costs a derivation to whoever holds the database and the pepper. t=2 and
# 48 MiB took about 85 ms per hash on the reference machine; every intake hashes one or two.
SP_CONTACT_ARGON2 = Argon2Params(
    time_cost=env_int("SP_CONTACT_ARGON2_TIME_COST", 2, minimum=1),
    memory_kib=env_int("SP_CONTACT_ARGON2_MEMORY_KIB", 48 * 1024, minimum=8),
)
SP_ALLOW_WEAK_ARGON2 = env_bool("SP_ALLOW_WEAK_ARGON2", SP_ENV == "test")
# Concurrent derivations per server process (see core/argon2_slots.py): with one process per
# core, one each keeps every core busy without two derivations fighting over one.
SP_ARGON2_PER_PROCESS = env_int("SP_ARGON2_PER_PROCESS", 1, minimum=1)

DEBUG = env_bool("SP_DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("SP_DEBUG cannot be on in production")
ALLOWED_HOSTS = env_list("SP_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("SP_ALLOWED_HOSTS must name this face's host name(s) in production")
SP_CONSOLE_URL = env_str("SP_CONSOLE_URL", "http://127.0.0.1:8001")
SP_INTAKE_URL = env_str("SP_INTAKE_URL", "http://127.0.0.1:8000")
# An ordinary https address of the intake for people who cannot use Tor, when the intake is an
# onion service too (that address sends Onion-Location). The page on getting through a block
# (intake/connect.html) gives it; empty: there is none.
SP_INTAKE_CLEARNET_URL = env_str("SP_INTAKE_CLEARNET_URL", "")
SECURE = env_bool("SP_HTTPS", PRODUCTION)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",  # the device behind recovery codes (accounts.RecoveryCode)
    "core",
    "accounts",
    "casework",
    "intake",
    "retention",
    "jobs",
    "notifications",
    "staff",
    "audit",
    "triage",
    "casenotes",
    "evidence",
    "evacuation.plans",
    "evacuation.checkins",
    "evacuation.safehouses",
    "vetting",
    "evacuation.funds",
    "evacuation.dashboard",
    "evacuation.handoff",
    "recovery",
    "backups",
]

MIDDLEWARE = [
    "core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # After the CSRF check: a form whose body did not arrive whole is refused (core/body.py).
    "core.body.BodyReceiptMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.vault.VaultMiddleware",
    "casework.middleware.UntrustedRecordMiddleware",
]

ROOT_URLCONF = f"config.urls_{SP_FACE}"
WSGI_APPLICATION = f"config.wsgi_{SP_FACE}.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "core.context.site",
                "accounts.context.capabilities",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_DB_ENGINE = env_str("SP_DB_ENGINE", "sqlite")
if _DB_ENGINE == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env_str("SP_DB_NAME", "safepassage"),
            "USER": env_str("SP_DB_USER", ""),
            "PASSWORD": env_secret("SP_DB_PASSWORD") or "",
            "HOST": env_str("SP_DB_HOST", ""),
            "PORT": env_str("SP_DB_PORT", ""),
            "CONN_MAX_AGE": env_int("SP_DB_CONN_MAX_AGE", 60, minimum=0),
            "TEST": {"NAME": env_str("SP_DB_TEST_NAME", "test_safepassage")},
        }
    }
elif _DB_ENGINE == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_path("SP_SQLITE_PATH", VAR_DIR / "safepassage.sqlite3"),
            # Reusing a connection saves opening the file and running the PRAGMAs per request.
            "CONN_MAX_AGE": env_int("SP_DB_CONN_MAX_AGE", 60, minimum=0),
            "OPTIONS": {
                # WAL lets the two faces and the worker read while one of them writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;",
                "transaction_mode": "IMMEDIATE",
                # Seconds a write waits for another's lock before "database is locked".
                "timeout": env_int("SP_SQLITE_BUSY_SECONDS", 20, minimum=1),
            },
            # A file, not memory, so the canary test can search the raw bytes.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
else:
    raise ImproperlyConfigured("SP_DB_ENGINE must be sqlite or postgresql")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.StaffMember"
LOGIN_URL = "accounts:login"
PASSWORD_HASHERS = ["accounts.hashers.SafePassageArgon2Hasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]

# Sessions: server-side, cookie lives only until the browser closes (no persistent cookies).
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# The console's one-line status after an action ("Reply sent"): fixed wording only, never case
# content, kept in the server-side session rather than a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True
# Under HTTPS every cookie's name starts with __Host-: the browser then takes it only with
# Secure, Path=/ and no Domain, so neither a sibling host (cookie tossing) nor a plain-HTTP
# page can set or replace it. Over plain HTTP (development) browsers refuse such names.
COOKIE_PREFIX = "__Host-" if SECURE else ""
SESSION_COOKIE_NAME = f"{COOKIE_PREFIX}sp_{SP_FACE}"
SESSION_COOKIE_PATH = "/"
SESSION_COOKIE_DOMAIN = None
SESSION_COOKIE_AGE = (
    env_int("SP_INTAKE_IDLE_SECONDS", 30 * 60) if SP_FACE == "intake" else env_int("SP_CONSOLE_IDLE_SECONDS", 8 * 3600)
)
# The worker deletes session rows that can no longer be used (expired, or of a member who
# signed out everywhere or was disabled) this often: each holds sealed keys (core/sessions.py).
SP_SESSION_PURGE_SECONDS = env_int("SP_SESSION_PURGE_SECONDS", 15 * 60, minimum=60)
# Retention (retention/policies.py): how often the worker shreds closed cases that are due.
SP_RETENTION_SWEEP_SECONDS = env_int("SP_RETENTION_SWEEP_SECONDS", 60 * 60, minimum=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_SECURE = SECURE
# The CSRF secret is a cookie, not a session entry: a token kept in the session made every
# page with a form (the login page) write a session row for each anonymous view. The cookie
# ends with the browser (no Max-Age), is HttpOnly, SameSite=Strict and __Host- under HTTPS,
# and leaving (quick exit, logout) deletes it with the session (core/vault.py).
CSRF_USE_SESSIONS = False
CSRF_COOKIE_NAME = f"{COOKIE_PREFIX}sp_csrf"
CSRF_COOKIE_PATH = "/"
CSRF_COOKIE_DOMAIN = None
CSRF_COOKIE_SECURE = SECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_AGE = None
# The session vault's key (core/vault.py): same attributes as the session cookie.
SP_VAULT_COOKIE_NAME = f"{COOKIE_PREFIX}sp_vk"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Not "no-referrer": browsers then send "Origin: null" with every same-origin POST and the CSRF
# check rejects it. "same-origin" still gives other sites (the quick-exit target) nothing.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env_bool("SP_SSL_REDIRECT", SECURE and not env_bool("SP_ONION", False))
# An onion service is reached over http://….onion, end-to-end encrypted by Tor: Django's warning
# that plain HTTP is not redirected to HTTPS does not apply (a clearnet address, where there is
# one, is redirected by nginx: deploy/nginx/clearnet.conf.in).
SILENCED_SYSTEM_CHECKS = ["security.W008"] if env_bool("SP_ONION", False) else []
SECURE_HSTS_SECONDS = env_int("SP_HSTS_SECONDS", 63072000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SP_BEHIND_PROXY", False) else None
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", "Русский"), ("en", "English")]
LANGUAGE_COOKIE_NAME = f"{COOKIE_PREFIX}sp_lang"
LANGUAGE_COOKIE_PATH = "/"
LANGUAGE_COOKIE_DOMAIN = None
LANGUAGE_COOKIE_AGE = None  # until the browser closes
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_SECURE = SECURE
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("SP_TIME_ZONE", "Europe/Moscow")

# Uploads never touch the disk in plaintext: the intake face installs its own encrypting
# handler per request, and these defaults keep anything else in memory and small.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 512 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

SP_FILE_STORE = env_path("SP_FILE_STORE", VAR_DIR / "files")
SP_ATTACHMENT_MAX_BYTES = env_int("SP_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
SP_ATTACHMENTS_PER_MESSAGE = env_int("SP_ATTACHMENTS_PER_MESSAGE", 5, minimum=1)
# The one place the request-body limits are defined; the server (core/serving.py) and the sweep
# of files left by killed requests (casework/files.py) both derive theirs from these.
# The largest body either face accepts: every file at its maximum, the form's other fields at
# Django's limit, and room for the multipart headers. The server refuses a larger declared
# Content-Length at once (413), before a thread reads any of it.
SP_REQUEST_BODY_MAX_BYTES = (
    SP_ATTACHMENTS_PER_MESSAGE * SP_ATTACHMENT_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE + 64 * 1024
)
# The slowest body the server waits for, on average: 2 KiB/s (16 kbit/s) is below what a phone
# on GPRS over Tor still manages, so a person on a bad link is not cut off; a client that sends
# less holds a thread for seconds only.
SP_REQUEST_BODY_MIN_BYTES_PER_SECOND = env_int("SP_REQUEST_BODY_MIN_BYTES_PER_SECOND", 2 * 1024, minimum=256)
# The longest any body may take, whatever it sends: the largest body at the slowest rate, plus a
# minute for its start and the pauses of a bad link (about 18 hours with the defaults). A body
# not finished by then is cut. An operator may shorten it, cutting off the slowest large uploads.
SP_REQUEST_BODY_SECONDS = env_int(
    "SP_REQUEST_BODY_SECONDS",
    -(-SP_REQUEST_BODY_MAX_BYTES // SP_REQUEST_BODY_MIN_BYTES_PER_SECOND) + 60,
    minimum=1,
)
# The longest a request with files can take, first byte to commit: the longest body, plus five
# minutes for the rest. A finished file no row names that is older than this was left by a
# killed request: the worker removes it (casework/files.py); a younger one may belong to a
# request still running.
SP_LONGEST_REQUEST_SECONDS = env_int("SP_LONGEST_REQUEST_SECONDS", SP_REQUEST_BODY_SECONDS + 300, minimum=60)
if SP_LONGEST_REQUEST_SECONDS < SP_REQUEST_BODY_SECONDS + 300:
    raise ImproperlyConfigured(
        "SP_LONGEST_REQUEST_SECONDS must be at least SP_REQUEST_BODY_SECONDS + 300: "
        "files of uploads still arriving would be removed"
    )
SP_MESSAGE_MAX_CHARS = env_int("SP_MESSAGE_MAX_CHARS", 20000, minimum=100)
# Uploads are refused while the file store's disk has less free space than this, so a flood of
# files cannot fill the disk the database and logs live on.
SP_MIN_FREE_BYTES = env_int("SP_MIN_FREE_BYTES", 1024**3, minimum=0)

# Intake presentation: the site need not announce what it is.
SP_SITE_NAME = {"ru": env_str("SP_SITE_NAME_RU", "Справочная"), "en": env_str("SP_SITE_NAME_EN", "Information desk")}
SP_QUICK_EXIT_URL = env_str("SP_QUICK_EXIT_URL", "https://yandex.ru/pogoda/")

# Global budgets per window for the intake's anonymous work, with no per-address state at all
# (intake/throttle.py). Codename logins: every well-formed phrase typed costs one Argon2id
# derivation and counts, found or not, real or danger phrase.
if "SP_LOGIN_FAILURE_BUDGET" in os.environ:
    raise ImproperlyConfigured(
        "SP_LOGIN_FAILURE_BUDGET is now SP_LOGIN_BUDGET: it counts every codename login, not only wrong ones"
    )
SP_LOGIN_BUDGET = env_int("SP_LOGIN_BUDGET", 200, minimum=1)
SP_LOGIN_WINDOW_SECONDS = env_int("SP_LOGIN_WINDOW_SECONDS", 600, minimum=10)
# First requests (two Argon2id derivations each, with or without a danger word), against a flood
# of requests (T11) and of derivations.
SP_NEW_CASE_BUDGET = env_int("SP_NEW_CASE_BUDGET", 100, minimum=1)
SP_NEW_CASE_WINDOW_SECONDS = env_int("SP_NEW_CASE_WINDOW_SECONDS", 600, minimum=10)
# Bytes of files taken with first requests and messages; 0 takes no files at all.
SP_UPLOAD_BUDGET_BYTES = env_int("SP_UPLOAD_BUDGET_BYTES", 1024**3, minimum=0)
SP_UPLOAD_WINDOW_SECONDS = env_int("SP_UPLOAD_WINDOW_SECONDS", 600, minimum=10)

SP_INVITE_HOURS = env_int("SP_INVITE_HOURS", 72, minimum=1)
# Staff login lockout, per account (never per address): after this many failures in a row the
# account is locked; each further lock doubles the time, up to the cap (T12).
SP_STAFF_LOGIN_FAILURES = env_int("SP_STAFF_LOGIN_FAILURES", 5, minimum=1)
SP_STAFF_LOCKOUT_SECONDS = env_int("SP_STAFF_LOCKOUT_SECONDS", 900, minimum=1)
SP_STAFF_LOCKOUT_MAX_SECONDS = env_int("SP_STAFF_LOCKOUT_MAX_SECONDS", 24 * 3600, minimum=1)

# The organisation recovery public key, pinned outside the database (hex, shown by the console
# when the key is created). When set, new cases are refused if the stored key differs.
_recovery_pin = env_str("SP_RECOVERY_PUBLIC_KEY", "").strip()
try:
    SP_RECOVERY_PUBLIC_KEY = bytes.fromhex(_recovery_pin)
except ValueError:
    raise ImproperlyConfigured("SP_RECOVERY_PUBLIC_KEY must be the 64 hex characters the console showed") from None
if _recovery_pin and len(SP_RECOVERY_PUBLIC_KEY) != 32:
    raise ImproperlyConfigured("SP_RECOVERY_PUBLIC_KEY must be the 64 hex characters the console showed")
SP_SETUP_HOURS = env_int("SP_SETUP_HOURS", 24, minimum=1)
OTP_TOTP_ISSUER = env_str("SP_TOTP_ISSUER", "Safe Passage")
# django-otp's throttle refuses every code, right ones too, for 1, 2, 4, ... seconds after a
# wrong one, and the form then calls a right code wrong. Guessing is bounded by the account
# lockout instead (SP_STAFF_LOGIN_FAILURES), which counts wrong codes at login and at the
# password change (accounts.services.code_check). Replay protection (last_t) is unaffected.
OTP_TOTP_THROTTLE_FACTOR = 0

# Logs carry no address, no user agent and no request body (see core/logging.py).
SP_LOG_FILE = env_str("SP_LOG_FILE", "")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "scrub": {"()": "core.logging.ScrubFilter"},
        "security_one_line": {"()": "core.logging.OneLineSecurityRecord"},
        "drop_template_context": {"()": "core.logging.DropTemplateContext"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["security_one_line", "scrub"]},
        **(
            {
                "file": {
                    "class": "logging.FileHandler",
                    "filename": SP_LOG_FILE,
                    "formatter": "plain",
                    "filters": ["security_one_line", "scrub"],
                }
            }
            if SP_LOG_FILE
            else {}
        ),
    },
    "root": {"handlers": ["console", *(["file"] if SP_LOG_FILE else [])], "level": env_str("SP_LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger would repeat paths of failed requests; keep only errors.
        "django.request": {"level": "ERROR"},
        # pikepdf announces at INFO, in every process that loads it, that its C++ logging is
        # bridged: a line per start in the journal that says nothing to an operator.
        "pikepdf._core": {"level": "WARNING"},
        # The Matrix client logs room ids (staff addresses) at INFO.
        "nio": {"level": "WARNING"},
        # Requests refused as suspicious (a foreign Host header, an oversized body): one line
        # each, without the sender's values or a traceback (core.logging.OneLineSecurityRecord).
        # Not "handlers": [] with propagate off: Python then writes them through its
        # last-resort handler, unfiltered.
        # At DEBUG it would attach the whole template context (decrypted messages) to a record.
        "django.template": {"filters": ["drop_template_context"]},
    },
}
ADMINS: list[tuple[str, str]] = []  # error reports by mail would carry request data
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

# Background jobs (jobs/worker.py): a claim is a lease, renewed every third of it while the job
# runs, so a crashed worker's job is taken up again after one lease; a job is retried with
# doubling pauses.
SP_JOB_LEASE_SECONDS = env_int("SP_JOB_LEASE_SECONDS", 60, minimum=3)
SP_JOB_MAX_ATTEMPTS = env_int("SP_JOB_MAX_ATTEMPTS", 8, minimum=1)
SP_JOB_RETRY_SECONDS = env_int("SP_JOB_RETRY_SECONDS", 30, minimum=1)

# Triage (triage/deadlines.py): minutes until a new case must have a first staff reply, by
# urgency; past it the on-call members are told, and coordinators SP_ESCALATE_AFTER_MINUTES later.
SP_RESPONSE_MINUTES_DANGER_NOW = env_int("SP_RESPONSE_MINUTES_DANGER_NOW", 60, minimum=1)
SP_RESPONSE_MINUTES_IN_HIDING = env_int("SP_RESPONSE_MINUTES_IN_HIDING", 240, minimum=1)
SP_RESPONSE_MINUTES_SAFE_FOR_NOW = env_int("SP_RESPONSE_MINUTES_SAFE_FOR_NOW", 1440, minimum=1)
SP_ESCALATE_AFTER_MINUTES = env_int("SP_ESCALATE_AFTER_MINUTES", 30, minimum=1)

# Welfare check-ins (evacuation/checkins/ladder.py): how often the sweep runs, and the delay
# before each further step of a missed check-in's ladder (on call, coordinators, partner),
# then between repeats of the last step until someone acknowledges.
SP_CHECKIN_SWEEP_SECONDS = env_int("SP_CHECKIN_SWEEP_SECONDS", 60, minimum=5)
SP_CHECKIN_ON_CALL_AFTER_MINUTES = env_int("SP_CHECKIN_ON_CALL_AFTER_MINUTES", 30, minimum=1)
SP_CHECKIN_COORDINATORS_AFTER_MINUTES = env_int("SP_CHECKIN_COORDINATORS_AFTER_MINUTES", 60, minimum=1)
SP_CHECKIN_PARTNER_AFTER_MINUTES = env_int("SP_CHECKIN_PARTNER_AFTER_MINUTES", 120, minimum=1)
SP_CHECKIN_REPEAT_MINUTES = env_int("SP_CHECKIN_REPEAT_MINUTES", 120, minimum=5)

# Notifications to staff by e-mail (notifications/delivery.py). Empty host: e-mail is off.
EMAIL_HOST = env_str("SP_EMAIL_HOST", "")
EMAIL_PORT = env_int("SP_EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("SP_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_secret("SP_EMAIL_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("SP_EMAIL_USE_TLS", PRODUCTION)
EMAIL_TIMEOUT = env_int("SP_EMAIL_TIMEOUT", 15, minimum=1)
DEFAULT_FROM_EMAIL = env_str("SP_EMAIL_FROM", "safepassage@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
SP_WEBHOOK_TIMEOUT = env_int("SP_WEBHOOK_TIMEOUT", 15, minimum=1)
# Webhook receivers on this machine (127.0.0.1, ::1; plain http allowed to them): for the test
# suite's and a developer's local receivers only. Every other address inside the network is
# always refused (notifications/outbound.py); in production this must stay off.
SP_WEBHOOK_ALLOW_LOOPBACK = env_bool("SP_WEBHOOK_ALLOW_LOOPBACK", SP_ENV in {"test", "development"})
if PRODUCTION and SP_WEBHOOK_ALLOW_LOOPBACK:
    raise ImproperlyConfigured("SP_WEBHOOK_ALLOW_LOOPBACK cannot be on in production")
# ... and by Matrix, as the organisation's bot (notifications/matrix.py). All empty: Matrix is
# off; any one set: all three must be right, or the check notifications.E001 stops the start.
SP_MATRIX_HOMESERVER = env_str("SP_MATRIX_HOMESERVER", "")
SP_MATRIX_USER_ID = env_str("SP_MATRIX_USER_ID", "")
SP_MATRIX_ACCESS_TOKEN = env_secret("SP_MATRIX_ACCESS_TOKEN") or ""
SP_MATRIX_TIMEOUT = env_int("SP_MATRIX_TIMEOUT", 15, minimum=1)

# Money paid out (evacuation/funds): the currencies staff may choose, and per currency the amount
# above which an entry waits for a coordinator's approval. A currency without a limit here makes
# every entry in it wait (fail closed).
SP_FUNDS_CURRENCIES = env_list("SP_FUNDS_CURRENCIES", ["RUB", "EUR", "USD", "GEL", "TRY", "ARS", "KZT", "AMD"])
for _code in SP_FUNDS_CURRENCIES:
    if not (len(_code) == 3 and _code.isascii() and _code.isalpha() and _code.isupper()):
        raise ImproperlyConfigured(f"SP_FUNDS_CURRENCIES: {_code!r} is not a three-letter currency code like RUB")
SP_FUNDS_APPROVAL_OVER = env_amounts(
    "SP_FUNDS_APPROVAL_OVER", "RUB:50000,EUR:500,USD:500,GEL:1500,TRY:15000,ARS:500000,KZT:250000,AMD:200000"
)
# The limit holds per case and currency over this many days (by when entries were entered), so a
# payment split into small ones still waits for a coordinator.
SP_FUNDS_APPROVAL_WINDOW_DAYS = env_int("SP_FUNDS_APPROVAL_WINDOW_DAYS", 30, minimum=1)

# Encrypted backups (backups/): one file per backup, encrypted to an offline age recipient
# ("age1...", made with age-keygen on a machine away from the server, which never holds the
# identity). Without it no backup is written: ``manage.py backup`` refuses, the scheduled job
# does nothing and the deploy check warns in production.
# The organisation's name as evidence exports carry it (their manifest and summary).
SP_ORGANISATION_NAME = env_str("SP_ORGANISATION_NAME", "Safe Passage")
# An RFC 3161 timestamp authority for the custody log's tree heads (optional): its URL and the
# PEM file of its certificate (or of the CA that issued it), which its tokens are checked against.
SP_TSA_URL = env_str("SP_TSA_URL", "").strip()
SP_TSA_CERT_FILE = env_str("SP_TSA_CERT_FILE", "").strip()
if SP_TSA_URL and not SP_TSA_CERT_FILE:
    raise ImproperlyConfigured("SP_TSA_URL needs SP_TSA_CERT_FILE: the certificate its tokens are checked against")
SP_TSA_INTERVAL_SECONDS = env_int("SP_TSA_INTERVAL_SECONDS", 3600, minimum=60)

SP_BACKUP_RECIPIENT = env_str("SP_BACKUP_RECIPIENT", "").strip()
if SP_BACKUP_RECIPIENT and not SP_BACKUP_RECIPIENT.startswith("age1"):
    raise ImproperlyConfigured("SP_BACKUP_RECIPIENT must be an age recipient (age1...), as age-keygen prints it")
# Hours between scheduled backups by the worker (0: none), how many are kept, and where.
SP_BACKUP_INTERVAL_HOURS = env_int("SP_BACKUP_INTERVAL_HOURS", 24, minimum=0)
SP_BACKUP_KEEP = env_int("SP_BACKUP_KEEP", 7, minimum=1)
SP_BACKUP_DIR = env_path("SP_BACKUP_DIR", VAR_DIR / "backups")
# Backups older than this many days are deleted by the worker whatever SP_BACKUP_KEEP says
# (backups.schedule.backup_cutoff); unset: no limit by age.
SP_BACKUP_MAX_AGE_DAYS: int | None = (
    env_int("SP_BACKUP_MAX_AGE_DAYS", 0, minimum=1) if os.environ.get("SP_BACKUP_MAX_AGE_DAYS") else None
)
# Directories of onion service keys a backup carries (a restore gives them back), comma-separated.
SP_ONION_KEY_DIRS = [Path(item).resolve() for item in env_list("SP_ONION_KEY_DIRS", [])]
