from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.currency_enum import CurrencyEnum

T = TypeVar("T", bound="OrderSummary")


@_attrs_define
class OrderSummary:
    """An output of model rows, every field read-only, whose schema still says what the
    model column allows: a blank choice (``"outcome": ""`` while open) and a null (``assigned_to``
    before anyone holds the case). DRF drops both from read-only fields.

        Attributes:
            id (int):
            external_id (str):
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
            refundable (int):
            placed_at (datetime.datetime):
    """

    id: int
    external_id: str
    currency: CurrencyEnum
    total: int
    shipping: int
    refunded_total: int
    refundable: int
    placed_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        external_id = self.external_id

        currency = self.currency.value

        total = self.total

        shipping = self.shipping

        refunded_total = self.refunded_total

        refundable = self.refundable

        placed_at = self.placed_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "external_id": external_id,
                "currency": currency,
                "total": total,
                "shipping": shipping,
                "refunded_total": refunded_total,
                "refundable": refundable,
                "placed_at": placed_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        external_id = d.pop("external_id")

        currency = CurrencyEnum(d.pop("currency"))

        total = d.pop("total")

        shipping = d.pop("shipping")

        refunded_total = d.pop("refunded_total")

        refundable = d.pop("refundable")

        placed_at = datetime.datetime.fromisoformat(d.pop("placed_at"))

        order_summary = cls(
            id=id,
            external_id=external_id,
            currency=currency,
            total=total,
            shipping=shipping,
            refunded_total=refunded_total,
            refundable=refundable,
            placed_at=placed_at,
        )

        order_summary.additional_properties = d
        return order_summary

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
