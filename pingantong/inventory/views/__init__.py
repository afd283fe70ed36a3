"""Web pages of the inventory app."""
