"""The Merkle log of sealbox/merkle.py against the test vectors of Certificate Transparency's
reference implementation (RFC 6962 hashing), and every proof of small trees checked both ways:
each honest proof holds, each altered one fails."""

from __future__ import annotations

import pytest

from sealbox import merkle

# The eight leaves of the reference test tree and the root of its first n leaves.
LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    bytes(range(0x60, 0x70)),
]
ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
INCLUSION_0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]
CONSISTENCY = {
    (1, 8): INCLUSION_0_OF_8,
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]


def test_the_empty_tree_and_the_reference_roots() -> None:
    assert merkle.root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for size, expected in ROOTS.items():
        assert merkle.root(HASHES[:size]).hex() == expected, size


def test_the_reference_proofs() -> None:
    assert [h.hex() for h in merkle.inclusion_proof(HASHES, 0, 8)] == INCLUSION_0_OF_8
    for (old, new), expected in CONSISTENCY.items():
        assert [h.hex() for h in merkle.consistency_proof(HASHES, old, new)] == expected
        merkle.verify_consistency(
            old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), [bytes.fromhex(h) for h in expected]
        )


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"custody entry {i}".encode()) for i in range(n)]


def _altered(proof: list[bytes]) -> list[list[bytes]]:
    """Every way of spoiling a proof: one flipped bit in each element, one element fewer, one more."""
    spoiled = []
    for i, element in enumerate(proof):
        flipped = bytes([element[0] ^ 1]) + element[1:]
        spoiled.append([*proof[:i], flipped, *proof[i + 1 :]])
    if proof:
        spoiled.append(proof[:-1])
    spoiled.append([*proof, b"\x00" * 32])
    return spoiled


@pytest.mark.parametrize("size", range(1, 34))
def test_every_inclusion_proof_holds_and_every_altered_one_fails(size: int) -> None:
    """(A proof does not bind the tree's size on its own: for some leaves the same path fits a
    tree one larger. The signed tree head binds size and root together.)"""
    hashes = _leaves(size)
    root = merkle.root(hashes)
    for index in range(size):
        proof = merkle.inclusion_proof(hashes, index, size)
        merkle.verify_inclusion(hashes[index], index, size, proof, root)
        for spoiled in _altered(proof):
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(hashes[index], index, size, spoiled, root)
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(merkle.leaf_hash(b"another entry"), index, size, proof, root)
        if size > 1:
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(hashes[index], (index + 1) % size, size, proof, root)


@pytest.mark.parametrize("new", range(1, 34))
def test_every_consistency_proof_holds_and_a_rewritten_past_fails(new: int) -> None:
    hashes = _leaves(new)
    new_root = merkle.root(hashes)
    for old in range(1, new + 1):
        old_root = merkle.root(hashes[:old])
        proof = merkle.consistency_proof(hashes, old, new)
        merkle.verify_consistency(old, new, old_root, new_root, proof)
        if old == new:
            continue
        for spoiled in _altered(proof):
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(old, new, old_root, new_root, spoiled)
        # The log's past rewritten: one earlier entry changed, the rest appended as before.
        rewritten = [*hashes]
        rewritten[old - 1] = merkle.leaf_hash(b"a rewritten entry")
        forged_root = merkle.root(rewritten)
        forged_proof = merkle.consistency_proof(rewritten, old, new)
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, old_root, forged_root, forged_proof)


def test_requests_outside_the_tree_are_refused() -> None:
    hashes = _leaves(5)
    for index, size in ((5, 5), (-1, 5), (0, 6), (0, 0)):
        with pytest.raises(merkle.ProofError):
            merkle.inclusion_proof(hashes, index, size)
    for old, new in ((0, 5), (6, 6), (4, 3)):
        with pytest.raises(merkle.ProofError):
            merkle.consistency_proof(hashes, old, new)
    with pytest.raises(merkle.ProofError):
        merkle.root([b"short"])
    root = merkle.root(hashes)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(5, 5, root, merkle.root(hashes[:4]), [])
    merkle.verify_consistency(5, 5, root, root, [])
