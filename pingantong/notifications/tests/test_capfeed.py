"""S13: the configured CAP feed (an Atom feed linking to CAP documents) is read; a malformed entry
is rejected with its reason and does not stop the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from pingantong.notifications.capfeed import fetch_cap_feed
from pingantong.notifications.models import WeatherWarning

from .servers import LocalHttpServer

FIXTURES = Path(__file__).parent / "fixtures"


class RawServer(LocalHttpServer):
    """Serves fixed bytes per path (the JSON helper is not used here)."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(lambda *a: (200, {}))
        handler = self.server.RequestHandlerClass

        def do_GET(request):
            body = files.get(request.path.split("?")[0])
            request.send_response(200 if body is not None else 404)
            request.send_header("Content-Type", "application/xml")
            request.end_headers()
            request.wfile.write(body or b"")

        handler.do_GET = do_GET


@pytest.mark.django_db
def test_atom_feed_entries_are_imported_and_a_bad_one_is_reported():
    feed = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>warnings</title>
    <entry><id>1</id><link href="/cap/rainstorm.xml" type="application/cap+xml"/></entry>
    <entry><id>2</id><link href="/cap/typhoon.xml" type="application/cap+xml"/></entry>
    <entry><id>3</id><link href="/cap/broken.xml" type="application/cap+xml"/></entry></feed>"""
    files = {
        "/feed.atom": feed,
        "/cap/rainstorm.xml": (FIXTURES / "sanming_rainstorm_orange.xml").read_bytes(),
        "/cap/typhoon.xml": (FIXTURES / "sanming_typhoon_yellow_city.xml").read_bytes(),
        "/cap/broken.xml": b"<alert xmlns='urn:oasis:names:tc:emergency:cap:1.2'><sender>x</sender></alert>",
    }
    with RawServer(files) as server:
        result = fetch_cap_feed(f"{server.url}/feed.atom")
    assert sorted(result.imported) == ["35040041600000_20260915060000", "35040041600000_20261128081500"]
    assert result.drafts == 1  # only the orange rainstorm is extreme
    [(source, reason)] = result.rejected.items()
    assert source.endswith("/cap/broken.xml") and "<identifier> is missing" in reason
    assert WeatherWarning.objects.count() == 2
