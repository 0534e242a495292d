"""The web app: JSON API under /api, the server-rendered portal, health."""
