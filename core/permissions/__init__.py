"""Permissions: Casbin RBAC with area domains, compiled for speed.

``catalog`` names the permissions and built-in roles, ``store`` keeps the
Casbin policy in the database, ``checker`` answers checks and builds the SQL
filters, and ``service`` is what the CLI and the API call to grant and revoke.
"""
