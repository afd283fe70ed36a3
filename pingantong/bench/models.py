"""Models of the bench app."""
