"""平安通 operations platform."""
