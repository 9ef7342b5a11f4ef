"""Server time of the console's inbox and case pages over the database bench/casework_data.py filled.

    python -m bench.casework_views --data '<the generator's JSON line>' [--requests 200]

Runs in-process with SP_FACE=console: Django's test client drives the real views through every
middleware (session, vault, CSRF, staff checks, audit), logged in as the generator's
``bench-caseworker`` through the real login (password, TOTP, Argon2id key unlock). Server time
is the wall and CPU time of one request through the handler; the client's own overhead (building
the WSGI request, a few microseconds) is included.

Every decryption is counted: this process, and only this process, wraps ``sealbox.unseal`` and
``sealbox.decrypt`` with counters keyed by the ciphertext's context label (``case.wrap``,
``case.details``, ``message.key``, ``message.body`` ...). Nothing in the application is changed.

The authenticity checks are counted the same way: ``sealbox.signature_valid`` (one Ed25519
verification), ``sealbox.message_tag_valid`` (a server tag) and ``sealbox.key_certificate_valid``
(a signer's certificate), and the time spent in ``casework.authenticity.message_authentic`` per
request is summed (statement, BLAKE2b of the body ciphertext, tag or certificate and signature).

Baselines measured in the same run, interleaved with the pages: a logged-in ``GET /`` (the
console's redirect to the inbox: session, vault and middleware, no query of casework), one raw
``sealbox.unseal`` (X25519 + XChaCha20-Poly1305, median of batches) and one raw Ed25519
verification (``nacl.signing.VerifyKey.verify`` of a 300-byte statement).

Prints one JSON line with the results (bench/casework_report.py turns it into markdown).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, overload

from bench.casework_data import BENCH_PASSWORD
from bench.client import QUIET_CORES, CpuWindow, process_cpu_seconds, wait_for_quiet

ROUNDS_PER_WINDOW = 20  # rounds of every page between two waits for a quiet machine

COUNTS: Counter[str] = Counter()
AUTH_SECONDS = [0.0]  # time spent in casework.authenticity.message_authentic, this request


def _label(ctx: bytes) -> str:
    size = int.from_bytes(ctx[:4], "big")
    return ctx[4 : 4 + size].decode()


def install_counters() -> None:
    """Count every unseal and decrypt by context label; the wrapped functions are unchanged."""
    import sealbox

    def counted(name: str, original: Callable[..., bytes]) -> Callable[..., bytes]:
        def wrapper(key: bytes, ciphertext: bytes, *, ctx: bytes) -> bytes:
            COUNTS[f"{name}:{_label(ctx)}"] += 1
            return original(key, ciphertext, ctx=ctx)

        return wrapper

    sealbox.unseal = counted("unseal", sealbox.unseal)
    sealbox.decrypt = counted("decrypt", sealbox.decrypt)

    def checked(name: str, original: Callable[..., bool]) -> Callable[..., bool]:
        def wrapper(*args: Any, **kwargs: Any) -> bool:
            COUNTS[f"check:{name}"] += 1
            return original(*args, **kwargs)

        return wrapper

    # casework.authenticity and accounts.keyring call these through the sealbox module.
    sealbox.signature_valid = checked("ed25519_verify", sealbox.signature_valid)
    sealbox.message_tag_valid = checked("server_tag", sealbox.message_tag_valid)
    sealbox.key_certificate_valid = checked("signing_key_certificate", sealbox.key_certificate_valid)

    from casework import authenticity

    original_authentic = authenticity.message_authentic

    def timed_authentic(*args: Any, **kwargs: Any) -> bool:
        began = time.perf_counter()
        try:
            return original_authentic(*args, **kwargs)
        finally:
            AUTH_SECONDS[0] += time.perf_counter() - began

    authenticity.message_authentic = timed_authentic


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _login(username: str) -> Any:
    from django.test import Client
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username)
    # A second run within the same 30-second step would otherwise be refused as a replayed code.
    device.last_t = -1
    device.throttle_reset(commit=False)
    device.save(update_fields=["last_t", "throttling_failure_count", "throttling_failure_timestamp"])
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    client = Client(HTTP_HOST="127.0.0.1")
    response = client.post(
        "/login/", {"username": username, "password": BENCH_PASSWORD, "code": f"{code:0{device.digits}d}"}
    )
    if response.status_code != 302:
        sys.exit(f"bench login failed with HTTP {response.status_code}")
    return client


# Connected first, there is a backend: only _backend_pid(connect=False) may find none.
@overload
def _backend_pid() -> int: ...
@overload
def _backend_pid(*, connect: bool) -> int | None: ...
def _backend_pid(*, connect: bool = True) -> int | None:
    """The process id of the PostgreSQL backend serving this process's connection."""
    from django.db import connection

    if connect:
        connection.ensure_connection()
    if connection.connection is None:
        return None
    return int(connection.connection.info.backend_pid)


def _unseal_seconds() -> float:
    import sealbox

    pair = sealbox.KeyPair.generate()
    ctx = sealbox.context("bench.baseline", b"x" * 16)
    sealed = sealbox.seal(pair.public_key, os.urandom(32), ctx=ctx)
    samples = []
    for _ in range(15):
        began = time.perf_counter()
        for _ in range(200):
            sealbox.unseal(pair.private_key, sealed, ctx=ctx)
        samples.append((time.perf_counter() - began) / 200)
    return statistics.median(samples)


def _verify_sample(member: Any, cases: int, seed: int) -> dict[str, int]:
    """Open every message and the details of a random sample of the member's cases with the
    member's own key, as the case page does: proof that the generated rows really decrypt and
    carry valid proof of origin (signature or server tag), not only the two case pages timed.
    Then open the same cases' conversations as the person does (the intake selector, which
    hides any message whose proof fails), with each credential's private key: every message
    sealed to the credential must be shown."""
    import random

    from bench.casework_data import credential_private_key
    from casework import keys, selectors
    from casework.models import MessageKey

    private_key = _private_key(member)
    ids = list(selectors.cases_visible_to(member).values_list("pk", flat=True))
    sample = random.Random(7).sample(ids, min(cases, len(ids)))
    opened = {"cases": 0, "messages": 0, "authentic": 0, "signed": 0, "details": 0, "person_messages": 0}
    for case in selectors.cases_visible_to(member).filter(pk__in=sample):
        case_keys = keys.case_private_keys(case, member, private_key)
        if keys.details_open(case, case_keys) is not None:
            opened["details"] += 1
        conversation = selectors.conversation_for_staff(case, member, private_key)
        opened["messages"] += len(conversation)
        opened["authentic"] += sum(message.authentic for message in conversation)
        opened["signed"] += sum(message.sender == "staff" and message.authentic for message in conversation)
        opened["cases"] += 1
        for credential in case.credentials.filter(revoked_at__isnull=True):
            person_key = credential_private_key(seed, credential.pk)
            decoy = credential.is_duress
            sealed = MessageKey.objects.filter(selectors._person_visible(decoy), credential=credential).count()
            shown = 0
            page: int | None = 1
            while page is not None:
                current = selectors.conversation_for_person(credential, person_key, decoy=decoy, page=page)
                shown += len(current.messages)
                page = current.earlier
            if shown != sealed:
                sys.exit(f"case {case.public_id}: the person is shown {shown} of {sealed} messages")
            opened["person_messages"] += shown
    if opened["authentic"] != opened["messages"]:
        sys.exit(f"only {opened['authentic']} of {opened['messages']} sampled messages carry valid proof of origin")
    return opened


def _verify_seconds() -> float:
    """One raw Ed25519 verification of a statement-sized message (median of batches)."""
    import nacl.signing

    key = nacl.signing.SigningKey.generate()
    statement = os.urandom(300)
    signature = key.sign(statement).signature
    verify = key.verify_key
    samples = []
    for _ in range(15):
        began = time.perf_counter()
        for _ in range(200):
            verify.verify(statement, signature)
        samples.append((time.perf_counter() - began) / 200)
    return statistics.median(samples)


def _private_key(member: Any) -> bytes:
    from accounts.keyring import staff_private_key_unlock

    return staff_private_key_unlock(member, BENCH_PASSWORD)


def _explain(sql_and_params: list[tuple[str, Any]]) -> list[str]:
    """EXPLAIN ANALYZE of the slowest statements of one request, for the notes."""
    from django.db import connection

    out = []
    with connection.cursor() as cursor:
        for sql, params in sql_and_params:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF) " + sql, params)
            out.append("\n".join(row[0] for row in cursor.fetchall()))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.casework_views", description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the JSON line bench.casework_data printed")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--verify", type=int, default=100, help="cases whose every message is opened first")
    parser.add_argument("--explain", action="store_true", help="print the queries of one request of each page")
    args = parser.parse_args(argv)
    data = json.loads(args.data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["SP_FACE"] = "console"
    # One database connection for the whole run (production reconnects every 60 s), so that its
    # backend's CPU time can be followed in /proc.
    os.environ["SP_DB_CONN_MAX_AGE"] = "3600"
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import StaffMember
    from casework import selectors

    install_counters()
    client = _login(data["bench_member"])
    member = StaffMember.objects.get(username=data["bench_member"])
    held = selectors.cases_visible_to(member).count()
    verified = _verify_sample(member, args.verify, int(data.get("seed", 2017)))
    pages = -(-held // selectors.INBOX_PAGE_SIZE)
    deep = max(min(2, pages), pages // 2)  # the middle page; the second when there are few
    targets = {
        "baseline": "/",
        "inbox_first": "/inbox/",
        "inbox_deep": f"/inbox/?page={deep}",
        "case_small": f"/cases/{data['small_case']}/",
        "case_large": f"/cases/{data['large_case']}/",
    }
    expected = {"baseline": 302}
    wall: dict[str, list[float]] = {name: [] for name in targets}
    cpu: dict[str, list[float]] = {name: [] for name in targets}
    decryptions: dict[str, list[dict[str, int]]] = {name: [] for name in targets}
    auth_ms: dict[str, list[float]] = {name: [] for name in targets}
    queries: dict[str, int] = {}
    slowest: dict[str, list[tuple[float, str]]] = {}
    for name, url in targets.items():  # warm-up, and one request's queries
        for _ in range(args.warmup):
            client.get(url)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        if response.status_code != expected.get(name, 200):
            sys.exit(f"{url}: HTTP {response.status_code}")
        queries[name] = len(captured.captured_queries)
        slowest[name] = sorted(((float(q["time"]), q["sql"]) for q in captured.captured_queries), reverse=True)[:3]
    unseal = _unseal_seconds()
    verify = _verify_seconds()
    db_cpu: dict[str, list[float]] = {name: [] for name in targets}
    began = time.monotonic()
    waited = 0.0
    windows = []
    window: CpuWindow | None = None
    for round_number in range(args.requests):  # interleaved, so the neighbours' load falls on every page alike
        if round_number % ROUNDS_PER_WINDOW == 0:
            if window is not None:
                windows.append(window.stop())
            waited += wait_for_quiet([_backend_pid()], threshold=QUIET_CORES, max_wait=5.0)
            window = CpuWindow([_backend_pid()])
            window.start()
        for name, url in targets.items():
            COUNTS.clear()
            AUTH_SECONDS[0] = 0.0
            backend = _backend_pid()
            d0 = process_cpu_seconds(backend)
            c0, w0 = time.process_time(), time.perf_counter()
            response = client.get(url)
            w1, c1 = time.perf_counter(), time.process_time()
            if _backend_pid(connect=False) == backend:  # the same connection served the whole request
                db_cpu[name].append((process_cpu_seconds(backend) - d0) * 1000)
            if response.status_code != expected.get(name, 200):
                sys.exit(f"{url}: HTTP {response.status_code}")
            wall[name].append((w1 - w0) * 1000)
            cpu[name].append((c1 - c0) * 1000)
            decryptions[name].append(dict(COUNTS))
            auth_ms[name].append(AUTH_SECONDS[0] * 1000)
    if window is not None:
        windows.append(window.stop())
    measured = time.monotonic() - began
    unseal_after = _unseal_seconds()
    verify_after = _verify_seconds()

    result: dict[str, Any] = {
        "held_cases": held,
        "verified": verified,
        "inbox_pages": pages,
        "deep_page": deep,
        "page_size": selectors.INBOX_PAGE_SIZE,
        "staff_page_size": getattr(selectors, "STAFF_PAGE_SIZE", None),
        "requests": args.requests,
        "seconds": round(measured, 1),
        "unseal_us": round(min(unseal, unseal_after) * 1e6, 1),
        "unseal_us_before_after": [round(unseal * 1e6, 1), round(unseal_after * 1e6, 1)],
        "verify_us": round(min(verify, verify_after) * 1e6, 1),
        "verify_us_before_after": [round(verify * 1e6, 1), round(verify_after * 1e6, 1)],
        "waited_for_quiet_seconds": round(waited, 1),
        # Cores used during the measured windows: by this process (Django), by its PostgreSQL
        # backend, and by everything else on the machine (other tenants).
        "cores_django": round(sum(u.bench_seconds for u in windows) / sum(u.wall for u in windows), 2),
        "cores_postgres": round(sum(u.server_seconds for u in windows) / sum(u.wall for u in windows), 2),
        "cores_others": round(sum(u.others_cores * u.wall for u in windows) / sum(u.wall for u in windows), 2),
        "views": {},
    }
    for name, url in targets.items():
        most: Counter[str] = Counter()
        for counts in decryptions[name]:
            for key, value in counts.items():
                most[key] = max(most[key], value)
        checks = {key.split(":", 1)[1]: value for key, value in most.items() if key.startswith("check:")}
        for key in [k for k in most if k.startswith("check:")]:
            del most[key]
        # Share of the request's wall time spent checking authenticity, request by request.
        shares = [a / w for a, w in zip(auth_ms[name], wall[name], strict=True) if w > 0]
        result["views"][name] = {
            "url": url,
            "p50_ms": round(percentile(wall[name], 0.5), 2),
            "p95_ms": round(percentile(wall[name], 0.95), 2),
            "max_ms": round(max(wall[name]), 2),
            "cpu_p50_ms": round(percentile(cpu[name], 0.5), 2),
            "cpu_p95_ms": round(percentile(cpu[name], 0.95), 2),
            # /proc counts in clock ticks (10 ms): only the mean over many requests is meaningful.
            "db_cpu_mean_ms": round(statistics.fmean(db_cpu[name]), 2) if db_cpu[name] else None,
            "cpu_mean_ms": round(statistics.fmean(cpu[name]), 2),
            "queries": queries[name],
            "max_decryptions": dict(sorted(most.items())),
            "max_unseal": max(sum(v for k, v in c.items() if k.startswith("unseal:")) for c in decryptions[name]),
            "max_checks": dict(sorted(checks.items())),
            "auth_p50_ms": round(percentile(auth_ms[name], 0.5), 3),
            "auth_p95_ms": round(percentile(auth_ms[name], 0.95), 3),
            "auth_share_p50": round(percentile(shares, 0.5), 4) if shares else 0.0,
        }
    if args.explain:
        for name in targets:
            print(f"== {name}: {queries[name]} queries; slowest:", file=sys.stderr)
            for seconds, sql in slowest[name]:
                print(f"-- {seconds * 1000:.1f} ms: {sql[:3000]}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
