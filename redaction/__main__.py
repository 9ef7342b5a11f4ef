"""Command line: ``python -m redaction redact IN.jsonl --out OUT.jsonl --key-file KEY``,
``python -m redaction verify PACKAGE [--public-key HEX] [--tsa-cert PEM]``.

Each input line is {"id", "text", "lang"} (lang "ru" or "en", or absent); each output line is
{"id", "text", "pseudonyms"}: the redacted text and a map from every replaced name mention to
its pseudonym. The key file holds the pseudonym key (32 random bytes, hex); it is created if
missing. Keep one key for the documents whose pseudonyms should agree; use a new key for each
export that must not be joined with another.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

from redaction.pipeline import Document, redact

KEY_BYTES = 32


def load_key(path: Path) -> bytes:
    """The pseudonym key; a new random one is written (owner-only) if the file does not exist."""
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        key = secrets.token_bytes(KEY_BYTES)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(key.hex() + "\n")
        return key


def read_documents(path: Path) -> list[Document]:
    documents = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                documents.append(Document(str(record["id"]), str(record["text"]), record.get("lang") or None))
            except (ValueError, KeyError, TypeError) as error:
                raise SystemExit(f"{path}:{number}: not a {{id, text, lang}} line ({error})") from error
    return documents


def command_redact(arguments: argparse.Namespace) -> int:
    key = load_key(Path(arguments.key_file))
    results = redact(read_documents(Path(arguments.input)), key)
    with Path(arguments.out).open("w", encoding="utf-8") as handle:
        for result in results:
            line = {"id": result.id, "text": result.text, "pseudonyms": result.pseudonyms}
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"{len(results)} documents redacted into {arguments.out}", file=sys.stderr)
    return 0


def command_evaluate(arguments: argparse.Namespace) -> int:
    from redaction.evaluate import evaluate_file, report

    print(report(evaluate_file(Path(arguments.annotated))))
    return 0


def command_verify(arguments: argparse.Namespace) -> int:
    from redaction.package import PackageError, parse_public_key, verify_package

    try:
        public_key = None if arguments.public_key is None else parse_public_key(arguments.public_key)
    except PackageError as error:
        raise SystemExit(f"--public-key: {error}") from error
    try:
        package = Path(arguments.package).read_bytes()
        tsa_cert = None if arguments.tsa_cert is None else Path(arguments.tsa_cert).read_bytes()
    except OSError as error:
        raise SystemExit(f"cannot read {error.filename}: {error.strerror}") from error
    report = verify_package(package, public_key=public_key, tsa_cert_pem=tsa_cert)
    print(report.render())
    return 0 if report.ok else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m redaction", description="Redact and pseudonymise testimonies.")
    commands = top.add_subparsers(dest="command", required=True)
    redact_ = commands.add_parser("redact", help="redact a JSONL file of {id, text, lang}")
    redact_.add_argument("input", metavar="IN.jsonl")
    redact_.add_argument("--out", required=True, metavar="OUT.jsonl")
    redact_.add_argument("--key-file", required=True, metavar="KEY")
    redact_.set_defaults(run=command_redact)
    evaluate = commands.add_parser("evaluate", help="measure redaction on an annotated JSONL set")
    evaluate.add_argument("annotated", metavar="SET.jsonl")
    evaluate.set_defaults(run=command_evaluate)
    verify = commands.add_parser("verify", help="check an evidence export package (ZIP) offline")
    verify.add_argument("package", metavar="PACKAGE")
    verify.add_argument(
        "--public-key", metavar="HEX", help="the organisation's published signing key (64 hex digits, spaces allowed)"
    )
    verify.add_argument(
        "--tsa-cert", metavar="PEM", help="the timestamp authority's certificate, for timestamped proofs"
    )
    verify.set_defaults(run=command_verify)
    return top


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    result: int = arguments.run(arguments)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
