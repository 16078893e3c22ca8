"""``manage.py import_orders FILE.csv``: load a marketplace's order export.

Every row goes through :func:`mediation.services.upsert_order` in its own transaction, so
a refused row leaves nothing behind and the other rows still go in. The file is read
twice: a first pass checks the header, the text encoding and the CSV structure (and
counts the rows for the progress bar) before anything is written, so a file in the
wrong encoding never gets half imported.
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.db import DataError, IntegrityError, transaction
from django.db.models import Field
from tqdm import tqdm

from mediation.actors import SYSTEM
from mediation.errors import DomainError, InvalidInput
from mediation.models import Order, OrderItem
from mediation.money import MINOR_UNITS, is_currency
from mediation.services import ItemData, OrderData, upsert_order

# The header says in which unit the file's amounts are (total, shipping and the items'
# unit prices together): "total" and "shipping" for major units (240.00 USD), or
# "total_minor" and "shipping_minor" for minor units (24000). A bare number means 1.00 in
# one and 100.00 in the other, so the unit is never guessed from the cell.
MAJOR, MINOR = "major", "minor"
AMOUNT_COLUMNS = {
    MAJOR: {"total": "total", "shipping": "shipping"},
    MINOR: {"total": "total_minor", "shipping": "shipping_minor"},
}


def columns_for(unit: str) -> tuple[str, ...]:
    amounts = AMOUNT_COLUMNS[unit]
    return (
        "external_id",
        "buyer",
        "buyer_email",
        "shop",
        "currency",
        amounts["total"],
        amounts["shipping"],
        "placed_at",
        "shipped_at",
        "carrier",
        "tracking_number",
        "delivered_at",
        "items",
    )


COLUMNS = columns_for(MAJOR)
MINOR_COLUMNS = columns_for(MINOR)
KNOWN_COLUMNS = frozenset(COLUMNS) | frozenset(MINOR_COLUMNS)
# An update replaces every fact of the order (an empty ``items`` cell removes the items
# no dispute names), so a column left out of the header would silently erase data: all
# columns are required except ``buyer_email``, which is only used when a buyer is new.
OPTIONAL_COLUMNS = frozenset({"buyer_email"})


def required_columns(unit: str) -> tuple[str, ...]:
    return tuple(c for c in columns_for(unit) if c not in OPTIONAL_COLUMNS)


# The largest values the database columns hold (PositiveBigIntegerField, PositiveIntegerField).
MAX_AMOUNT = 2**63 - 1
MAX_QUANTITY = 2**31 - 1
_AMOUNT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_INTEGER = re.compile(r"-?[0-9]+")
_QUANTITY = re.compile(r"[0-9]+")

HELP = """\
Import orders from a marketplace's CSV export, one row per order, through the same
service as the API (created when the external_id is new, updated otherwise).

The header row is required. Columns: external_id, buyer, buyer_email, shop, currency,
total, shipping, placed_at, shipped_at, carrier, tracking_number, delivered_at, items.
All are required in the header except buyer_email; cells of shipping, shipped_at, carrier,
tracking_number, delivered_at and items may be empty. Unknown columns are ignored.

The header names the unit of every amount in the file (total, shipping and the items'
unit prices alike):

  total, shipping               major units: "240.00" is 240.00 USD, "1500" is 1,500 JPY,
                                "12.500" is 12.500 BHD. A currency with decimals needs
                                the decimal point ("240.00" or "240.5" USD, not "240");
                                more decimals than the currency has are refused
                                ("240.005" USD, "1500.5" JPY).
  total_minor, shipping_minor   minor units, integers only: "24000" is 240.00 USD,
                                "1500" is 1,500 JPY, "12500" is 12.500 BHD.

A file with an amount in the other unit (an integer "24000" USD under total, or "240.00"
under total_minor) is refused as a whole before anything is written, naming its line:
a file that mixes the two cannot be read without guessing. A header naming both units
(total with shipping_minor) is refused too. No exponents, signs other than "-", or
thousands separators.

Dates are ISO 8601 ("2025-05-01T14:30:00+02:00", "2025-05-01T12:30:00Z",
"2025-05-01"); without an offset they are UTC, a date alone is midnight UTC.

items: "sku|title|quantity|unit_price" entries separated by ";" (so titles cannot
contain "|" or ";"), for example "PP-ROSE-3|Three paper roses|2|4500;PP-CARD|Card|1|300".
A SKU appears once per order.

An external_id seen twice in the file is refused on its second row. A refused row is
listed with its line number in the file and the reason, the other rows are imported, and
the command exits with status 1 once every row has been tried.
"""


@dataclass
class Refusal:
    line: int
    external_id: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.external_id})" if self.external_id else "")
        return f"{where}: {self.reason}"


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    refused: list[Refusal] = field(default_factory=list)

    def summary(self) -> str:
        return f"created {self.created}, updated {self.updated}, refused {len(self.refused)}"


# --- Parsing one row --------------------------------------------------------------------


def _invalid(column: str, message: str) -> InvalidInput:
    return InvalidInput(f"{column}: {message}", field=column)


def other_unit(raw: str, *, currency: str, unit: str) -> bool:
    """Whether ``raw`` is written as an amount in the unit the file did not declare: a
    decimal in a file of minor units, or an integer of a currency with decimals in a file
    of major units. Such a cell is never read (which unit did the writer mean?)."""
    text = raw.strip()
    if unit == MINOR:
        return bool(_AMOUNT.fullmatch(text)) and not _INTEGER.fullmatch(text)
    return bool(_INTEGER.fullmatch(text)) and MINOR_UNITS.get(currency, 0) > 0


def parse_amount(raw: str, *, currency: str, column: str, unit: str) -> int:
    """Minor units from ``raw`` in the file's ``unit``: ``"24000"`` in minor units,
    ``"240.00"`` in major units (exact only)."""
    text = raw.strip()
    if not text:
        raise _invalid(column, "is required.")
    digits = MINOR_UNITS[currency]
    example = "240.00" if digits else "1500"
    if not _AMOUNT.fullmatch(text):
        form = "an integer in minor units (24000)" if unit == MINOR else f"major units ({example})"
        raise _invalid(column, f"{raw!r} is not an amount: give {form}.")
    if other_unit(text, currency=currency, unit=unit):
        if unit == MINOR:
            raise _invalid(
                column, f"{raw!r} has a decimal point, but the file's amounts are in minor units."
            )
        raise _invalid(
            column,
            f"{raw!r} has no decimal point, but the file's amounts are in major units of "
            f"{currency} ({digits} decimal{'s' if digits != 1 else ''}).",
        )
    negative = text.startswith("-")
    whole, point, fraction = text.lstrip("-").partition(".")
    if not point:  # an integer: minor units, or major units of a currency without decimals
        value = int(whole)
    else:  # major units: exact only, so at most the currency's decimals (or trailing zeros)
        if len(fraction.rstrip("0")) > digits:
            raise _invalid(
                column,
                f"{raw!r} is not a whole number of minor units of {currency} "
                f"({digits} decimal{'s' if digits != 1 else ''}).",
            )
        value = int(whole + fraction[:digits].ljust(digits, "0"))
    if value > MAX_AMOUNT:
        raise _invalid(column, f"{raw!r} is too large.")
    return -value if negative else value


def parse_when(raw: str, *, column: str) -> datetime | None:
    """An aware datetime from ISO 8601 (naive means UTC), or None for an empty cell."""
    text = raw.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(column, f"{raw!r} is not an ISO 8601 date and time.") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _required_when(raw: str, *, column: str) -> datetime:
    value = parse_when(raw, column=column)
    if value is None:
        raise _invalid(column, "is required.")
    return value


def _text(raw: str, *, column: str, max_length: int | None, required: bool = False) -> str:
    text = raw.strip()
    if required and not text:
        raise _invalid(column, "is required.")
    if max_length is not None and len(text) > max_length:
        raise _invalid(column, f"is longer than {max_length} characters.")
    return text


def _max_length(model: Any, name: str) -> int | None:
    return model._meta.get_field(name).max_length  # type: ignore[no-any-return]


def _item_chunks(raw: str) -> list[str]:
    return [chunk for chunk in raw.split(";") if chunk.strip()]


def parse_items(raw: str, *, currency: str, unit: str) -> tuple[ItemData, ...]:
    items: list[ItemData] = []
    skus: set[str] = set()
    for number, chunk in enumerate(_item_chunks(raw), start=1):
        parts = chunk.split("|")
        if len(parts) != 4:
            raise _invalid(
                "items", f"item {number} ({chunk.strip()!r}) is not sku|title|quantity|unit_price."
            )
        sku = _text(
            parts[0], column=f"items: item {number} sku", max_length=_max_length(OrderItem, "sku")
        )
        title = _text(
            parts[1],
            column=f"items: item {number} title",
            max_length=_max_length(OrderItem, "title"),
        )
        if not sku or not title:
            raise _invalid("items", f"item {number} needs a sku and a title.")
        if sku in skus:
            raise _invalid("items", f"sku {sku!r} appears more than once.")
        skus.add(sku)
        quantity = parts[2].strip()
        if not _QUANTITY.fullmatch(quantity) or not 1 <= int(quantity) <= MAX_QUANTITY:
            raise _invalid(
                "items", f"item {number} quantity {parts[2]!r} is not a positive integer."
            )
        price = parse_amount(
            parts[3], currency=currency, column=f"items: item {number} unit_price", unit=unit
        )
        items.append(ItemData(sku=sku, title=title, quantity=int(quantity), unit_price=price))
    return tuple(items)


def _buyer(raw: str) -> str:
    user_model = get_user_model()
    username_field = user_model._meta.get_field(user_model.USERNAME_FIELD)
    assert isinstance(username_field, Field)
    username = _text(raw, column="buyer", max_length=None, required=True)
    try:
        username_field.run_validators(username)
    except ValidationError as exc:
        raise _invalid("buyer", f"{raw!r}: {' '.join(exc.messages)}") from None
    return username


def _email(raw: str) -> str:
    email = _text(raw, column="buyer_email", max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise _invalid("buyer_email", f"{raw!r} is not an email address.") from None
    return email


def amount_cells(row: dict[str, str], *, unit: str) -> Iterator[tuple[str, str]]:
    """(column, cell) of every amount of the row: total, shipping, the items' unit prices."""
    names = AMOUNT_COLUMNS[unit]
    yield names["total"], row.get(names["total"], "")
    yield names["shipping"], row.get(names["shipping"], "")
    for number, chunk in enumerate(_item_chunks(row.get("items", "")), start=1):
        parts = chunk.split("|")
        if len(parts) == 4:
            yield f"items: item {number} unit_price", parts[3]


def parse_row(row: dict[str, str], *, unit: str) -> OrderData:
    """The service's input from one CSV row (header names as keys), its amounts in
    ``unit``; InvalidInput if bad."""
    currency = row["currency"].strip().upper()
    if not currency:
        raise _invalid("currency", "is required.")
    if not is_currency(currency):
        raise _invalid("currency", f"{row['currency']!r} is not an ISO 4217 currency.")
    total_column, shipping_column = (AMOUNT_COLUMNS[unit][name] for name in ("total", "shipping"))
    shipping = row[shipping_column]
    return OrderData(
        external_id=_text(
            row["external_id"],
            column="external_id",
            max_length=_max_length(Order, "external_id"),
            required=True,
        ),
        buyer=_buyer(row["buyer"]),
        buyer_email=_email(row.get("buyer_email", "")),
        shop=_text(row["shop"], column="shop", max_length=None, required=True),
        currency=currency,
        total=parse_amount(row[total_column], currency=currency, column=total_column, unit=unit),
        shipping=parse_amount(shipping, currency=currency, column=shipping_column, unit=unit)
        if shipping.strip()
        else 0,
        placed_at=_required_when(row["placed_at"], column="placed_at"),
        shipped_at=parse_when(row["shipped_at"], column="shipped_at"),
        carrier=_text(row["carrier"], column="carrier", max_length=_max_length(Order, "carrier")),
        tracking_number=_text(
            row["tracking_number"],
            column="tracking_number",
            max_length=_max_length(Order, "tracking_number"),
        ),
        delivered_at=parse_when(row["delivered_at"], column="delivered_at"),
        items=parse_items(row["items"], currency=currency, unit=unit),
    )


# --- Reading the file ---------------------------------------------------------------------


def _records(stream: TextIO) -> Iterator[tuple[int, list[str]]]:
    """(physical line where the record starts, cells), skipping blank lines."""
    reader = csv.reader(stream)
    line = reader.line_num + 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if any(cell.strip() for cell in cells):
            yield start, cells


def _first_undecodable_line(path: Path, encoding: str) -> int | str:
    """The physical line holding the first byte ``encoding`` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as raw:
        for number, chunk in enumerate(raw, start=1):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return number
    return "?"


def _declared_unit(header: list[str]) -> str | None:
    """The unit the header's amount columns name (major when it names none: the missing
    columns are reported as such), or None when it names both."""
    major = any(c in header for c in AMOUNT_COLUMNS[MAJOR].values())
    minor = any(c in header for c in AMOUNT_COLUMNS[MINOR].values())
    if major and minor:
        return None
    return MINOR if minor else MAJOR


def _other_unit_cell(row: dict[str, str], *, line: int, unit: str) -> str | None:
    """What is wrong when one of the row's amounts is written in the other unit."""
    currency = row.get("currency", "").strip().upper()
    for column, cell in amount_cells(row, unit=unit):
        if other_unit(cell, currency=currency, unit=unit):
            external_id = row.get("external_id", "").strip()
            where = f"Line {line}" + (f" ({external_id})" if external_id else "")
            if unit == MINOR:
                return (
                    f"{where}: {column} is {cell.strip()!r}, a decimal, but the header's "
                    "total_minor and shipping_minor say the file's amounts are integers in "
                    "minor units (24000 for 240.00 USD). Write every amount in one unit."
                )
            digits = MINOR_UNITS[currency]
            return (
                f"{where}: {column} is {cell.strip()!r}, an integer, but the header's total "
                f"and shipping say the file's amounts are in major units, which for {currency} "
                f"have {digits} decimal{'s' if digits != 1 else ''}. Write every amount in "
                "one unit: with a decimal point under total and shipping (240.00), or as "
                "integers under total_minor and shipping_minor (24000)."
            )
    return None


class Command(BaseCommand):
    help = HELP

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        from argparse import RawDescriptionHelpFormatter

        kwargs.setdefault("formatter_class", RawDescriptionHelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file to import.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check every row against the database and report, but write nothing.",
        )
        parser.add_argument(
            "--encoding",
            default="utf-8-sig",
            help="Text encoding of the file (default utf-8-sig: UTF-8 with or without a BOM).",
        )
        parser.add_argument(
            "--progress",
            action="store_true",
            help="Show the progress bar even when stderr is not a terminal.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        encoding: str = options["encoding"]
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise CommandError(f"Unknown encoding {encoding!r}.") from None
        header, unit, count = self._scan(path, encoding)

        report = Report()
        stream = getattr(self.stderr, "_out", sys.stderr)
        show = bool(options["progress"]) or stream.isatty()
        with (
            self._open(path, encoding) as handle,
            tqdm(
                total=count,
                unit="row",
                desc="Importing orders",
                file=stream,
                disable=not show,
            ) as bar,
        ):
            records = _records(handle)
            next(records)  # the header, checked by _scan
            if options["dry_run"]:
                with transaction.atomic():
                    self._import(records, header, unit, report, bar)
                    transaction.set_rollback(True)
            else:
                self._import(records, header, unit, report, bar)

        prefix = "Dry run, nothing was written: " if options["dry_run"] else "Imported: "
        line = prefix + report.summary() + "."
        style = self.style.ERROR if report.refused else self.style.SUCCESS
        self.stdout.write(style(line))
        if report.refused:
            self.stdout.write("Refused rows:")
            for refusal in report.refused:
                self.stdout.write(f"  {refusal}")
            refused = len(report.refused)
            if options["dry_run"]:
                outcome = "nothing was written (dry run)"
            elif refused == count:
                outcome = "nothing was imported"
            else:
                outcome = "the others were imported"
            raise CommandError(f"{refused} of {count} rows refused; {outcome}.")

    # --- helpers

    def _open(self, path: Path, encoding: str) -> TextIO:
        try:
            return path.open(encoding=encoding, newline="")
        except FileNotFoundError:
            raise CommandError(f"No file {str(path)!r}.") from None
        except OSError as exc:
            raise CommandError(f"Cannot read {str(path)!r}: {exc.strerror}.") from None

    def _scan(self, path: Path, encoding: str) -> tuple[list[str], str, int]:
        """Check the header, the encoding, the CSV structure and that every amount is in
        the unit the header names; the header, that unit and the number of data rows."""
        header: list[str] | None = None
        unit: str | None = None
        mixed: str | None = None
        count = 0
        line = 0
        with self._open(path, encoding) as handle:
            try:
                for line, cells in _records(handle):
                    if header is None:
                        # A BOM survives when the file is read as plain "utf-8".
                        header = [cell.strip().lstrip("\ufeff").lower() for cell in cells]
                        unit = _declared_unit(header)
                        continue
                    count += 1
                    if unit is not None and mixed is None:
                        mixed = _other_unit_cell(
                            dict(zip(header, cells, strict=False)), line=line, unit=unit
                        )
            except UnicodeDecodeError as exc:
                bad = exc.object[exc.start : exc.start + 1]
                raise CommandError(
                    f"{path} is not valid {encoding} text: byte {bad!r} on line "
                    f"{_first_undecodable_line(path, encoding)}. Give the file's encoding "
                    "with --encoding, for example --encoding cp1252."
                ) from None
            except csv.Error as exc:
                raise CommandError(f"{path} is not valid CSV after line {line}: {exc}.") from None
        if header is None:
            raise CommandError(
                f"{path} is empty: the first line must be the header ({', '.join(COLUMNS)}, "
                f"or {', '.join(AMOUNT_COLUMNS[MINOR].values())} for amounts in minor units)."
            )
        duplicates = sorted({name for name in header if header.count(name) > 1 and name})
        if duplicates:
            raise CommandError(f"The header repeats the column(s): {', '.join(duplicates)}.")
        if unit is None:
            major = [c for c in AMOUNT_COLUMNS[MAJOR].values() if c in header]
            minor = [c for c in AMOUNT_COLUMNS[MINOR].values() if c in header]
            raise CommandError(
                f"The header names amounts in both units: {', '.join(major)} (major units) "
                f"and {', '.join(minor)} (minor units). Use total and shipping when the "
                "amounts are in major units (240.00), or total_minor and shipping_minor when "
                "they are in minor units (24000)."
            )
        missing = [name for name in required_columns(unit) if name not in header]
        if missing:
            raise CommandError(
                f"The header lacks the required column(s): {', '.join(missing)}. "
                f"Expected: {', '.join(columns_for(unit))} (buyer_email optional)."
            )
        unknown = [name or "(unnamed)" for name in header if name not in KNOWN_COLUMNS]
        if unknown:
            self.stderr.write(f"Ignoring unknown column(s): {', '.join(unknown)}.")
        if mixed:
            raise CommandError(f"{mixed} Nothing was imported.")
        return header, unit, count

    def _import(
        self,
        records: Iterator[tuple[int, list[str]]],
        header: list[str],
        unit: str,
        report: Report,
        bar: Any,
    ) -> None:
        seen: dict[str, int] = {}
        for line, cells in records:
            bar.update(1)
            row = dict(zip(header, cells, strict=False))
            external_id = row.get("external_id", "").strip()
            try:
                if len(cells) != len(header):
                    raise InvalidInput(
                        f"The row has {len(cells)} fields; the header has {len(header)}.",
                        code="malformed_row",
                    )
                if external_id in seen:
                    raise InvalidInput(
                        f"external_id {external_id!r} already appeared on line "
                        f"{seen[external_id]}; the file must have one row per order.",
                        code="duplicate_external_id",
                    )
                data = parse_row(row, unit=unit)
                with transaction.atomic():
                    _, created = upsert_order(actor=SYSTEM, data=data)
            except DomainError as exc:
                report.refused.append(Refusal(line, external_id, f"{exc.code}: {exc.message}"))
            except (IntegrityError, DataError) as exc:
                # A concurrent change (the same order created by the API meanwhile) or a
                # value the database refuses; the row's transaction was rolled back.
                report.refused.append(Refusal(line, external_id, f"database_error: {exc}"))
            else:
                if created:
                    report.created += 1
                else:
                    report.updated += 1
            finally:
                if external_id and external_id not in seen:
                    seen[external_id] = line
