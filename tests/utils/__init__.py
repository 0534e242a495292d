"""Factories for tests: a small area tree and users holding roles."""
