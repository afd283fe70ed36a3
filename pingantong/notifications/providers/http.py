"""What every HTTP provider adapter shares: one httpx call with errors mapped onto the channel's
transient/permanent split."""

from __future__ import annotations

from typing import Any

import httpx

from ..channels.base import TransientError


def post(url: str, *, timeout: float, **kwargs: Any) -> httpx.Response:
    """POST and return the response; a timeout, a network error or a 5xx is transient."""
    try:
        response = httpx.post(url, timeout=timeout, **kwargs)
    except httpx.TimeoutException as exc:
        raise TransientError("timeout", f"no answer from {url} within {timeout:g} s") from exc
    except httpx.TransportError as exc:
        raise TransientError("network", str(exc)) from exc
    if response.status_code >= 500:
        raise TransientError(f"http_{response.status_code}", response.text[:200])
    return response


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise TransientError("bad_response", f"not JSON: {response.text[:200]}") from exc
