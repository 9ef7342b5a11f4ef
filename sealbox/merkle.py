"""An append-only Merkle log with RFC 6962 hashing (the custody log's structure).

Leaves and interior nodes are hashed apart, so no leaf can pose as a node:
    leaf  = SHA-256(0x00 || data)
    node  = SHA-256(0x01 || left || right)
The tree of n leaves splits at k, the largest power of two below n (RFC 6962 section 2.1; the
same in RFC 9162 section 2.1.1). Its head (size and root) is what the organisation signs.

- ``inclusion_proof(leaves, index, size)`` is the audit path of leaf ``index`` in the tree of the
  first ``size`` leaves; ``verify_inclusion`` checks it against a root with nothing but the leaf,
  so anyone can check an exported item offline.
- ``consistency_proof(leaves, old, new)`` shows that the tree of ``old`` leaves is a prefix of the
  tree of ``new`` leaves; ``verify_consistency`` checks it with the two roots alone: an earlier
  signed head cannot be reconciled with a log whose past was rewritten.

The verifiers follow RFC 9162 section 2.1.3.2 and 2.1.4.2 step by step. Trees are rebuilt from
the leaf hashes given (a log holds thousands of entries, not billions); subtree roots are
cached per call. Plain Python, no Django: the verifiers are what an outside checker runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

HASH_BYTES = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not hold, or a request that makes no sense (an index past the tree)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class _Tree:
    """Subtree roots over a fixed list of leaf hashes, each computed once."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        for value in leaf_hashes:
            if len(value) != HASH_BYTES:
                raise ProofError("a leaf hash is 32 bytes")
        self.leaves = tuple(leaf_hashes)
        self.root = lru_cache(maxsize=None)(self._root)

    def _root(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n == 1:
            return self.leaves[start]
        k = _split(n)
        return node_hash(self.root(start, start + k), self.root(start + k, end))

    def path(self, index: int, start: int, end: int) -> list[bytes]:
        """PATH(m, D[start:end]) of RFC 6962 section 2.1.1, m = index - start."""
        n = end - start
        if n <= 1:
            return []
        k = _split(n)
        if index - start < k:
            return [*self.path(index, start, start + k), self.root(start + k, end)]
        return [*self.path(index, start + k, end), self.root(start, start + k)]

    def subproof(self, m: int, start: int, end: int, complete: bool) -> list[bytes]:
        """SUBPROOF(m, D[start:end], b) of RFC 6962 section 2.1.2."""
        n = end - start
        if m == n:
            return [] if complete else [self.root(start, end)]
        k = _split(n)
        if m <= k:
            return [*self.subproof(m, start, start + k, complete), self.root(start + k, end)]
        return [*self.subproof(m - k, start + k, end, False), self.root(start, start + k)]


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of the leaves (of their leaf hashes, in order)."""
    return _Tree(leaf_hashes).root(0, len(leaf_hashes))


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    if not 0 <= index < size <= len(leaf_hashes):
        raise ProofError(f"no leaf {index} in a tree of {size}")
    return _Tree(leaf_hashes[:size]).path(index, 0, size)


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    if not 0 < old_size <= new_size <= len(leaf_hashes):
        raise ProofError(f"no consistency proof from {old_size} to {new_size} leaves")
    return _Tree(leaf_hashes[:new_size]).subproof(old_size, 0, new_size, True)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes) -> None:
    """RFC 9162 section 2.1.3.2. ``leaf`` is the leaf hash. Raises ProofError unless it holds."""
    if not 0 <= index < size:
        raise ProofError(f"no leaf {index} in a tree of {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0 or r != expected_root:
        raise ProofError("the leaf is not in the tree with this root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 section 2.1.4.2: the tree of ``old_size`` leaves with ``old_root`` is the start of
    the tree of ``new_size`` leaves with ``new_root``. Raises ProofError unless it holds."""
    if not 0 < old_size <= new_size:
        raise ProofError(f"no consistency from {old_size} to {new_size} leaves")
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError("the same size with another root, or a proof where none is needed")
        return
    if not proof:
        raise ProofError("an empty proof")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError("the old tree is not the start of the new one")
