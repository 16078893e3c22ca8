from http import HTTPStatus
from io import BytesIO
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.problem import Problem
from ...types import File, Response


def _get_kwargs(
    dispute_id: int,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/disputes/{dispute_id}/case-file/".format(
            dispute_id=quote(str(dispute_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> File | Problem | None:
    if response.status_code == 200:
        response_200 = File(payload=BytesIO(response.content))

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[File | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    dispute_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[File | Problem]:
    """Download the case file (ZIP)

     One ZIP for a payment processor or a court, as the caller may see the dispute: summary.html
    (readable, self-contained), timeline.json, audit.json (entries with their hashes), every visible
    evidence file under evidence/, and manifest.json (path, size and SHA-256 of every file, evidence
    checked against the SHA-256 recorded at upload, and the result of the audit chain check). Streamed
    as it is built. For the parties and the mediators.

    Args:
        dispute_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        dispute_id=dispute_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    dispute_id: int,
    *,
    client: AuthenticatedClient,
) -> File | Problem | None:
    """Download the case file (ZIP)

     One ZIP for a payment processor or a court, as the caller may see the dispute: summary.html
    (readable, self-contained), timeline.json, audit.json (entries with their hashes), every visible
    evidence file under evidence/, and manifest.json (path, size and SHA-256 of every file, evidence
    checked against the SHA-256 recorded at upload, and the result of the audit chain check). Streamed
    as it is built. For the parties and the mediators.

    Args:
        dispute_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return sync_detailed(
        dispute_id=dispute_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    dispute_id: int,
    *,
    client: AuthenticatedClient,
) -> Response[File | Problem]:
    """Download the case file (ZIP)

     One ZIP for a payment processor or a court, as the caller may see the dispute: summary.html
    (readable, self-contained), timeline.json, audit.json (entries with their hashes), every visible
    evidence file under evidence/, and manifest.json (path, size and SHA-256 of every file, evidence
    checked against the SHA-256 recorded at upload, and the result of the audit chain check). Streamed
    as it is built. For the parties and the mediators.

    Args:
        dispute_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[File | Problem]
    """

    kwargs = _get_kwargs(
        dispute_id=dispute_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    dispute_id: int,
    *,
    client: AuthenticatedClient,
) -> File | Problem | None:
    """Download the case file (ZIP)

     One ZIP for a payment processor or a court, as the caller may see the dispute: summary.html
    (readable, self-contained), timeline.json, audit.json (entries with their hashes), every visible
    evidence file under evidence/, and manifest.json (path, size and SHA-256 of every file, evidence
    checked against the SHA-256 recorded at upload, and the result of the audit chain check). Streamed
    as it is built. For the parties and the mediators.

    Args:
        dispute_id (int):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        File | Problem
    """

    return (
        await asyncio_detailed(
            dispute_id=dispute_id,
            client=client,
        )
    ).parsed
