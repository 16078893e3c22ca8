"""``manage.py import_orders``: a marketplace's CSV export through ``upsert_order``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from mediation.errors import InvalidInput
from mediation.management.commands.import_orders import (
    COLUMNS,
    MAJOR,
    MINOR,
    MINOR_COLUMNS,
    Command,
    parse_amount,
    parse_items,
    parse_row,
    parse_when,
)
from mediation.models import Order, OrderItem
from mediation.services import ItemData

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
SAMPLE = SAMPLES / "orders.csv"
SAMPLE_MINOR = SAMPLES / "orders_minor.csv"
User = get_user_model()


def row(external_id: str, /, **cells: str) -> dict[str, str]:
    """A valid new Paper Petals order for alice unless ``cells`` say otherwise."""
    return {
        "external_id": external_id,
        "buyer": "alice",
        "buyer_email": "alice@example.com",
        "shop": "paper-petals",
        "currency": "USD",
        "total_minor": "5000",
        "shipping_minor": "500",
        "placed_at": "2025-05-01T10:00:00Z",
        "shipped_at": "",
        "carrier": "",
        "tracking_number": "",
        "delivered_at": "",
        "items": "PP-TEST|Test bouquet|1|5000",
        **cells,
    }


def existing(external_id: str, **cells: str) -> dict[str, str]:
    """A row restating a demo order as it is, with ``cells`` changed."""
    order = Order.objects.get(external_id=external_id)
    items = ";".join(
        f"{i.sku}|{i.title}|{i.quantity}|{i.unit_price}" for i in order.items.order_by("pk")
    )
    return (
        row(
            external_id,
            buyer=order.buyer.username,
            buyer_email=order.buyer.email,
            shop=order.shop.slug,
            currency=order.currency,
            total_minor=str(order.total),
            shipping_minor=str(order.shipping),
            placed_at=order.placed_at.isoformat(),
            shipped_at=order.shipped_at.isoformat() if order.shipped_at else "",
            carrier=order.carrier,
            tracking_number=order.tracking_number,
            delivered_at=order.delivered_at.isoformat() if order.delivered_at else "",
            items=items,
        )
        | cells
    )


def write(
    tmp_path: Path,
    rows: list[dict[str, str]],
    *,
    columns: tuple[str, ...] | list[str] = MINOR_COLUMNS,
    encoding: str = "utf-8",
) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "orders.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


class Run:
    def __init__(self, out: str, err: str, error: CommandError | None) -> None:
        self.out, self.err, self.error = out, err, error

    @property
    def ok(self) -> bool:
        return self.error is None


def run(path: Path, *args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_orders", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return Run(out.getvalue(), err.getvalue(), exc)
    return Run(out.getvalue(), err.getvalue(), None)


def counts() -> tuple[int, int, int]:
    return Order.objects.count(), OrderItem.objects.count(), User.objects.count()


def snapshot() -> list[tuple[Any, ...]]:
    fields = [f.name for f in Order._meta.fields if f.name != "updated_at"]
    orders = list(Order.objects.order_by("external_id").values_list(*fields))
    items = list(OrderItem.objects.order_by("order_id", "sku").values_list())
    return [*orders, *items]


# --- counts and refusals -----------------------------------------------------------------


def test_creates_new_orders_and_updates_known_ones(demo: dict[str, Any], tmp_path: Path) -> None:
    shipped = Order.objects.get(external_id="PP-1002").shipped_at
    assert shipped is not None
    delivered = (shipped + timedelta(days=3)).replace(tzinfo=None, microsecond=0).isoformat()
    path = write(
        tmp_path,
        [
            row("T-1", items="A|Alpha|2|1500;B|Beta, large|1|2000"),
            existing("PP-1002", tracking_number="NEW-TRACKING", delivered_at=delivered),
            row("T-2", buyer="newbie", buyer_email="newbie@example.com", shop="inkwell-studio"),
        ],
    )
    result = run(path)
    assert result.ok, result.out
    assert "Imported: created 2, updated 1, refused 0." in result.out

    pp = Order.objects.get(external_id="PP-1002")
    assert pp.tracking_number == "NEW-TRACKING"
    assert pp.delivered_at == datetime.fromisoformat(delivered).replace(tzinfo=UTC)
    assert list(pp.items.values_list("sku", flat=True)) == ["PP-ROSE-3"]
    t2 = Order.objects.get(external_id="T-2")
    assert (t2.buyer.username, t2.buyer.email, t2.shop.slug) == (
        "newbie",
        "newbie@example.com",
        "inkwell-studio",
    )


def test_items_are_parsed(demo: dict[str, Any], tmp_path: Path) -> None:
    path = write(tmp_path, [row("T-1", items=" A | Alpha | 2 | 1500 ; B|Beta, large|1|2050 ;")])
    assert run(path).ok
    order = Order.objects.get(external_id="T-1")
    assert list(
        order.items.order_by("sku").values_list("sku", "title", "quantity", "unit_price")
    ) == [
        ("A", "Alpha", 2, 1500),
        ("B", "Beta, large", 1, 2050),
    ]


def test_a_refused_row_in_the_middle_leaves_nothing_and_the_rest_goes_in(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        [
            row("T-1"),
            row("T-2", buyer="zed", buyer_email="zed@example.com", shop="nowhere"),
            row("T-3"),
        ],
    )
    result = run(path)

    assert result.error is not None and result.error.returncode == 1
    assert str(result.error) == "1 of 3 rows refused; the others were imported."
    assert "Imported: created 2, updated 0, refused 1." in result.out
    assert "line 3 (T-2): unknown_shop: No shop 'nowhere'." in result.out
    assert set(
        Order.objects.filter(external_id__startswith="T-").values_list("external_id", flat=True)
    ) == {"T-1", "T-3"}
    assert not User.objects.filter(username="zed").exists()


def test_a_row_refused_after_the_service_wrote_is_rolled_back_whole(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    # upsert_order creates an unknown buyer before it sees that the order is someone
    # else's: the row's transaction takes the new user back with it.
    before = snapshot()
    path = write(tmp_path, [existing("PP-1001", buyer="mallory", buyer_email="m@example.com")])
    result = run(path)
    assert "line 2 (PP-1001): order_immutable_field:" in result.out
    assert not User.objects.filter(username="mallory").exists()
    assert snapshot() == before


def test_line_numbers_are_physical_lines(demo: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    header = ",".join(MINOR_COLUMNS)
    good = 'T-1,alice,,paper-petals,USD,5000,0,2025-05-01,,"USPS\nGround",,,'
    bad = "T-2,alice,,paper-petals,USD,12x,0,2025-05-01,,,,,"
    path.write_text(f"{header}\n{good}\n\n{bad}\n", encoding="utf-8")
    result = run(path)
    # Header on line 1, T-1 on lines 2-3 (a quoted line break), a blank line 4, T-2 on 5.
    assert "line 5 (T-2): invalid: total_minor: '12x' is not an amount" in result.out
    assert Order.objects.get(external_id="T-1").carrier == "USPS\nGround"


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({"total_minor": "12x"}, "invalid: total_minor: '12x' is not an amount"),
        ({"total_minor": "1,000"}, "invalid: total_minor: '1,000' is not an amount"),
        ({"total_minor": "1e3"}, "invalid: total_minor: '1e3' is not an amount"),
        ({"total_minor": ""}, "invalid: total_minor: is required."),
        ({"total_minor": "-100"}, "invalid: total is a non-negative integer in minor units."),
        ({"shipping_minor": "-100"}, "invalid: shipping is a non-negative integer in minor"),
        (
            {"total_minor": "99999999999999999999"},
            "invalid: total_minor: '99999999999999999999' is too large.",
        ),
        ({"currency": "XYZ"}, "invalid: currency: 'XYZ' is not an ISO 4217 currency."),
        ({"currency": ""}, "invalid: currency: is required."),
        ({"shop": "nowhere"}, "unknown_shop: No shop 'nowhere'."),
        ({"buyer": ""}, "invalid: buyer: is required."),
        ({"buyer": "alice smith"}, "invalid: buyer: 'alice smith': Enter a valid username."),
        ({"buyer_email": "not-an-email"}, "invalid: buyer_email: 'not-an-email' is not an email"),
        ({"external_id": "X" * 101}, "invalid: external_id: is longer than 100 characters."),
        ({"placed_at": ""}, "invalid: placed_at: is required."),
        ({"placed_at": "01/05/2025"}, "invalid: placed_at: '01/05/2025' is not an ISO 8601"),
        (
            {"shipped_at": "2025-05-03", "delivered_at": "2025-05-02"},
            "delivered_before_shipped: delivered_at is before shipped_at.",
        ),
        (
            {"items": "A|Alpha|1"},
            "invalid: items: item 1 ('A|Alpha|1') is not sku|title|quantity|unit_price.",
        ),
        (
            {"items": "A|Alpha|0|100"},
            "invalid: items: item 1 quantity '0' is not a positive integer.",
        ),
        ({"items": "A|Alpha|1.5|100"}, "invalid: items: item 1 quantity '1.5' is not a positive"),
        ({"items": "A|Alpha|1|x"}, "invalid: items: item 1 unit_price: 'x' is not an amount"),
        ({"items": "A|Alpha|1|-5"}, "invalid: Each item needs a sku, a title, a quantity"),
        ({"items": "A||1|100"}, "invalid: items: item 1 needs a sku and a title."),
        (
            {"items": "A|Alpha|1|100;A|Again|1|100"},
            "invalid: items: sku 'A' appears more than once.",
        ),
    ],
)
def test_bad_cells_are_refused_with_a_reason(
    demo: dict[str, Any], tmp_path: Path, cells: dict[str, str], reason: str
) -> None:
    before = counts()
    path = write(tmp_path, [row("T-1", **cells)])
    result = run(path)
    assert result.error is not None
    assert "created 0, updated 0, refused 1." in result.out
    assert f"line 2 ({cells.get('external_id', 'T-1')}): {reason}" in result.out
    assert counts() == before


def test_lowering_an_order_below_what_was_refunded_is_refused(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    order = Order.objects.get(external_id="PP-1006")
    assert order.refunded_total == 1500  # the demo's settled dispute
    path = write(tmp_path, [existing("PP-1006", total_minor="1000", shipping_minor="0")])
    result = run(path)
    assert "line 2 (PP-1006): amount_below_refunded:" in result.out
    order.refresh_from_db()
    assert (order.total, order.shipping) == (2900, 500)


@pytest.mark.parametrize(
    "cells",
    [{"buyer": "bob"}, {"shop": "inkwell-studio"}, {"currency": "EUR"}],
    ids=["buyer", "shop", "currency"],
)
def test_an_order_keeps_its_buyer_shop_and_currency(
    demo: dict[str, Any], tmp_path: Path, cells: dict[str, str]
) -> None:
    before = snapshot()
    result = run(write(tmp_path, [existing("PP-1001", **cells)]))
    assert (
        "line 2 (PP-1001): order_immutable_field: An order keeps its buyer, shop and currency."
        in result.out
    )
    assert snapshot() == before


def test_a_duplicate_external_id_is_refused_on_its_second_row(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    path = write(
        tmp_path, [row("T-1", total_minor="1000"), row("T-2"), row("T-1", total_minor="2000")]
    )
    result = run(path)
    assert "created 2, updated 0, refused 1." in result.out
    assert (
        "line 4 (T-1): duplicate_external_id: external_id 'T-1' already appeared on line 2"
        in result.out
    )
    assert Order.objects.get(external_id="T-1").total == 1000


def test_a_row_with_the_wrong_number_of_fields_is_refused(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    path = write(tmp_path, [row("T-1")])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("T-2,alice,,paper-petals,USD,5000\n")
    result = run(path)
    assert "line 3 (T-2): malformed_row: The row has 6 fields; the header has 13." in result.out
    assert Order.objects.filter(external_id="T-1").exists()


# --- the file as a whole -------------------------------------------------------------------


def test_missing_columns_fail_before_any_row(demo: dict[str, Any], tmp_path: Path) -> None:
    before = counts()
    columns = [c for c in MINOR_COLUMNS if c not in {"total_minor", "items"}]
    result = run(write(tmp_path, [row("T-1")], columns=columns))
    assert result.error is not None
    assert str(result.error).startswith(
        "The header lacks the required column(s): total_minor, items."
    )
    assert counts() == before


def test_buyer_email_column_is_optional_and_unknown_columns_are_ignored(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    columns = [c for c in MINOR_COLUMNS if c != "buyer_email"] + ["note"]
    result = run(write(tmp_path, [row("T-1", note="gift")], columns=columns))
    assert result.ok
    assert "Ignoring unknown column(s): note." in result.err
    assert Order.objects.filter(external_id="T-1").exists()


def test_header_names_are_trimmed_and_case_insensitive(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    path = write(tmp_path, [row("T-1")])
    text = path.read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    path.write_text(",".join(f" {c.upper()} " for c in header.split(",")) + "\n" + rest)
    assert run(path).ok


def test_a_utf8_file_read_as_plain_utf8_keeps_its_header(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    path = write(tmp_path, [row("T-1")], encoding="utf-8-sig")
    assert run(path, "--encoding", "utf-8").ok


def test_a_file_of_refused_rows_says_nothing_was_imported(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    result = run(write(tmp_path, [row("T-1", shop="nowhere"), row("T-2", total_minor="x")]))
    assert result.error is not None
    assert str(result.error) == "2 of 2 rows refused; nothing was imported."
    assert "line 2 (T-1): unknown_shop" in result.out and "line 3 (T-2): invalid" in result.out


def test_a_repeated_column_is_refused(demo: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(",".join([*COLUMNS, "total"]) + "\n", encoding="utf-8")
    result = run(path)
    assert result.error is not None and "repeats the column(s): total" in str(result.error)


@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["zero-bytes", "blank-lines"])
def test_an_empty_file_is_refused(db: Any, tmp_path: Path, content: str) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(content, encoding="utf-8")
    result = run(path)
    assert result.error is not None and "is empty" in str(result.error)


def test_a_header_without_rows_imports_nothing(demo: dict[str, Any], tmp_path: Path) -> None:
    result = run(write(tmp_path, []))
    assert result.ok
    assert "Imported: created 0, updated 0, refused 0." in result.out


def test_a_missing_file_and_an_unknown_encoding_are_refused(db: Any, tmp_path: Path) -> None:
    result = run(tmp_path / "nope.csv")
    assert result.error is not None and "No file" in str(result.error)
    path = write(tmp_path, [])
    result = run(path, "--encoding", "klingon")
    assert result.error is not None and str(result.error) == "Unknown encoding 'klingon'."


def test_a_file_in_another_encoding_is_refused_before_any_row(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    before = counts()
    rows = [row("T-1"), row("T-2"), row("T-3", items="C|Carte postale, café|1|300")]
    path = write(tmp_path, rows, encoding="cp1252")

    result = run(path)
    assert result.error is not None
    message = str(result.error)
    assert "is not valid utf-8-sig text: byte b'\\xe9' on line 4" in message
    assert "--encoding" in message
    assert counts() == before  # not even the rows before the bad byte

    assert run(path, "--encoding", "cp1252").ok
    assert OrderItem.objects.get(sku="C").title == "Carte postale, café"


def test_a_utf8_byte_order_mark_is_accepted(demo: dict[str, Any], tmp_path: Path) -> None:
    path = write(tmp_path, [row("T-1", items="C|Crème|1|300")], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert run(path).ok
    assert OrderItem.objects.get(sku="C").title == "Crème"


def test_not_valid_csv_is_refused(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    huge = "x" * (csv.field_size_limit() + 1)
    path.write_text(",".join(MINOR_COLUMNS) + f'\nT-1,"{huge}"\n', encoding="utf-8")
    result = run(path)
    assert result.error is not None and "is not valid CSV" in str(result.error)


# --- dry run, exit status, progress, idempotence -------------------------------------------


def test_dry_run_checks_everything_and_writes_nothing(demo: dict[str, Any], tmp_path: Path) -> None:
    before, state = counts(), snapshot()
    path = write(
        tmp_path,
        [
            row("T-1", buyer="newbie"),
            existing("PP-1002", tracking_number="CHANGED"),
            row("T-1"),
        ],
    )
    result = run(path, "--dry-run")

    assert "Dry run, nothing was written: created 1, updated 1, refused 1." in result.out
    assert "line 4 (T-1): duplicate_external_id" in result.out
    assert result.error is not None and str(result.error) == (
        "1 of 3 rows refused; nothing was written (dry run)."
    )
    assert counts() == before and snapshot() == state
    assert not User.objects.filter(username="newbie").exists()


def test_dry_run_of_a_clean_file_exits_zero(demo: dict[str, Any], tmp_path: Path) -> None:
    before = counts()
    result = run(write(tmp_path, [row("T-1")]), "--dry-run")
    assert result.ok
    assert "Dry run, nothing was written: created 1, updated 0, refused 0." in result.out
    assert counts() == before


def test_exit_status_from_the_command_line(
    demo: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # run_from_argv closes the connections when it ends; keep the test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    good = write(tmp_path, [row("T-1")])
    out, err = io.StringIO(), io.StringIO()
    Command(stdout=out, stderr=err).run_from_argv(["manage.py", "import_orders", str(good)])
    assert "created 1" in out.getvalue()

    bad = write(tmp_path, [row("T-2"), row("T-3", shop="nowhere"), row("T-4")])
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        Command(stdout=out, stderr=err).run_from_argv(["manage.py", "import_orders", str(bad)])
    assert exit_info.value.code == 1
    assert "CommandError: 1 of 3 rows refused" in err.getvalue()
    # Every row was tried before the command failed.
    assert Order.objects.filter(external_id__in=["T-2", "T-4"]).count() == 2


def test_progress_bar_on_stderr_only_when_asked_or_on_a_terminal(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    path = write(tmp_path, [row("T-1"), row("T-2")])
    quiet = run(path)
    assert quiet.err == ""
    shown = run(path, "--progress")
    assert "Importing orders" in shown.err and "2/2" in shown.err
    assert "Importing orders" not in shown.out


def test_reimporting_the_same_file_updates_and_changes_nothing(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        [row("T-1", items="A|Alpha|2|1500;B|Beta|1|2000"), existing("PP-1003"), row("T-2")],
    )
    assert "created 2, updated 1, refused 0" in run(path).out
    before, state = counts(), snapshot()

    again = run(path)

    assert again.ok
    assert "Imported: created 0, updated 3, refused 0." in again.out
    assert counts() == before and snapshot() == state


def test_the_sample_file_imports_cleanly_against_the_demo_data(demo: dict[str, Any]) -> None:
    before = Order.objects.count()
    result = run(SAMPLE)
    assert result.ok, result.out
    assert "Imported: created 6, updated 0, refused 0." in result.out
    assert Order.objects.count() == before + 6

    decimal = Order.objects.get(external_id="PP-2002")
    assert (decimal.total, decimal.shipping, decimal.currency) == (24000, 550, "USD")
    assert decimal.items.get().title == "Everlasting paper peony bouquet, XL"
    assert decimal.buyer.email == "carol@example.com"
    yen = Order.objects.get(external_id="IW-3001")
    assert (yen.total, yen.shipping, yen.currency) == (12800, 800, "JPY")
    assert yen.placed_at == datetime(2025, 5, 10, 18, 0, tzinfo=UTC)
    dinar = Order.objects.get(external_id="IW-3002")
    assert (dinar.total, dinar.shipping, dinar.currency) == (12500, 1250, "BHD")
    assert {o.shop.slug for o in Order.objects.filter(external_id__in=["PP-2001", "IW-3003"])} == {
        "paper-petals",
        "inkwell-studio",
    }

    again = run(SAMPLE)
    assert "Imported: created 0, updated 6, refused 0." in again.out
    assert Order.objects.count() == before + 6


def test_the_two_sample_files_say_the_same_in_either_unit(demo: dict[str, Any]) -> None:
    assert run(SAMPLE).ok
    major = snapshot()
    result = run(SAMPLE_MINOR)
    assert result.ok, result.out
    assert "Imported: created 0, updated 6, refused 0." in result.out
    assert snapshot() == major
    usd = Order.objects.get(external_id="PP-2001")
    assert (usd.total, usd.shipping) == (9000, 500)
    assert sorted(usd.items.values_list("unit_price", flat=True)) == [3000, 3000]


# --- the unit of the amounts ---------------------------------------------------------------


def major(external_id: str, /, **cells: str) -> dict[str, str]:
    """A valid new order with its amounts in major units (header total, shipping)."""
    base = row(external_id)
    del base["total_minor"], base["shipping_minor"]
    return base | {"total": "50.00", "shipping": "5.00", "items": "PP-TEST|Test|1|50.00"} | cells


def test_a_file_in_major_units(demo: dict[str, Any], tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            major("T-1", total="100.00", shipping="4.5", items="A|Alpha|2|50.00"),
            major("T-2", currency="JPY", total="1500", shipping="0", items="B|Beta|1|1500"),
        ],
        columns=COLUMNS,
    )
    result = run(path)
    assert result.ok, result.out
    usd, yen = Order.objects.get(external_id="T-1"), Order.objects.get(external_id="T-2")
    assert (usd.total, usd.shipping, usd.items.get().unit_price) == (10000, 450, 5000)
    assert (yen.total, yen.shipping, yen.currency) == (1500, 0, "JPY")


@pytest.mark.parametrize(
    ("bad", "column", "cell"),
    [
        ({"total_minor": "100.00"}, "total_minor", "100.00"),
        ({"shipping_minor": "5.00"}, "shipping_minor", "5.00"),
        ({"items": "A|Alpha|1|100;B|Beta|1|1.00"}, "items: item 2 unit_price", "1.00"),
    ],
)
def test_a_decimal_in_a_file_of_minor_units_refuses_the_file(
    demo: dict[str, Any], tmp_path: Path, bad: dict[str, str], column: str, cell: str
) -> None:
    before = snapshot()
    path = write(tmp_path, [row("T-1"), row("T-2"), row("T-3", **bad)])
    result = run(path)
    assert result.error is not None and result.error.returncode == 1
    message = str(result.error)
    assert message.startswith(f"Line 4 (T-3): {column} is {cell!r}, a decimal,")
    assert "minor units" in message and message.endswith("Nothing was imported.")
    assert snapshot() == before  # not even T-1 and T-2
    dry = run(path, "--dry-run")
    assert dry.error is not None and str(dry.error) == message


@pytest.mark.parametrize(
    ("bad", "column", "cell"),
    [
        ({"total": "100"}, "total", "100"),
        ({"shipping": "5"}, "shipping", "5"),
        ({"currency": "BHD", "total": "12.500", "shipping": "1250"}, "shipping", "1250"),
        ({"items": "A|Alpha|1|10000"}, "items: item 1 unit_price", "10000"),
    ],
)
def test_an_integer_in_a_file_of_major_units_refuses_the_file(
    demo: dict[str, Any], tmp_path: Path, bad: dict[str, str], column: str, cell: str
) -> None:
    before = snapshot()
    path = write(tmp_path, [major("T-1"), major("T-2", **bad)], columns=COLUMNS)
    result = run(path)
    assert result.error is not None
    message = str(result.error)
    assert message.startswith(f"Line 3 (T-2): {column} is {cell!r}, an integer,")
    assert "major units" in message and "total_minor" in message
    assert snapshot() == before


def test_an_integer_of_a_currency_without_decimals_is_no_mix(
    demo: dict[str, Any], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        [major("T-1"), major("T-2", currency="JPY", total="800", shipping="0", items="")],
        columns=COLUMNS,
    )
    assert run(path).ok
    assert Order.objects.get(external_id="T-2").total == 800


def test_a_row_in_the_other_unit_is_refused_with_its_line_even_without_the_scan() -> None:
    # parse_row refuses it too, for callers that hand it rows themselves.
    with pytest.raises(InvalidInput, match="has a decimal point, but the file's amounts are in"):
        parse_row(row("T-1", total_minor="50.00"), unit=MINOR)
    with pytest.raises(InvalidInput, match="has no decimal point, but the file's amounts are"):
        parse_row(major("T-1", total="50"), unit=MAJOR)


@pytest.mark.parametrize(
    "columns",
    [
        [c for c in MINOR_COLUMNS if c != "shipping_minor"] + ["shipping"],
        [*COLUMNS, "total_minor"],
    ],
)
def test_a_header_naming_both_units_is_refused(
    demo: dict[str, Any], tmp_path: Path, columns: list[str]
) -> None:
    before = snapshot()
    result = run(write(tmp_path, [row("T-1", shipping="500")], columns=columns))
    assert result.error is not None
    assert str(result.error).startswith("The header names amounts in both units: ")
    assert "(major units) and " in str(result.error)
    assert snapshot() == before


def test_a_header_without_amount_columns_asks_for_them(db: Any, tmp_path: Path) -> None:
    columns = [c for c in COLUMNS if c not in {"total", "shipping"}]
    result = run(write(tmp_path, [], columns=columns))
    assert result.error is not None
    assert str(result.error).startswith("The header lacks the required column(s): total, shipping.")


# --- the parsers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "currency", "unit", "expected"),
    [
        ("24000", "USD", MINOR, 24000),
        (" 24000 ", "USD", MINOR, 24000),
        ("0", "USD", MINOR, 0),
        ("-150", "USD", MINOR, -150),
        ("1500", "JPY", MINOR, 1500),
        ("1234", "BHD", MINOR, 1234),
        ("9223372036854775807", "USD", MINOR, 2**63 - 1),
        ("240.00", "USD", MAJOR, 24000),
        ("240.5", "USD", MAJOR, 24050),
        ("240.010", "USD", MAJOR, 24001),
        ("0.00", "USD", MAJOR, 0),
        ("-1.50", "USD", MAJOR, -150),
        ("1500", "JPY", MAJOR, 1500),
        ("1500.0", "JPY", MAJOR, 1500),
        ("1.234", "BHD", MAJOR, 1234),
        ("1.2", "BHD", MAJOR, 1200),
        ("92233720368547758.07", "USD", MAJOR, 2**63 - 1),
    ],
)
def test_amounts_in_the_declared_unit(raw: str, currency: str, unit: str, expected: int) -> None:
    assert parse_amount(raw, currency=currency, column="total", unit=unit) == expected


@pytest.mark.parametrize(
    ("raw", "currency", "unit"),
    [
        # The other unit's form: never read.
        ("240.00", "USD", MINOR),
        ("1500.0", "JPY", MINOR),
        ("24000", "USD", MAJOR),
        ("1234", "BHD", MAJOR),
        # Not exact, or not an amount.
        ("240.005", "USD", MAJOR),
        ("1500.5", "JPY", MAJOR),
        ("1.2345", "BHD", MAJOR),
        ("240.", "USD", MAJOR),
        (".5", "USD", MAJOR),
        ("1e3", "USD", MINOR),
        ("+5", "USD", MINOR),
        ("1_000", "USD", MINOR),
        ("٣", "USD", MINOR),  # an Arabic-Indic digit
        ("NaN", "USD", MAJOR),
        ("inf", "USD", MAJOR),
        ("9223372036854775808", "USD", MINOR),
        ("92233720368547758.08", "USD", MAJOR),
    ],
)
def test_amounts_in_the_other_unit_inexact_or_odd_are_refused(
    raw: str, currency: str, unit: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_amount(raw, currency=currency, column="total", unit=unit)
    assert info.value.message.startswith("total: ")


def test_dates_are_iso_8601_and_naive_means_utc() -> None:
    assert parse_when("2025-05-01T10:00:00", column="placed_at") == datetime(
        2025, 5, 1, 10, tzinfo=UTC
    )
    assert parse_when("2025-05-01", column="placed_at") == datetime(2025, 5, 1, tzinfo=UTC)
    aware = parse_when("2025-05-01T10:00:00+02:00", column="placed_at")
    assert aware == datetime(2025, 5, 1, 8, tzinfo=UTC)
    assert parse_when("2025-05-01T08:00:00Z", column="placed_at") == aware
    assert parse_when("  ", column="shipped_at") is None
    with pytest.raises(InvalidInput, match="not an ISO 8601"):
        parse_when("yesterday", column="placed_at")


def test_items_parser() -> None:
    assert parse_items("", currency="USD", unit=MAJOR) == ()
    assert parse_items("A|Alpha|3|1.25;;", currency="USD", unit=MAJOR) == (
        ItemData("A", "Alpha", 3, 125),
    )
    assert parse_items("A|Alpha|3|125", currency="USD", unit=MINOR) == (
        ItemData("A", "Alpha", 3, 125),
    )
    with pytest.raises(InvalidInput, match="longer than 300"):
        parse_items(f"A|{'x' * 301}|1|1", currency="USD", unit=MINOR)
