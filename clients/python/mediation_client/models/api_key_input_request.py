from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.currency_enum import CurrencyEnum
from ..models.shop_role_enum import ShopRoleEnum
from ..types import UNSET, Unset

T = TypeVar("T", bound="ApiKeyInputRequest")


@_attrs_define
class ApiKeyInputRequest:
    """
    Attributes:
        name (str): Who uses the key, e.g. 'Helpdesk'.
        role (ShopRoleEnum | Unset): * `owner` - Owner
            * `agent` - Support agent Default: ShopRoleEnum.AGENT.
        offer_limit (int | Unset): For an agent's key: the largest offer it makes alone (minor units); above it the
            offer waits for an owner. Default: 0.
        offer_limit_currency (CurrencyEnum | Unset): * `AED` - AED
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
            * `ZWL` - ZWL Default: CurrencyEnum.USD.
    """

    name: str
    role: ShopRoleEnum | Unset = ShopRoleEnum.AGENT
    offer_limit: int | Unset = 0
    offer_limit_currency: CurrencyEnum | Unset = CurrencyEnum.USD

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        offer_limit = self.offer_limit

        offer_limit_currency: str | Unset = UNSET
        if not isinstance(self.offer_limit_currency, Unset):
            offer_limit_currency = self.offer_limit_currency.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
            }
        )
        if role is not UNSET:
            field_dict["role"] = role
        if offer_limit is not UNSET:
            field_dict["offer_limit"] = offer_limit
        if offer_limit_currency is not UNSET:
            field_dict["offer_limit_currency"] = offer_limit_currency

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        _role = d.pop("role", UNSET)
        role: ShopRoleEnum | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = ShopRoleEnum(_role)

        offer_limit = d.pop("offer_limit", UNSET)

        _offer_limit_currency = d.pop("offer_limit_currency", UNSET)
        offer_limit_currency: CurrencyEnum | Unset
        if isinstance(_offer_limit_currency, Unset):
            offer_limit_currency = UNSET
        else:
            offer_limit_currency = CurrencyEnum(_offer_limit_currency)

        api_key_input_request = cls(
            name=name,
            role=role,
            offer_limit=offer_limit,
            offer_limit_currency=offer_limit_currency,
        )

        return api_key_input_request
