from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.currency_enum import CurrencyEnum

if TYPE_CHECKING:
    from ..models.order_item import OrderItem


T = TypeVar("T", bound="Order")


@_attrs_define
class Order:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            id (int):
            external_id (str):
            shop (str):
            buyer (str): The user's username
            currency (CurrencyEnum): * `AED` - AED
                * `AFN` - AFN
                * `ALL` - ALL
                * `AMD` - AMD
                * `ANG` - ANG
                * `AOA` - AOA
                * `ARS` - ARS
                * `AUD` - AUD
                * `AWG` - AWG
                * `AZN` - AZN
                * `BAM` - BAM
                * `BBD` - BBD
                * `BDT` - BDT
                * `BGN` - BGN
                * `BHD` - BHD
                * `BIF` - BIF
                * `BMD` - BMD
                * `BND` - BND
                * `BOB` - BOB
                * `BRL` - BRL
                * `BSD` - BSD
                * `BTN` - BTN
                * `BWP` - BWP
                * `BYN` - BYN
                * `BZD` - BZD
                * `CAD` - CAD
                * `CDF` - CDF
                * `CHF` - CHF
                * `CLP` - CLP
                * `CNY` - CNY
                * `COP` - COP
                * `CRC` - CRC
                * `CUP` - CUP
                * `CVE` - CVE
                * `CZK` - CZK
                * `DJF` - DJF
                * `DKK` - DKK
                * `DOP` - DOP
                * `DZD` - DZD
                * `EGP` - EGP
                * `ERN` - ERN
                * `ETB` - ETB
                * `EUR` - EUR
                * `FJD` - FJD
                * `FKP` - FKP
                * `GBP` - GBP
                * `GEL` - GEL
                * `GHS` - GHS
                * `GIP` - GIP
                * `GMD` - GMD
                * `GNF` - GNF
                * `GTQ` - GTQ
                * `GYD` - GYD
                * `HKD` - HKD
                * `HNL` - HNL
                * `HTG` - HTG
                * `HUF` - HUF
                * `IDR` - IDR
                * `ILS` - ILS
                * `INR` - INR
                * `IQD` - IQD
                * `IRR` - IRR
                * `ISK` - ISK
                * `JMD` - JMD
                * `JOD` - JOD
                * `JPY` - JPY
                * `KES` - KES
                * `KGS` - KGS
                * `KHR` - KHR
                * `KMF` - KMF
                * `KPW` - KPW
                * `KRW` - KRW
                * `KWD` - KWD
                * `KYD` - KYD
                * `KZT` - KZT
                * `LAK` - LAK
                * `LBP` - LBP
                * `LKR` - LKR
                * `LRD` - LRD
                * `LSL` - LSL
                * `LYD` - LYD
                * `MAD` - MAD
                * `MDL` - MDL
                * `MGA` - MGA
                * `MKD` - MKD
                * `MMK` - MMK
                * `MNT` - MNT
                * `MOP` - MOP
                * `MRU` - MRU
                * `MUR` - MUR
                * `MVR` - MVR
                * `MWK` - MWK
                * `MXN` - MXN
                * `MYR` - MYR
                * `MZN` - MZN
                * `NAD` - NAD
                * `NGN` - NGN
                * `NIO` - NIO
                * `NOK` - NOK
                * `NPR` - NPR
                * `NZD` - NZD
                * `OMR` - OMR
                * `PAB` - PAB
                * `PEN` - PEN
                * `PGK` - PGK
                * `PHP` - PHP
                * `PKR` - PKR
                * `PLN` - PLN
                * `PYG` - PYG
                * `QAR` - QAR
                * `RON` - RON
                * `RSD` - RSD
                * `RUB` - RUB
                * `RWF` - RWF
                * `SAR` - SAR
                * `SBD` - SBD
                * `SCR` - SCR
                * `SDG` - SDG
                * `SEK` - SEK
                * `SGD` - SGD
                * `SHP` - SHP
                * `SLE` - SLE
                * `SOS` - SOS
                * `SRD` - SRD
                * `SSP` - SSP
                * `STN` - STN
                * `SYP` - SYP
                * `SZL` - SZL
                * `THB` - THB
                * `TJS` - TJS
                * `TMT` - TMT
                * `TND` - TND
                * `TOP` - TOP
                * `TRY` - TRY
                * `TTD` - TTD
                * `TWD` - TWD
                * `TZS` - TZS
                * `UAH` - UAH
                * `UGX` - UGX
                * `USD` - USD
                * `UYU` - UYU
                * `UZS` - UZS
                * `VES` - VES
                * `VND` - VND
                * `VUV` - VUV
                * `WST` - WST
                * `XAF` - XAF
                * `XCD` - XCD
                * `XOF` - XOF
                * `XPF` - XPF
                * `YER` - YER
                * `ZAR` - ZAR
                * `ZMW` - ZMW
                * `ZWL` - ZWL
            total (int): Goods total, minor units
            shipping (int): Shipping, minor units
            refunded_total (int):
            refundable (int): total + shipping - refunded_total
            placed_at (datetime.datetime):
            shipped_at (datetime.datetime | None):
            carrier (str):
            tracking_number (str):
            delivered_at (datetime.datetime | None):
            items (list[OrderItem] | None):
    """

    id: int
    external_id: str
    shop: str
    buyer: str
    currency: CurrencyEnum
    total: int
    shipping: int
    refunded_total: int
    refundable: int
    placed_at: datetime.datetime
    shipped_at: datetime.datetime | None
    carrier: str
    tracking_number: str
    delivered_at: datetime.datetime | None
    items: list[OrderItem] | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        external_id = self.external_id

        shop = self.shop

        buyer = self.buyer

        currency = self.currency.value

        total = self.total

        shipping = self.shipping

        refunded_total = self.refunded_total

        refundable = self.refundable

        placed_at = self.placed_at.isoformat()

        shipped_at: None | str
        if isinstance(self.shipped_at, datetime.datetime):
            shipped_at = self.shipped_at.isoformat()
        else:
            shipped_at = self.shipped_at

        carrier = self.carrier

        tracking_number = self.tracking_number

        delivered_at: None | str
        if isinstance(self.delivered_at, datetime.datetime):
            delivered_at = self.delivered_at.isoformat()
        else:
            delivered_at = self.delivered_at

        items: list[dict[str, Any]] | None
        if isinstance(self.items, list):
            items = []
            for items_type_0_item_data in self.items:
                items_type_0_item = items_type_0_item_data.to_dict()
                items.append(items_type_0_item)

        else:
            items = self.items

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "external_id": external_id,
                "shop": shop,
                "buyer": buyer,
                "currency": currency,
                "total": total,
                "shipping": shipping,
                "refunded_total": refunded_total,
                "refundable": refundable,
                "placed_at": placed_at,
                "shipped_at": shipped_at,
                "carrier": carrier,
                "tracking_number": tracking_number,
                "delivered_at": delivered_at,
                "items": items,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_item import OrderItem  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        external_id = d.pop("external_id")

        shop = d.pop("shop")

        buyer = d.pop("buyer")

        currency = CurrencyEnum(d.pop("currency"))

        total = d.pop("total")

        shipping = d.pop("shipping")

        refunded_total = d.pop("refunded_total")

        refundable = d.pop("refundable")

        placed_at = datetime.datetime.fromisoformat(d.pop("placed_at"))

        def _parse_shipped_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                shipped_at_type_0 = datetime.datetime.fromisoformat(data)

                return shipped_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        shipped_at = _parse_shipped_at(d.pop("shipped_at"))

        carrier = d.pop("carrier")

        tracking_number = d.pop("tracking_number")

        def _parse_delivered_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                delivered_at_type_0 = datetime.datetime.fromisoformat(data)

                return delivered_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        delivered_at = _parse_delivered_at(d.pop("delivered_at"))

        def _parse_items(data: object) -> list[OrderItem] | None:
            if data is None:
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                items_type_0 = []
                _items_type_0 = data
                for items_type_0_item_data in _items_type_0:
                    items_type_0_item = OrderItem.from_dict(items_type_0_item_data)

                    items_type_0.append(items_type_0_item)

                return items_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[OrderItem] | None, data)

        items = _parse_items(d.pop("items"))

        order = cls(
            id=id,
            external_id=external_id,
            shop=shop,
            buyer=buyer,
            currency=currency,
            total=total,
            shipping=shipping,
            refunded_total=refunded_total,
            refundable=refundable,
            placed_at=placed_at,
            shipped_at=shipped_at,
            carrier=carrier,
            tracking_number=tracking_number,
            delivered_at=delivered_at,
            items=items,
        )

        order.additional_properties = d
        return order

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
