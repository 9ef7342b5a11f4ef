"""Threshold shares of the organisation recovery key (SLIP-39): any k of n rebuild it, fewer
rebuild nothing, and every error names a share by its place, never by its words."""

from __future__ import annotations

import itertools

import pytest

from sealbox import KeyPair, NotThisKey, ShareError, combine_recovery_shares, share_info, split_recovery_key

KEY = KeyPair.generate()


def _shares(threshold: int = 2, count: int = 3) -> list[str]:
    return split_recovery_key(KEY.private_key, threshold=threshold, count=count)


def test_any_two_of_three_shares_rebuild_the_key() -> None:
    shares = _shares()
    for pair in itertools.permutations(shares, 2):
        assert combine_recovery_shares(list(pair), public_key=KEY.public_key) == KEY.private_key


def test_three_of_five_need_three() -> None:
    shares = _shares(3, 5)
    assert combine_recovery_shares(shares[1:4], public_key=KEY.public_key) == KEY.private_key
    with pytest.raises(ShareError) as caught:
        combine_recovery_shares(shares[:2], public_key=KEY.public_key)
    assert caught.value.reason == "too_few"


def test_shares_are_thirty_three_words_with_their_index() -> None:
    shares = _shares()
    assert all(len(share.split()) == 33 for share in shares)
    assert [share_info(share).index for share in shares] == [1, 2, 3]
    assert len({share_info(share).identifier for share in shares}) == 1


def test_a_typo_is_named_by_position_without_its_words() -> None:
    shares = _shares()
    words = shares[1].split()
    words[7] = "academic" if words[7] != "academic" else "acid"
    with pytest.raises(ShareError) as caught:
        combine_recovery_shares([shares[0], " ".join(words)], public_key=KEY.public_key)
    assert (caught.value.reason, caught.value.position) == ("typo", 2)
    assert not any(word in str(caught.value) for word in words)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_share_of_another_set_is_refused_by_position() -> None:
    other = split_recovery_key(KEY.private_key, threshold=2, count=3)
    with pytest.raises(ShareError) as caught:
        combine_recovery_shares([_shares()[0], other[1]], public_key=KEY.public_key)
    assert (caught.value.reason, caught.value.position) == ("other_set", 2)


def test_a_share_of_the_expected_set_is_checked_against_its_identifier() -> None:
    shares = _shares()
    with pytest.raises(ShareError) as caught:
        combine_recovery_shares(shares[:2], identifier=share_info(shares[0]).identifier ^ 1, public_key=KEY.public_key)
    assert (caught.value.reason, caught.value.position) == ("other_set", 1)


def test_the_same_share_twice_is_refused() -> None:
    shares = _shares()
    with pytest.raises(ShareError) as caught:
        combine_recovery_shares([shares[0], shares[0]], public_key=KEY.public_key)
    assert (caught.value.reason, caught.value.position) == ("duplicate", 2)


def test_shares_of_another_organisations_key_do_not_belong_to_this_one() -> None:
    stranger = split_recovery_key(KeyPair.generate().private_key, threshold=2, count=3)
    with pytest.raises(NotThisKey):
        combine_recovery_shares(stranger[:2], public_key=KEY.public_key)


def test_spacing_and_case_do_not_matter() -> None:
    shares = _shares()
    messy = ["  " + share.upper().replace(" ", "\n ") for share in shares[:2]]
    assert combine_recovery_shares(messy, public_key=KEY.public_key) == KEY.private_key


@pytest.mark.parametrize(("threshold", "count"), [(1, 3), (3, 2), (2, 17)])
def test_it_refuses_thresholds_outside_sane_limits(threshold: int, count: int) -> None:
    with pytest.raises(ValueError, match="threshold"):
        split_recovery_key(KEY.private_key, threshold=threshold, count=count)
