"""The command line: JSONL in, JSONL out, a key file made once and kept private."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from redaction.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def write_lines(path: Path, records: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_it_redacts_a_file_and_creates_a_private_key(tmp_path: Path) -> None:
    source, out, key = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "key"
    write_lines(
        source,
        [
            {"id": "a", "text": "Меня зовут Ислам Дудаев.", "lang": "ru"},
            {"id": 2, "text": "Islam Dudaev called +7 928 123-45-67."},
        ],
    )
    assert main(["redact", str(source), "--out", str(out), "--key-file", str(key)]) == 0
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["a", "2"]
    assert set(lines[0]) == {"id", "text", "pseudonyms"}
    assert lines[0]["pseudonyms"]["Ислам Дудаев"] == lines[1]["pseudonyms"]["Islam Dudaev"]
    assert "[PHONE]" in lines[1]["text"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.read_text().strip())) == 32


def test_the_same_key_file_gives_the_same_pseudonyms_on_a_later_run(tmp_path: Path) -> None:
    source, key = tmp_path / "in.jsonl", tmp_path / "key"
    write_lines(source, [{"id": "a", "text": "Ахмед Тимиров пропал.", "lang": "ru"}])
    outputs = []
    for name in ("one.jsonl", "two.jsonl"):
        main(["redact", str(source), "--out", str(tmp_path / name), "--key-file", str(key)])
        outputs.append((tmp_path / name).read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]


def test_a_malformed_line_is_refused_with_its_line_number(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a", "text": "ok"}\n{"text": "no id"}\n', encoding="utf-8")
    with pytest.raises(SystemExit, match=r"in.jsonl:2"):
        main(["redact", str(source), "--out", str(tmp_path / "o"), "--key-file", str(tmp_path / "k")])


def test_it_runs_as_a_module(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    write_lines(source, [{"id": "a", "text": "Hello from Grozny.", "lang": "en"}])
    command = [sys.executable, "-m", "redaction", "redact", str(source), "--out", str(tmp_path / "o.jsonl"),
               "--key-file", str(tmp_path / "k")]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=120)
    assert json.loads((tmp_path / "o.jsonl").read_text(encoding="utf-8"))["text"] == "Hello from Grozny."
