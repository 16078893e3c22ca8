"""Reading the API's paginated lists (``{"next", "previous", "results"}``) to the end."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient


def pages(client: APIClient, url: str) -> list[dict[str, Any]]:
    """Every page of a list, following ``next`` from ``url``."""
    found: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        assert response.status_code == 200, response.content
        found.append(response.json())
        next_url = found[-1]["next"]
        assert len(found) < 1000, "the pages do not end"
    return found


def every(client: APIClient, url: str) -> list[dict[str, Any]]:
    """The results of every page of a list, in order."""
    return [row for page in pages(client, url) for row in page["results"]]
