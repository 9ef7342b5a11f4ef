"""Benchmark 5: the console's inbox and case pages over a hotline's worth of casework in PostgreSQL.

Creates the database ``bench_casework`` on the local PostgreSQL server (dropped again at the end
unless kept), migrates it, fills it with bench/casework_data.py and times the pages with
bench/casework_views.py, each in a subprocess with a production environment (SP_FACE=console).

Size: SP_BENCH_CASES cases (default 10,000) and SP_BENCH_MESSAGES messages (default ten per case).
The goal is stated for 100,000 cases and 1,000,000 messages:

    SP_BENCH_CASES=100000 SP_BENCH_MESSAGES=1000000 make bench
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.stage import OUT, ROOT, production_env

# SP_BENCH_PG_DATABASE names another one (it must start with "bench"), so that two runs on one
# server do not drop each other's database.
PG_DATABASE = os.environ.get("SP_BENCH_PG_DATABASE", "bench_casework")
if not PG_DATABASE.startswith("bench") or not PG_DATABASE.replace("_", "").isalnum():
    raise SystemExit(f"SP_BENCH_PG_DATABASE must be a plain name starting with 'bench', not {PG_DATABASE!r}")
GOAL_P95_MS = 100.0
DEFAULT_CASES = 10_000
VIEW_LABELS = {
    "inbox_first": "Inbox, page 1",
    "inbox_deep": "Inbox, a deep page",
    "case_small": "Case page, 10 messages",
    "case_large": "Case page, 200 messages",
}


def size_from_env() -> tuple[int, int]:
    cases = int(os.environ.get("SP_BENCH_CASES", DEFAULT_CASES))
    messages = int(os.environ.get("SP_BENCH_MESSAGES", cases * 10))
    return cases, messages


def postgres_available(host: str, user: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(host=host, user=user, dbname="postgres", connect_timeout=3):
            return True
    except (psycopg.Error, OSError):
        return False


def _admin(host: str, user: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(host=host, user=user, dbname="postgres", autocommit=True) as conn:
        conn.execute(statement)


def _server_version(host: str, user: str) -> str:
    import psycopg

    with psycopg.connect(host=host, user=user, dbname="postgres") as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


@dataclass
class CaseworkResult:
    cases: int
    messages: int
    data: dict[str, Any]  # what the generator printed
    views: dict[str, Any]  # what the view benchmark printed
    server: str
    migrate_seconds: float


def run(*, host: str, user: str, keep: bool, requests: int, say: Any) -> CaseworkResult:
    cases, messages = size_from_env()
    var_dir = OUT / f"casework-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    var_dir.mkdir(parents=True, mode=0o700)
    env = production_env(
        var_dir,
        {"SP_DB_ENGINE": "postgresql", "SP_DB_HOST": host, "SP_DB_USER": user, "SP_DB_NAME": PG_DATABASE},
    )
    env["SP_FACE"] = "console"
    _admin(host, user, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
    _admin(host, user, f"CREATE DATABASE {PG_DATABASE}")
    try:
        began = time.monotonic()
        _run(env, "manage.py", "migrate", "--noinput", "-v", "0")
        migrated = time.monotonic() - began
        say(f"5. generating {cases:,} cases and {messages:,} messages in {PG_DATABASE}")
        data = json.loads(
            _run(env, "-m", "bench.casework_data", "--cases", str(cases), "--messages", str(messages)).splitlines()[-1]
        )
        say(f"5. generated in {data['seconds_total']:.0f} s; timing the console pages, {requests} requests each")
        views = json.loads(
            _run(
                env, "-m", "bench.casework_views", "--data", json.dumps(data), "--requests", str(requests)
            ).splitlines()[-1]
        )
        return CaseworkResult(cases, messages, data, views, _server_version(host, user), migrated)
    finally:
        if not keep:
            _admin(host, user, f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            shutil.rmtree(var_dir, ignore_errors=True)


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise RuntimeError(f"casework step `{' '.join(args[:3])}` failed with exit code {done.returncode}")
    return done.stdout


# --- report ------------------------------------------------------------------------------------


def list_decryptions_ok(result: CaseworkResult) -> bool:
    """Every list request decrypted at most one page of rows: per inbox request at most one
    case key unwrap and one details opening per row of the page, per case page request at most
    one message key and body per message of the page."""
    views, size = result.views["views"], result.views["page_size"]
    staff_page = result.views["staff_page_size"]
    for name in ("inbox_first", "inbox_deep"):
        got = views[name]["max_decryptions"]
        if got.get("unseal:case.wrap", 0) > size or got.get("unseal:case.details", 0) > size:
            return False
    for name in ("case_small", "case_large"):
        got = views[name]["max_decryptions"]
        if got.get("unseal:message.key", 0) > staff_page or got.get("decrypt:message.body", 0) > staff_page:
            return False
    return True


def goal_rows(result: CaseworkResult) -> list[str]:
    rows = []
    size = f"{result.cases:,} cases, {result.messages:,} messages"
    for name, label in VIEW_LABELS.items():
        view = result.views["views"][name]
        ok = view["p95_ms"] < GOAL_P95_MS
        rows.append(
            f"| {label}, p95 server time ({size}) | {view['p95_ms']:.1f} ms | < {GOAL_P95_MS:.0f} ms | "
            f"{'**PASS**' if ok else '**MISS**'} | CPU {view['cpu_p95_ms']:.1f} ms p95 Django + "
            f"{view['db_cpu_mean_ms'] or 0:.1f} ms mean PostgreSQL |"
        )
    ok = list_decryptions_ok(result)
    worst_inbox = max(
        result.views["views"][n]["max_decryptions"].get("unseal:case.details", 0) for n in ("inbox_first", "inbox_deep")
    )
    worst_case = max(
        result.views["views"][n]["max_decryptions"].get("decrypt:message.body", 0) for n in ("case_small", "case_large")
    )
    rows.append(
        f"| List views decrypt at most one page of rows | inbox {worst_inbox} of {result.views['page_size']} rows, "
        f"case page {worst_case} of {result.views['staff_page_size']} messages | ≤ one page | "
        f"{'**PASS**' if ok else '**MISS**'} | — |"
    )
    return rows


CHANGES = [
    "What was changed to get here (measured once while building this benchmark, 2026-11-25, 100,000 cases and "
    "1,000,000 messages, `bench-caseworker` holding 11,003 cases; p50 / p95 ms):",
    "",
    "1. **Before:** inbox 753 / 944 (page 1) and 757 / 970 (page 220), case page 79 / 103 (10 messages) and "
    "185 / 254 (200 messages), with other tenants busy; re-measured once the new indexes existed and the machine was "
    "calmer, the old code still took 195 / 247 for the inbox (154 ms of PostgreSQL CPU per request) and 75 / 112 for "
    "the 200-message case page, which decrypted all 200 messages.",
    "2. **`cases_visible_to` is a semi-join (EXISTS) instead of a join with DISTINCT.** The DISTINCT ran over whole "
    "case rows, sealed details included, for the page and again for the paginator's COUNT(*). Same set of cases "
    "(a test checks it across key rotations).",
    "3. **The inbox sorts narrow rows and counts them in the same pass**: one query returns only (id, overdue, "
    "total) for the page, with `COUNT(*) OVER ()` instead of a second query visiting every case again; the page's "
    "25 cases are then loaded by id, and their read marks and details wraps in one query each (they were a "
    "correlated subquery evaluated for every row skipped on the way to a deep page, and 25 separate queries). The "
    "sort ends on the primary key, so a case cannot show on two pages or none.",
    "4. **Three indexes** (migration casework 0004): a member's wraps by (member, case key), so the need-to-know "
    "filter reads 11,000 index entries and no wrap rows; staff replies by case (partial: `sender = 'staff'`, not "
    "decoy), which answers 'answered yet?' for every open case the inbox sorts by overdue; and the case columns the "
    "inbox filters and sorts on, so it reads them from a 7 MB index instead of visiting 11,000 rows of a 44 MB "
    "table (sealed details make a case row about 440 bytes).",
    "5. **The case page decrypts one page of the conversation**: the newest 50 messages, with links to earlier "
    "ones, as the person's conversation already did (10 a page); it also unwraps the case key once instead of twice.",
    "6. Left as it is: the case page's remaining ~25 ms of CPU is mostly Django rendering its four forms; an inbox "
    "page's 50 asymmetric openings are ~3 ms.",
    "7. **Later (same day), once message authenticity, vetting and case notes were merged** and the generator wrote "
    "signed and tagged messages: the case page's CPU rose to about 39 / 49 ms p50 (10 / 200 messages) and its "
    "queries from 20 to 32. A cProfile of the 200-message page (which inflates Python time) put about 55 % in "
    "template rendering (its forms and widgets), 23 % in the conversation page (key and body openings, "
    "authenticity), 9 % in the vetting panel, 7 % in case notes and tasks, 2 % in the audit entry; the "
    "authenticity checks themselves are about 4 %; the vetting panel unwraps the case key a second time "
    "(`case.wrap` 2). Nothing there was changed: every page stays under 100 ms p95. The inbox had gone from 11 "
    "to 36 queries: the red-flag mark (`vetting` template filter `red_flagged`) asked once per row of the page. "
    "It now comes with the page's cases (an EXISTS in the query that loads them): 11 queries again, and about "
    "5 ms less Django CPU per inbox page (22 instead of 27 ms p50, in a second run on the same data while other "
    "tenants used 1.3 cores, which put every page's wall time 20–40 ms higher; not the run reported above).",
]


def _authentic_text(verified: dict[str, int]) -> str:
    if "authentic" not in verified:
        return "proof of origin not checked"
    text = (
        f"every one carries valid proof of origin: {verified['authentic']:,} of {verified['messages']:,} pass "
        f"`authenticity.message_authentic`, {verified['signed']:,} of them staff replies signed by their author"
    )
    if "person_messages" in verified:
        text += (
            f"; opened as the person through the intake selector with each credential's key, all "
            f"{verified['person_messages']:,} messages sealed to the person are shown, none hidden"
        )
    return text


def _verify_baseline_text(views: dict[str, Any]) -> str:
    return (
        f" and one raw Ed25519 verification (`nacl` `VerifyKey.verify`) {views['verify_us']:.0f} µs"
        if "verify_us" in views
        else ""
    )


def _authenticity_lines(views: dict[str, Any]) -> list[str]:
    """What checking each shown message's proof of origin costs a case page."""
    if "verify_us" not in views:
        return []
    lines = [
        "Authenticity checks per case page (every message shown is checked before it is decrypted; counted and timed "
        "in the benchmark process by wrapping `sealbox.signature_valid`, `sealbox.message_tag_valid`, "
        "`sealbox.key_certificate_valid` and `casework.authenticity.message_authentic`):",
        "",
        "| Page | Ed25519 verifications | Server tags | Signer certificates | Time in checks p50 / p95 ms | "
        "Share of the request p50 | Verifications × raw verify |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("case_small", "case_large"):
        view = views["views"][name]
        checks = view.get("max_checks", {})
        verifies = checks.get("ed25519_verify", 0)
        lines.append(
            f"| {VIEW_LABELS[name]} | {verifies} | {checks.get('server_tag', 0)} | "
            f"{checks.get('signing_key_certificate', 0)} | {view['auth_p50_ms']:.2f} / {view['auth_p95_ms']:.2f} | "
            f"{view['auth_share_p50'] * 100:.1f} % | {verifies * views['verify_us'] / 1000:.2f} ms |"
        )
    lines.append("")
    return lines


def _decryption_text(counts: dict[str, int]) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{key.split(':', 1)[1]} {value}" for key, value in counts.items() if key != "decrypt:vault")


def section(result: CaseworkResult, interpretation: str) -> list[str]:
    data, views = result.data, result.views
    baseline = views["views"]["baseline"]
    unseal_ms = views["unseal_us"] / 1000
    lines = [
        "## 5. Console inbox and case pages at scale (PostgreSQL)",
        "",
        f"PostgreSQL {result.server}, database `{PG_DATABASE}` (created and dropped), filled by "
        f"`python -m bench.casework_data --cases {result.cases} --messages {result.messages}`: "
        f"{data['cases']:,} cases, {data['messages']:,} messages, {data['staff']} staff in three teams, every case "
        "wrapped for 2–4 readers of its team and the recovery key. All crypto is real (no ciphertext reused, see "
        "bench/casework_data.py): every staff reply is signed by its author's certified signing key and every other "
        "message carries the server tag, as the services write them; person credentials have random lookup ids instead of 100,000 Argon2id derivations.",
        "",
        "| Generation step | Seconds |",
        "|---|---|",
        f"| migrate | {result.migrate_seconds:.1f} |",
        f"| 30 staff through the real enrolment (production Argon2id each) and the recovery key | {data['seconds_staff']:.1f} |",
        f"| cases, keys, wraps, details, credentials, messages, message keys, attachments, read marks (crypto + COPY, "
        f"{data['workers']} worker processes) | {data['seconds_rows']:.1f} |",
        f"| sequences, VACUUM ANALYZE | {data['seconds_analyze']:.1f} |",
        f"| **total** | **{data['seconds_total']:.1f}** |",
        "",
        f"Server time of each page through the real view (Django test client in-process, every middleware, logged in "
        f"as `{data['bench_member']}` through the real login, key unlocked in the session vault), {views['requests']} "
        f"requests per page, pages interleaved. `{data['bench_member']}` holds {views['held_cases']:,} cases "
        f"({views['inbox_pages']:,} inbox pages of {views['page_size']}); the deep page is page {views['deep_page']:,}. "
        f"Before timing, {views['verified']['cases']} of these cases picked at random were opened whole with the "
        f"member's key ({views['verified']['messages']:,} messages and {views['verified']['details']} sets of details, "
        f"all decrypted; {_authentic_text(views['verified'])}). "
        f"Baselines from the same run: a logged-in `GET /` (the redirect to the inbox: session, vault, middleware) "
        f"p50 {baseline['p50_ms']:.2f} ms, one raw `sealbox.unseal` {views['unseal_us']:.0f} µs"
        f"{_verify_baseline_text(views)}.",
        "",
        "| Page | p50 ms | p95 ms | max ms | CPU p50 / p95 ms | p50 ÷ `GET /` | p95 ÷ one unseal | Queries | "
        "Decryptions per request (most seen) | Goal p95 < 100 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, label in {"baseline": "`GET /` (baseline)", **VIEW_LABELS}.items():
        view = views["views"][name]
        verdict = "—" if name == "baseline" else ("**PASS**" if view["p95_ms"] < GOAL_P95_MS else "**MISS**")
        lines.append(
            f"| {label} `{view['url']}` | {view['p50_ms']:.1f} | {view['p95_ms']:.1f} | {view['max_ms']:.1f} | "
            f"{view['cpu_p50_ms']:.1f} / {view['cpu_p95_ms']:.1f} | {view['p50_ms'] / baseline['p50_ms']:.1f} | "
            f"{view['p95_ms'] / unseal_ms:,.0f} | {view['queries']} | {_decryption_text(view['max_decryptions'])} | "
            f"{verdict} |"
        )
    lines += [
        "",
        f"Cores used during the measured windows: Django {views['cores_django']:.2f}, its PostgreSQL backend "
        f"{views['cores_postgres']:.2f}, other tenants {views['cores_others']:.2f} (the run waited "
        f"{views['waited_for_quiet_seconds']:.0f} s in all for quiet moments). CPU columns are this process's own "
        "(Django, templates, crypto); the PostgreSQL backend's CPU per request is its mean over all requests of the "
        "page (/proc counts in 10 ms ticks), parallel query workers not included.",
        "",
        "| Page | PostgreSQL backend CPU, mean ms per request |",
        "|---|---|",
        *[
            f"| {label} | {views['views'][name]['db_cpu_mean_ms']:.1f} |"
            for name, label in {"baseline": "`GET /` (baseline)", **VIEW_LABELS}.items()
        ],
        "",
        *_authenticity_lines(views),
        "Decryptions are counted by context label in the benchmark process only (it wraps `sealbox.unseal` and "
        "`sealbox.decrypt`; the application is unchanged): `case.wrap` unwraps a case key with the member's key, "
        "`case.details` opens a case's details, `message.key` and `message.body` open one message, "
        "`attachment.meta` a file's name; the session vault's own decryption is left out.",
        "",
        f"Interpretation: {interpretation}",
        "",
        *CHANGES,
        "",
    ]
    return lines


def interpret(result: CaseworkResult) -> str:
    views = result.views["views"]
    worst = max(VIEW_LABELS, key=lambda n: views[n]["p95_ms"])
    passed = all(views[n]["p95_ms"] < GOAL_P95_MS for n in VIEW_LABELS)
    text = (
        f"with {result.cases:,} cases and {result.messages:,} messages every page {'stays' if passed else 'does not stay'} "
        f"under {GOAL_P95_MS:.0f} ms p95; the slowest is {VIEW_LABELS[worst].lower()} at {views[worst]['p95_ms']:.1f} ms "
        f"p95 ({views[worst]['cpu_p95_ms']:.1f} ms of CPU). "
    )
    inbox = views["inbox_first"]
    per_row = inbox["max_decryptions"].get("unseal:case.wrap", 0) + inbox["max_decryptions"].get(
        "unseal:case.details", 0
    )
    text += (
        f"An inbox page costs {per_row} asymmetric openings (a key unwrap and a details opening per row, "
        f"{per_row * result.views['unseal_us'] / 1000:.1f} ms) whatever the number of cases held, and a deep page "
        f"costs about what the first does ({views['inbox_deep']['p50_ms']:.1f} vs {inbox['p50_ms']:.1f} ms p50): one "
        f"query sorts the member's {result.views['held_cases']:,} cases as narrow rows read from indexes and counts "
        f"them in the same pass (PostgreSQL CPU {views['inbox_first']['db_cpu_mean_ms']:.0f} and "
        f"{views['inbox_deep']['db_cpu_mean_ms']:.0f} ms per request on average, first and deep page). "
    )
    large = views["case_large"]
    text += (
        f"The 200-message case page decrypts its newest {result.views['staff_page_size']} messages only "
        f"({large['p50_ms']:.1f} ms p50 against {views['case_small']['p50_ms']:.1f} ms for 10 messages); the rest is "
        "template rendering, the audit entry every case view writes, and the membership form's queries."
    )
    checks = large.get("max_checks")
    if checks is not None and "verify_us" in result.views:
        text += (
            f" Checking the proof of origin of its {result.views['staff_page_size']} shown messages "
            f"({checks.get('ed25519_verify', 0)} Ed25519 verifications, {checks.get('server_tag', 0)} server tags, "
            f"{checks.get('signing_key_certificate', 0)} signer certificates, each signer's looked up once) takes "
            f"{large['auth_p50_ms']:.1f} ms p50, {large['auth_share_p50'] * 100:.0f} % of the request; the "
            f"verifications alone would take {checks.get('ed25519_verify', 0) * result.views['verify_us'] / 1000:.1f} ms "
            f"at the raw `nacl` rate ({result.views['verify_us']:.0f} µs each)."
        )
    return text
