import pytest


@pytest.fixture(autouse=True)
def _catalogue(db):
    """Transactional tests flush the seeded catalogue: put it back."""
    from pingantong.inventory.catalogue import ensure_catalogue
    from pingantong.testing.regions import ensure_regions

    ensure_regions()
    ensure_catalogue()
