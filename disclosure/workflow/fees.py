"""Information-processing fees (信息处理费), Art. 42 and the 2020 Fee Measures (国办函〔2020〕109号).

Providing information is free unless the quantity or frequency clearly exceeds a reasonable
range. An agency uses one of two scales:

- by count (按件): each application is priced by its rank k among the applicant's
  applications in the calendar month — nothing for k ≤ 10, 100 yuan for 11 ≤ k ≤ 30, and
  100 yuan more for each further block of ten (31–40: 200, 41–50: 300, …);
- by volume (按量), per application, each page at the price of its tier: pages 1–30 free,
  31–100 at 10 yuan, 101–200 at 20 yuan, above 200 at 40 yuan a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from disclosure.errors import RuleViolation


class FeeScale(StrEnum):
    BY_COUNT = "count"
    BY_VOLUME = "volume"


FEE_SCALE_LABELS = {FeeScale.BY_COUNT: "按件计收", FeeScale.BY_VOLUME: "按量计收"}

#: (first page, last page or None, yuan per page) of the volume scale.
_VOLUME_TIERS: tuple[tuple[int, int | None, int], ...] = (
    (31, 100, 10),
    (101, 200, 20),
    (201, None, 40),
)


@dataclass(frozen=True)
class Fee:
    """A computed fee with its line-by-line working, ready for the fee notice.

    Attributes:
        scale: which scale the agency uses.
        quantity: the k-th application this month (by count) or the number of pages.
        amount: yuan, two decimals.
        lines: the computation, one Chinese line per tier.
        basis: one line naming the rule applied.
    """

    scale: FeeScale
    quantity: int
    amount: Decimal
    lines: tuple[str, ...]
    basis: str


def _yuan(value: int) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def count_fee_per_application(k: int) -> int:
    """Yuan charged for the applicant's k-th application in a calendar month."""
    if k < 1:
        raise RuleViolation("month_rank", "positive", f"本月申请序号须为正整数，实为{k}")
    if k <= 10:
        return 0
    if k <= 30:
        return 100
    return 100 * (2 + (k - 31) // 10)


def compute_fee(scale: FeeScale, quantity: int) -> Fee:
    """The fee for one application.

    Args:
        scale: the agency's chosen scale.
        quantity: by count, this application's rank among the applicant's applications in
            the calendar month (1 = the first); by volume, the number of pages.

    Raises:
        RuleViolation: quantity is not a positive whole number.
    """
    if quantity < 1:
        field = "month_rank" if scale is FeeScale.BY_COUNT else "pages"
        raise RuleViolation(field, "positive", f"计费数量须为正整数，实为{quantity}")
    if scale is FeeScale.BY_COUNT:
        price = count_fee_per_application(quantity)
        lines = (
            f"本申请为申请人本自然月内第{quantity}件申请；",
            "10件以下（含10件）不收费，11—30件每件100元，31件起每增加10件每件提高100元；",
            f"本件适用标准：{price}元/件，应缴{_yuan(price)}元。",
        )
        return Fee(
            scale, quantity, _yuan(price), lines, "按件计收（同一申请人一个自然月内累计申请件数）"
        )
    total, lines_list = 0, [f"本申请所需信息共{quantity}页，30页以下（含30页）不收费；"]
    for first, last, per_page in _VOLUME_TIERS:
        top = quantity if last is None else min(quantity, last)
        pages = top - first + 1
        if pages <= 0:
            continue
        part = pages * per_page
        total += part
        span = f"{first}页以上" if last is None else f"{first}—{last}页"
        lines_list.append(f"{span}部分{pages}页×{per_page}元/页＝{part}元；")
    lines_list.append(f"合计应缴{_yuan(total)}元。")
    return Fee(scale, quantity, _yuan(total), tuple(lines_list), "按量计收（按页数分段累进）")
