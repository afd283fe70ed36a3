"""Reads of the care app."""
