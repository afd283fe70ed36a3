import pytest


@pytest.fixture(autouse=True)
def _catalogue(db):
    """Transactional tests flush the seeded catalogue: put it back."""
    from pingantong.inventory.catalogue import ensure_catalogue
    from pingantong.testing.regions import ensure_regions

    ensure_regions()
    ensure_catalogue()


@pytest.fixture(autouse=True)
def _english():
    """Assertions on messages read the English source strings (the catalogue may be compiled)."""
    from django.utils import translation

    with translation.override("en"):
        yield
