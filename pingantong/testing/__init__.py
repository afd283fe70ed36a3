"""Test helpers shared by every app: users with roles, services, the browser."""
