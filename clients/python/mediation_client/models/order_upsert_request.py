from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.currency_enum import CurrencyEnum
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_item_input_request import OrderItemInputRequest


T = TypeVar("T", bound="OrderUpsertRequest")


@_attrs_define
class OrderUpsertRequest:
    """
    Attributes:
        external_id (str):
        buyer (str): The buyer's username on the marketplace
        shop (str): The shop's slug
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
        total (int): Integer amount in minor units of the order's currency (3000 = 30.00 USD).
        placed_at (datetime.datetime):
        buyer_email (str | Unset):
        shipping (int | Unset): Integer amount in minor units of the order's currency (3000 = 30.00 USD). Default: 0.
        items (list[OrderItemInputRequest] | Unset):
        shipped_at (datetime.datetime | None | Unset):
        carrier (str | Unset):  Default: ''.
        tracking_number (str | Unset):  Default: ''.
        delivered_at (datetime.datetime | None | Unset):
    """

    external_id: str
    buyer: str
    shop: str
    currency: CurrencyEnum
    total: int
    placed_at: datetime.datetime
    buyer_email: str | Unset = UNSET
    shipping: int | Unset = 0
    items: list[OrderItemInputRequest] | Unset = UNSET
    shipped_at: datetime.datetime | None | Unset = UNSET
    carrier: str | Unset = ""
    tracking_number: str | Unset = ""
    delivered_at: datetime.datetime | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        external_id = self.external_id

        buyer = self.buyer

        shop = self.shop

        currency = self.currency.value

        total = self.total

        placed_at = self.placed_at.isoformat()

        buyer_email: str | Unset
        if isinstance(self.buyer_email, Unset):
            buyer_email = UNSET
        else:
            buyer_email = self.buyer_email

        shipping = self.shipping

        items: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.items, Unset):
            items = []
            for items_item_data in self.items:
                items_item = items_item_data.to_dict()
                items.append(items_item)

        shipped_at: None | str | Unset
        if isinstance(self.shipped_at, Unset):
            shipped_at = UNSET
        elif isinstance(self.shipped_at, datetime.datetime):
            shipped_at = self.shipped_at.isoformat()
        else:
            shipped_at = self.shipped_at

        carrier = self.carrier

        tracking_number = self.tracking_number

        delivered_at: None | str | Unset
        if isinstance(self.delivered_at, Unset):
            delivered_at = UNSET
        elif isinstance(self.delivered_at, datetime.datetime):
            delivered_at = self.delivered_at.isoformat()
        else:
            delivered_at = self.delivered_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "external_id": external_id,
                "buyer": buyer,
                "shop": shop,
                "currency": currency,
                "total": total,
                "placed_at": placed_at,
            }
        )
        if buyer_email is not UNSET:
            field_dict["buyer_email"] = buyer_email
        if shipping is not UNSET:
            field_dict["shipping"] = shipping
        if items is not UNSET:
            field_dict["items"] = items
        if shipped_at is not UNSET:
            field_dict["shipped_at"] = shipped_at
        if carrier is not UNSET:
            field_dict["carrier"] = carrier
        if tracking_number is not UNSET:
            field_dict["tracking_number"] = tracking_number
        if delivered_at is not UNSET:
            field_dict["delivered_at"] = delivered_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_item_input_request import OrderItemInputRequest  # noqa: PLC0415

        d = dict(src_dict)
        external_id = d.pop("external_id")

        buyer = d.pop("buyer")

        shop = d.pop("shop")

        currency = CurrencyEnum(d.pop("currency"))

        total = d.pop("total")

        placed_at = datetime.datetime.fromisoformat(d.pop("placed_at"))

        def _parse_buyer_email(data: object) -> str | Unset:
            if isinstance(data, Unset):
                return data
            return cast(str | Unset, data)

        buyer_email = _parse_buyer_email(d.pop("buyer_email", UNSET))

        shipping = d.pop("shipping", UNSET)

        _items = d.pop("items", UNSET)
        items: list[OrderItemInputRequest] | Unset = UNSET
        if _items is not UNSET:
            items = []
            for items_item_data in _items:
                items_item = OrderItemInputRequest.from_dict(items_item_data)

                items.append(items_item)

        def _parse_shipped_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                shipped_at_type_0 = datetime.datetime.fromisoformat(data)

                return shipped_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        shipped_at = _parse_shipped_at(d.pop("shipped_at", UNSET))

        carrier = d.pop("carrier", UNSET)

        tracking_number = d.pop("tracking_number", UNSET)

        def _parse_delivered_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                delivered_at_type_0 = datetime.datetime.fromisoformat(data)

                return delivered_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        delivered_at = _parse_delivered_at(d.pop("delivered_at", UNSET))

        order_upsert_request = cls(
            external_id=external_id,
            buyer=buyer,
            shop=shop,
            currency=currency,
            total=total,
            placed_at=placed_at,
            buyer_email=buyer_email,
            shipping=shipping,
            items=items,
            shipped_at=shipped_at,
            carrier=carrier,
            tracking_number=tracking_number,
            delivered_at=delivered_at,
        )

        return order_upsert_request
