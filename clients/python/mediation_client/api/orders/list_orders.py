from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.paginated_order_list import PaginatedOrderList
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    cursor: str | Unset = UNSET,
    disputable: bool | Unset = UNSET,
    external_id: str | Unset = UNSET,
    page_size: int | Unset = UNSET,
    shop: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["cursor"] = cursor

    params["disputable"] = disputable

    params["external_id"] = external_id

    params["page_size"] = page_size

    params["shop"] = shop

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/orders/",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PaginatedOrderList | Problem | None:
    if response.status_code == 200:
        response_200 = PaginatedOrderList.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())

        return response_404

    if response.status_code == 414:
        response_414 = Problem.from_dict(response.json())

        return response_414

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[PaginatedOrderList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    cursor: str | Unset = UNSET,
    disputable: bool | Unset = UNSET,
    external_id: str | Unset = UNSET,
    page_size: int | Unset = UNSET,
    shop: str | Unset = UNSET,
) -> Response[PaginatedOrderList | Problem]:
    """List orders

    Args:
        cursor (str | Unset):
        disputable (bool | Unset):
        external_id (str | Unset):
        page_size (int | Unset):
        shop (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PaginatedOrderList | Problem]
    """

    kwargs = _get_kwargs(
        cursor=cursor,
        disputable=disputable,
        external_id=external_id,
        page_size=page_size,
        shop=shop,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    cursor: str | Unset = UNSET,
    disputable: bool | Unset = UNSET,
    external_id: str | Unset = UNSET,
    page_size: int | Unset = UNSET,
    shop: str | Unset = UNSET,
) -> PaginatedOrderList | Problem | None:
    """List orders

    Args:
        cursor (str | Unset):
        disputable (bool | Unset):
        external_id (str | Unset):
        page_size (int | Unset):
        shop (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PaginatedOrderList | Problem
    """

    return sync_detailed(
        client=client,
        cursor=cursor,
        disputable=disputable,
        external_id=external_id,
        page_size=page_size,
        shop=shop,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    cursor: str | Unset = UNSET,
    disputable: bool | Unset = UNSET,
    external_id: str | Unset = UNSET,
    page_size: int | Unset = UNSET,
    shop: str | Unset = UNSET,
) -> Response[PaginatedOrderList | Problem]:
    """List orders

    Args:
        cursor (str | Unset):
        disputable (bool | Unset):
        external_id (str | Unset):
        page_size (int | Unset):
        shop (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PaginatedOrderList | Problem]
    """

    kwargs = _get_kwargs(
        cursor=cursor,
        disputable=disputable,
        external_id=external_id,
        page_size=page_size,
        shop=shop,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    cursor: str | Unset = UNSET,
    disputable: bool | Unset = UNSET,
    external_id: str | Unset = UNSET,
    page_size: int | Unset = UNSET,
    shop: str | Unset = UNSET,
) -> PaginatedOrderList | Problem | None:
    """List orders

    Args:
        cursor (str | Unset):
        disputable (bool | Unset):
        external_id (str | Unset):
        page_size (int | Unset):
        shop (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PaginatedOrderList | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            cursor=cursor,
            disputable=disputable,
            external_id=external_id,
            page_size=page_size,
            shop=shop,
        )
    ).parsed
