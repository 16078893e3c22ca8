from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.list_disputes_reason_item import ListDisputesReasonItem
from ...models.list_disputes_state_item import ListDisputesStateItem
from ...models.paginated_dispute_list import PaginatedDisputeList
from ...models.problem import Problem
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    assigned_to_me: bool | Unset = UNSET,
    cursor: str | Unset = UNSET,
    order: str | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    page_size: int | Unset = UNSET,
    reason: list[ListDisputesReasonItem] | Unset = UNSET,
    reported_conduct: bool | Unset = UNSET,
    shop: str | Unset = UNSET,
    state: list[ListDisputesStateItem] | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["assigned_to_me"] = assigned_to_me

    params["cursor"] = cursor

    params["order"] = order

    params["overdue"] = overdue

    params["page_size"] = page_size

    json_reason: list[str] | Unset = UNSET
    if not isinstance(reason, Unset):
        json_reason = []
        for reason_item_data in reason:
            reason_item = reason_item_data.value
            json_reason.append(reason_item)

    params["reason"] = json_reason

    params["reported_conduct"] = reported_conduct

    params["shop"] = shop

    json_state: list[str] | Unset = UNSET
    if not isinstance(state, Unset):
        json_state = []
        for state_item_data in state:
            state_item = state_item_data.value
            json_state.append(state_item)

    params["state"] = json_state

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/disputes/",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> PaginatedDisputeList | Problem | None:
    if response.status_code == 200:
        response_200 = PaginatedDisputeList.from_dict(response.json())

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
) -> Response[PaginatedDisputeList | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    assigned_to_me: bool | Unset = UNSET,
    cursor: str | Unset = UNSET,
    order: str | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    page_size: int | Unset = UNSET,
    reason: list[ListDisputesReasonItem] | Unset = UNSET,
    reported_conduct: bool | Unset = UNSET,
    shop: str | Unset = UNSET,
    state: list[ListDisputesStateItem] | Unset = UNSET,
) -> Response[PaginatedDisputeList | Problem]:
    """List disputes

    Args:
        assigned_to_me (bool | Unset):
        cursor (str | Unset):
        order (str | Unset):
        overdue (bool | Unset):
        page_size (int | Unset):
        reason (list[ListDisputesReasonItem] | Unset):
        reported_conduct (bool | Unset):
        shop (str | Unset):
        state (list[ListDisputesStateItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PaginatedDisputeList | Problem]
    """

    kwargs = _get_kwargs(
        assigned_to_me=assigned_to_me,
        cursor=cursor,
        order=order,
        overdue=overdue,
        page_size=page_size,
        reason=reason,
        reported_conduct=reported_conduct,
        shop=shop,
        state=state,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    assigned_to_me: bool | Unset = UNSET,
    cursor: str | Unset = UNSET,
    order: str | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    page_size: int | Unset = UNSET,
    reason: list[ListDisputesReasonItem] | Unset = UNSET,
    reported_conduct: bool | Unset = UNSET,
    shop: str | Unset = UNSET,
    state: list[ListDisputesStateItem] | Unset = UNSET,
) -> PaginatedDisputeList | Problem | None:
    """List disputes

    Args:
        assigned_to_me (bool | Unset):
        cursor (str | Unset):
        order (str | Unset):
        overdue (bool | Unset):
        page_size (int | Unset):
        reason (list[ListDisputesReasonItem] | Unset):
        reported_conduct (bool | Unset):
        shop (str | Unset):
        state (list[ListDisputesStateItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PaginatedDisputeList | Problem
    """

    return sync_detailed(
        client=client,
        assigned_to_me=assigned_to_me,
        cursor=cursor,
        order=order,
        overdue=overdue,
        page_size=page_size,
        reason=reason,
        reported_conduct=reported_conduct,
        shop=shop,
        state=state,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    assigned_to_me: bool | Unset = UNSET,
    cursor: str | Unset = UNSET,
    order: str | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    page_size: int | Unset = UNSET,
    reason: list[ListDisputesReasonItem] | Unset = UNSET,
    reported_conduct: bool | Unset = UNSET,
    shop: str | Unset = UNSET,
    state: list[ListDisputesStateItem] | Unset = UNSET,
) -> Response[PaginatedDisputeList | Problem]:
    """List disputes

    Args:
        assigned_to_me (bool | Unset):
        cursor (str | Unset):
        order (str | Unset):
        overdue (bool | Unset):
        page_size (int | Unset):
        reason (list[ListDisputesReasonItem] | Unset):
        reported_conduct (bool | Unset):
        shop (str | Unset):
        state (list[ListDisputesStateItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PaginatedDisputeList | Problem]
    """

    kwargs = _get_kwargs(
        assigned_to_me=assigned_to_me,
        cursor=cursor,
        order=order,
        overdue=overdue,
        page_size=page_size,
        reason=reason,
        reported_conduct=reported_conduct,
        shop=shop,
        state=state,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    assigned_to_me: bool | Unset = UNSET,
    cursor: str | Unset = UNSET,
    order: str | Unset = UNSET,
    overdue: bool | Unset = UNSET,
    page_size: int | Unset = UNSET,
    reason: list[ListDisputesReasonItem] | Unset = UNSET,
    reported_conduct: bool | Unset = UNSET,
    shop: str | Unset = UNSET,
    state: list[ListDisputesStateItem] | Unset = UNSET,
) -> PaginatedDisputeList | Problem | None:
    """List disputes

    Args:
        assigned_to_me (bool | Unset):
        cursor (str | Unset):
        order (str | Unset):
        overdue (bool | Unset):
        page_size (int | Unset):
        reason (list[ListDisputesReasonItem] | Unset):
        reported_conduct (bool | Unset):
        shop (str | Unset):
        state (list[ListDisputesStateItem] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PaginatedDisputeList | Problem
    """

    return (
        await asyncio_detailed(
            client=client,
            assigned_to_me=assigned_to_me,
            cursor=cursor,
            order=order,
            overdue=overdue,
            page_size=page_size,
            reason=reason,
            reported_conduct=reported_conduct,
            shop=shop,
            state=state,
        )
    ).parsed
