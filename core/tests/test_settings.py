"""Settings fail closed in production; the project's system checks catch weak crypto set-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.test import override_settings

import sealbox
from core import checks

ROOT = Path(__file__).resolve().parents[2]


def _django_check(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "SP_ENV": "production",
        "SP_VAR_DIR": str(tmp_path),
        "SP_SECRET_KEY": "k9!Qv3#pL0z@Wm7$Tr2^Yb5&Nc8*Hd1(Gf4)Js6_Xe0+Ua3=Io9-Ek2;Ry7",
        "SP_PEPPER": "".join(f"{i:02x}" for i in range(32)),
        "SP_ALLOWED_HOSTS": "intake.example.org",
        "SP_RECOVERY_PUBLIC_KEY": "cd" * 32,
        "SP_BACKUP_RECIPIENT": "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v}


@pytest.mark.parametrize("missing", ["SP_SECRET_KEY", "SP_PEPPER", "SP_ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_a_secret_or_host(tmp_path: Path, missing: str) -> None:
    result = _django_check(_production(tmp_path, **{missing: ""}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_production_refuses_debug(tmp_path: Path) -> None:
    result = _django_check(_production(tmp_path, SP_DEBUG="true"))
    assert result.returncode != 0 and "SP_DEBUG" in result.stderr


def test_production_refuses_weak_argon2(tmp_path: Path) -> None:
    result = _django_check(_production(tmp_path, SP_ARGON2_MEMORY_KIB="1024"))
    assert result.returncode != 0 and "core.E002" in result.stderr


def test_a_pepper_can_come_from_a_file(tmp_path: Path) -> None:
    pepper_file = tmp_path / "pepper"
    pepper_file.write_text("".join(f"{i:02x}" for i in range(32, 64)))
    env = _production(tmp_path, SP_PEPPER="")
    env["SP_PEPPER_FILE"] = str(pepper_file)
    result = _django_check(env, "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("pepper", ["not hex at all", "abcd"])
def test_a_malformed_pepper_is_refused(tmp_path: Path, pepper: str) -> None:
    result = _django_check(_production(tmp_path, SP_PEPPER=pepper))
    assert result.returncode != 0 and "SP_PEPPER" in result.stderr


def test_development_creates_its_own_secrets_under_var(tmp_path: Path) -> None:
    result = _django_check({"SP_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    pepper = tmp_path / "secrets" / "pepper"
    assert len(bytes.fromhex(pepper.read_text())) == 32
    assert oct(pepper.stat().st_mode & 0o777) == "0o600"


@override_settings(SP_ARGON2=sealbox.Argon2Params(time_cost=1, memory_kib=1024), SP_ALLOW_WEAK_ARGON2=False)
def test_the_deploy_check_flags_weak_argon2() -> None:
    assert [e.id for e in checks.check_argon2_strength(None)] == ["core.E001"]


@override_settings(SP_PEPPER=b"\x00" * 32)
def test_the_check_flags_a_pepper_that_is_not_random() -> None:
    assert [e.id for e in checks.check_instance_secret(None)] == ["core.E003"]


def test_the_test_settings_pass_every_check() -> None:
    assert [m for m in run_checks() if m.is_serious()] == []


@override_settings(SP_QUICK_EXIT_URL="http://example.org/")
def test_the_deploy_check_wants_an_https_quick_exit() -> None:
    assert [w.id for w in checks.check_intake_exit_and_hosts(None)] == ["core.W001"]


@override_settings(SP_INTAKE_CLEARNET_URL="http://desk.example.org/")
def test_the_deploy_check_wants_an_https_ordinary_address_for_the_intake() -> None:
    # The intake's page on blocks tells people their provider cannot see what they write there.
    assert [w.id for w in checks.check_intake_exit_and_hosts(None)] == ["core.W005"]


def test_the_deploy_check_wants_a_backup_recipient(tmp_path: Path) -> None:
    result = _django_check(_production(tmp_path, SP_BACKUP_RECIPIENT=""), "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "core.W010" in result.stderr


def test_the_deploy_check_wants_the_recovery_key_pinned(tmp_path: Path) -> None:
    result = _django_check(_production(tmp_path, SP_RECOVERY_PUBLIC_KEY=""), "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "core.W003" in result.stderr
