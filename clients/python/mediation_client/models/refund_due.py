from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.refund_due_currency import RefundDueCurrency
from ..models.refund_due_funded_by import RefundDueFundedBy
from ..models.refund_due_kind import RefundDueKind

T = TypeVar("T", bound="RefundDue")


@_attrs_define
class RefundDue:
    """
    Attributes:
        amount (int): Integer amount in minor units of the order's currency (3000 = 30.00 USD).
        currency (RefundDueCurrency): * `AED` - AED
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
        order (str): The order's external id on the marketplace
        funded_by (RefundDueFundedBy): * `seller` - Seller
            * `platform` - Platform
        kind (RefundDueKind): * `full_refund` - Full refund
            * `partial_refund` - Partial refund
            * `replacement` - Replacement
            * `return_and_refund` - Return and refund
            * `store_credit` - Store credit
            * `goodwill` - Goodwill gesture
            * `no_action` - No action
    """

    amount: int
    currency: RefundDueCurrency
    order: str
    funded_by: RefundDueFundedBy
    kind: RefundDueKind
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        currency = self.currency.value

        order = self.order

        funded_by = self.funded_by.value

        kind = self.kind.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "currency": currency,
                "order": order,
                "funded_by": funded_by,
                "kind": kind,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        currency = RefundDueCurrency(d.pop("currency"))

        order = d.pop("order")

        funded_by = RefundDueFundedBy(d.pop("funded_by"))

        kind = RefundDueKind(d.pop("kind"))

        refund_due = cls(
            amount=amount,
            currency=currency,
            order=order,
            funded_by=funded_by,
            kind=kind,
        )

        refund_due.additional_properties = d
        return refund_due

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
