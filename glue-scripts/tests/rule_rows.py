"""General payment rows that break every quality rule at least once (two program years, two files; the first
three alone break each row rule), shared by the rule tests of the curate job and of the DQDL rulesets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

RULE_ROWS = [
    (
        "1",
        2023,
        "raw/general/program_year=2023/a",
        "CA",
        Decimal("1.00"),
        date(2023, 5, 1),
        date(2025, 1, 30),
    ),
    (
        None,
        2023,
        "raw/general/program_year=2022/a",
        "XX",
        Decimal("0.00"),
        date(2022, 12, 31),
        date(2025, 1, 30),
    ),
    (
        "3",
        2023,
        "raw/general/program_year=2023/a",
        None,
        Decimal("-5.00"),
        date(2023, 1, 1),
        date(2025, 1, 31),
    ),
    (
        "3",
        2023,
        "raw/general/program_year=2023/a",
        "NY",
        Decimal("2.50"),
        date(2023, 2, 1),
        date(2025, 1, 30),
    ),
    ("3", 2022, "raw/general/program_year=2022/b", "PR", None, date(2022, 2, 1), date(2024, 1, 30)),
    (
        "4",
        2022,
        "raw/general/program_year=2022/b",
        "AE",
        Decimal("9.99"),
        date(2022, 3, 1),
        date(2024, 1, 30),
    ),
]
RULE_SCHEMA = (
    "record_id string, program_year int, source_object string, recipient_state string, "
    "total_amount_of_payment_usdollars decimal(18,2), date_of_payment date, payment_publication_date date"
)
