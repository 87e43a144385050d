"""Information-processing fees against naive references written here (ogi-rules.md §5).

By volume the reference prices every page on its own (no tiers, no subtraction); by count
it walks the blocks of ten from the 31st application on. Neither reuses anything from
``disclosure.workflow.fees`` except the function under test.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from disclosure.errors import RuleViolation
from disclosure.workflow.fees import FeeScale, compute_fee

FAST = settings(max_examples=200, deadline=None)
PAGES = st.integers(min_value=1, max_value=5000)
RANKS = st.integers(min_value=1, max_value=1000)


# --- the naive references -------------------------------------------------------------------


def page_price(page: int) -> int:
    """Yuan for the p-th page of one application."""
    if page <= 30:
        return 0
    if page <= 100:
        return 10
    if page <= 200:
        return 20
    return 40


def naive_volume(pages: int) -> Decimal:
    return Decimal(sum(page_price(p) for p in range(1, pages + 1)))


def naive_count(k: int) -> Decimal:
    """Yuan for the applicant's k-th application in a month: walk the blocks of ten."""
    if k <= 10:
        return Decimal(0)
    if k <= 30:
        return Decimal(100)
    price, block_last = 200, 40  # 31–40 cost 200; every further block of ten 100 more
    while k > block_last:
        price += 100
        block_last += 10
    return Decimal(price)


def amount(scale: FeeScale, quantity: int) -> Decimal:
    return compute_fee(scale, quantity).amount


# --- boundary table -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "quantity", "expected"),
    [
        (FeeScale.BY_COUNT, 10, "0.00"),
        (FeeScale.BY_COUNT, 11, "100.00"),
        (FeeScale.BY_COUNT, 30, "100.00"),
        (FeeScale.BY_COUNT, 31, "200.00"),
        (FeeScale.BY_COUNT, 40, "200.00"),
        (FeeScale.BY_COUNT, 41, "300.00"),
        (FeeScale.BY_COUNT, 50, "300.00"),
        (FeeScale.BY_COUNT, 51, "400.00"),
        (FeeScale.BY_VOLUME, 30, "0.00"),
        (FeeScale.BY_VOLUME, 31, "10.00"),
        (FeeScale.BY_VOLUME, 100, "700.00"),
        (FeeScale.BY_VOLUME, 101, "720.00"),
        (FeeScale.BY_VOLUME, 200, "2700.00"),
        (FeeScale.BY_VOLUME, 201, "2740.00"),
    ],
    ids=lambda value: value.value if isinstance(value, FeeScale) else str(value),
)
def test_boundaries(scale: FeeScale, quantity: int, expected: str) -> None:
    fee = compute_fee(scale, quantity)
    assert fee.scale is scale
    assert fee.quantity == quantity
    assert str(fee.amount) == expected
    assert fee.lines[-1].endswith(f"{expected}元。")


# --- by volume ------------------------------------------------------------------------------


@FAST
@given(PAGES)
def test_volume_fee_is_the_sum_of_page_prices(pages: int) -> None:
    fee = compute_fee(FeeScale.BY_VOLUME, pages)
    assert fee.amount == naive_volume(pages)
    assert fee.amount.as_tuple().exponent == -2
    assert f"{pages}页" in fee.lines[0]
    assert fee.lines[-1] == f"合计应缴{fee.amount}元。"
    assert fee.basis


@FAST
@given(PAGES, PAGES)
def test_volume_fee_never_falls_with_more_pages(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert amount(FeeScale.BY_VOLUME, low) <= amount(FeeScale.BY_VOLUME, high)
    assert amount(FeeScale.BY_VOLUME, low) <= amount(FeeScale.BY_VOLUME, low + 1)


# --- by count -------------------------------------------------------------------------------


@FAST
@given(RANKS)
def test_count_fee_follows_the_blocks_of_ten(k: int) -> None:
    fee = compute_fee(FeeScale.BY_COUNT, k)
    assert fee.amount == naive_count(k)
    assert fee.amount.as_tuple().exponent == -2
    assert f"第{k}件" in fee.lines[0]
    assert fee.lines[-1].endswith(f"应缴{fee.amount}元。")


@FAST
@given(RANKS, RANKS)
def test_count_fee_never_falls_with_a_later_rank(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert amount(FeeScale.BY_COUNT, low) <= amount(FeeScale.BY_COUNT, high)
    assert amount(FeeScale.BY_COUNT, low) <= amount(FeeScale.BY_COUNT, low + 1)


# --- invalid quantities ---------------------------------------------------------------------


@FAST
@given(
    st.sampled_from([(FeeScale.BY_VOLUME, "pages"), (FeeScale.BY_COUNT, "month_rank")]),
    st.integers(max_value=0),
)
def test_quantity_below_one_is_refused(scale_field: tuple[FeeScale, str], quantity: int) -> None:
    scale, field = scale_field
    with pytest.raises(RuleViolation) as caught:
        compute_fee(scale, quantity)
    assert caught.value.rule == "positive"
    assert caught.value.field == field
