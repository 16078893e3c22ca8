from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.evidence import Evidence
from ...models.evidence_upload_request import EvidenceUploadRequest
from ...models.problem import Problem
from ...types import Response


def _get_kwargs(
    dispute_id: int,
    *,
    body: EvidenceUploadRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/disputes/{dispute_id}/evidence/".format(
            dispute_id=quote(str(dispute_id), safe=""),
        ),
    }

    _kwargs["files"] = body.to_multipart()

    headers["Content-Type"] = "multipart/form-data; boundary=+++"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Evidence | Problem | None:
    if response.status_code == 201:
        response_201 = Evidence.from_dict(response.json())

        return response_201

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

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())

        return response_413

    if response.status_code == 414:
        response_414 = Problem.from_dict(response.json())

        return response_414

    if response.status_code == 415:
        response_415 = Problem.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())

        return response_422

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Evidence | Problem]:
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
    body: EvidenceUploadRequest,
) -> Response[Evidence | Problem]:
    """Upload evidence

     A party (while the dispute is open) or a mediator uploads a file. Typed by content: JPEG, PNG, GIF,
    WebP, HEIC, PDF or UTF-8 text; a file carrying an archive anywhere in it, or an image whose header
    cannot be read, is refused too (415 unsupported_file_type). At most EVIDENCE_MAX_FILE_MB a file (413
    file_too_large); images at most EVIDENCE_MAX_IMAGE_PIXELS pixels and EVIDENCE_MAX_IMAGE_SIDE a side
    by their header (422 image_too_large, with width, height, max_pixels, max_side); EVIDENCE_MAX_FILES
    files and EVIDENCE_MAX_TOTAL_MB per party per dispute (422 evidence_quota_exceeded).

    Args:
        dispute_id (int):
        body (EvidenceUploadRequest): The multipart upload as the schema shows it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Evidence | Problem]
    """

    kwargs = _get_kwargs(
        dispute_id=dispute_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    dispute_id: int,
    *,
    client: AuthenticatedClient,
    body: EvidenceUploadRequest,
) -> Evidence | Problem | None:
    """Upload evidence

     A party (while the dispute is open) or a mediator uploads a file. Typed by content: JPEG, PNG, GIF,
    WebP, HEIC, PDF or UTF-8 text; a file carrying an archive anywhere in it, or an image whose header
    cannot be read, is refused too (415 unsupported_file_type). At most EVIDENCE_MAX_FILE_MB a file (413
    file_too_large); images at most EVIDENCE_MAX_IMAGE_PIXELS pixels and EVIDENCE_MAX_IMAGE_SIDE a side
    by their header (422 image_too_large, with width, height, max_pixels, max_side); EVIDENCE_MAX_FILES
    files and EVIDENCE_MAX_TOTAL_MB per party per dispute (422 evidence_quota_exceeded).

    Args:
        dispute_id (int):
        body (EvidenceUploadRequest): The multipart upload as the schema shows it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Evidence | Problem
    """

    return sync_detailed(
        dispute_id=dispute_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    dispute_id: int,
    *,
    client: AuthenticatedClient,
    body: EvidenceUploadRequest,
) -> Response[Evidence | Problem]:
    """Upload evidence

     A party (while the dispute is open) or a mediator uploads a file. Typed by content: JPEG, PNG, GIF,
    WebP, HEIC, PDF or UTF-8 text; a file carrying an archive anywhere in it, or an image whose header
    cannot be read, is refused too (415 unsupported_file_type). At most EVIDENCE_MAX_FILE_MB a file (413
    file_too_large); images at most EVIDENCE_MAX_IMAGE_PIXELS pixels and EVIDENCE_MAX_IMAGE_SIDE a side
    by their header (422 image_too_large, with width, height, max_pixels, max_side); EVIDENCE_MAX_FILES
    files and EVIDENCE_MAX_TOTAL_MB per party per dispute (422 evidence_quota_exceeded).

    Args:
        dispute_id (int):
        body (EvidenceUploadRequest): The multipart upload as the schema shows it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Evidence | Problem]
    """

    kwargs = _get_kwargs(
        dispute_id=dispute_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    dispute_id: int,
    *,
    client: AuthenticatedClient,
    body: EvidenceUploadRequest,
) -> Evidence | Problem | None:
    """Upload evidence

     A party (while the dispute is open) or a mediator uploads a file. Typed by content: JPEG, PNG, GIF,
    WebP, HEIC, PDF or UTF-8 text; a file carrying an archive anywhere in it, or an image whose header
    cannot be read, is refused too (415 unsupported_file_type). At most EVIDENCE_MAX_FILE_MB a file (413
    file_too_large); images at most EVIDENCE_MAX_IMAGE_PIXELS pixels and EVIDENCE_MAX_IMAGE_SIDE a side
    by their header (422 image_too_large, with width, height, max_pixels, max_side); EVIDENCE_MAX_FILES
    files and EVIDENCE_MAX_TOTAL_MB per party per dispute (422 evidence_quota_exceeded).

    Args:
        dispute_id (int):
        body (EvidenceUploadRequest): The multipart upload as the schema shows it.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Evidence | Problem
    """

    return (
        await asyncio_detailed(
            dispute_id=dispute_id,
            client=client,
            body=body,
        )
    ).parsed
