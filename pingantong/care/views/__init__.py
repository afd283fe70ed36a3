"""Web pages of the care app."""
