"""Reading CAP warnings from a configured feed (PINGANTONG_CAP_FEED_URL): either one CAP document
or an Atom/RSS feed whose entries link to CAP documents (the usual shape of national warning
feeds). Each alert goes through `import_weather_warning`; a malformed one is logged with its
reason and skipped, and the others are still read."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx
from defusedxml import ElementTree as SafeET

from .cap import NS as CAP_NS
from .cap import CapError

logger = logging.getLogger(__name__)
ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class FeedResult:
    imported: list[str] = field(default_factory=list)
    drafts: int = 0
    rejected: dict[str, str] = field(default_factory=dict)


def _links(root, base: str) -> list[str]:
    links = [
        link.get("href", "")
        for link in root.iter(f"{ATOM}link")
        if link.get("type", "application/cap+xml") in {"application/cap+xml", "application/xml", "text/xml"}
        and link.get("rel", "alternate") in {"alternate", "related", "enclosure"}
    ]
    links += [(item.text or "").strip() for item in root.iter("link") if (item.text or "").strip()]
    return [urljoin(base, link) for link in links if link]


def fetch_cap_feed(url: str | None = None, *, timeout: float = 15.0) -> FeedResult:
    from .broadcasts import import_weather_warning

    url = url or os.environ.get("PINGANTONG_CAP_FEED_URL", "")
    result = FeedResult()
    if not url:
        return result
    response = httpx.get(url, timeout=timeout, follow_redirects=True)
    response.raise_for_status()
    root = SafeET.fromstring(response.content)
    documents = (
        [(url, response.content)]
        if root.tag == f"{{{CAP_NS}}}alert"
        else [
            (link, httpx.get(link, timeout=timeout, follow_redirects=True).content)
            for link in _links(root, url)
        ]
    )
    for source, data in documents:
        try:
            warning, drafts = import_weather_warning(data=data)
        except CapError as exc:
            logger.warning("CAP document %s rejected: %s", source, exc)
            result.rejected[source] = str(exc)
            continue
        result.imported.append(warning.identifier)
        result.drafts += len(drafts)
    return result
