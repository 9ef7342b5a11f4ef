"""A throwaway certificate authority and RFC 3161 timestamp authority run by the openssl command.

Everything lives in a pytest temporary directory; nothing leaves the machine. The TSA answers
exactly as ``openssl ts -reply`` does, so sealbox.timestamp is checked against an independent
implementation of the protocol, not against itself.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")

TSA_CONFIG = """\
[ tsa ]
default_tsa = tsa_config

[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
other_policies = 1.3.6.1.4.1.99999.2
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = {ess_alg}
"""

TSA_EXTENSIONS = """\
[ tsa ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[ plain ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
"""


def openssl(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=60)


def openssl_ok(*args: str | Path, cwd: Path) -> str:
    result = openssl(*args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclass(frozen=True)
class LocalTsa:
    """A CA (``ca.pem``) and the TSA it certified (``tsa.pem``), in ``dir``."""

    dir: Path

    @property
    def ca_pem(self) -> bytes:
        return (self.dir / "ca.pem").read_bytes()

    @property
    def tsa_pem(self) -> bytes:
        return (self.dir / "tsa.pem").read_bytes()

    def reply(self, request_der: bytes, name: str = "answer") -> bytes:
        """The TSA's TimeStampResp (DER) to a request."""
        (self.dir / f"{name}.tsq").write_bytes(request_der)
        openssl_ok(
            "ts", "-reply", "-config", "tsa.cnf", "-queryfile", f"{name}.tsq", "-out", f"{name}.tsr", cwd=self.dir
        )
        return (self.dir / f"{name}.tsr").read_bytes()

    def openssl_verifies(self, token_der: bytes, statement: bytes) -> subprocess.CompletedProcess[str]:
        """``openssl ts -verify`` of a token over ``statement``, trusting this TSA's CA."""
        (self.dir / "check.tst").write_bytes(token_der)
        (self.dir / "check.data").write_bytes(statement)
        return openssl(
            "ts", "-verify", "-token_in", "-in", "check.tst", "-data", "check.data",
            "-CAfile", "ca.pem", "-untrusted", "tsa.pem",
            cwd=self.dir,
        )  # fmt: skip

    def issue(
        self, name: str, extensions: str, *, key: str = "rsa", key_of: str | None = None, serial: int | None = None
    ) -> Path:
        """A certificate ``<name>.pem`` signed by this CA with an extension section, for a new key
        (or for the key of certificate ``key_of``), with the next serial (or ``serial``)."""
        key_file = f"{key_of or name}.key"
        if key_of is None:
            _new_key(self.dir, name, key)
        numbering = ["-CAcreateserial"] if serial is None else ["-set_serial", str(serial)]
        openssl_ok("req", "-new", "-key", key_file, "-subj", f"/CN=Local {name}", "-out", f"{name}.csr", cwd=self.dir)
        openssl_ok(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", *numbering,
            "-days", "2", "-sha256", "-extfile", "ext.cnf", "-extensions", extensions, "-out", f"{name}.pem",
            cwd=self.dir,
        )  # fmt: skip
        return self.dir / f"{name}.pem"


def make_local_tsa(directory: Path, *, key: str = "rsa", ess_alg: str = "sha256") -> LocalTsa:
    """A new CA and TSA in ``directory``. ``key`` is "rsa" or "ec"; ``ess_alg`` sha1 makes openssl
    name its certificate with ESS signingCertificate (v1), anything else with signingCertificateV2."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ext.cnf").write_text(TSA_EXTENSIONS)
    (directory / "tsa.cnf").write_text(TSA_CONFIG.format(dir=directory, ess_alg=ess_alg))
    (directory / "serial").write_text("01\n")
    _new_key(directory, "ca", key)
    openssl_ok(
        "req", "-x509", "-new", "-key", "ca.key", "-subj", f"/CN=Local CA {directory.name}", "-days", "2",
        "-sha256", "-addext", "basicConstraints=critical,CA:true",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "ca.pem",
        cwd=directory,
    )  # fmt: skip
    tsa = LocalTsa(directory)
    tsa.issue("tsa", "tsa", key=key)
    return tsa


def _new_key(directory: Path, name: str, key: str) -> None:
    algorithm = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
    if key == "ec":
        algorithm = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    openssl_ok("genpkey", *algorithm, "-out", f"{name}.key", cwd=directory)
