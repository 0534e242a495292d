"""Open311 GeoReport v2: the event loop as public 311 clients see it.

``keys`` issues and checks the clients' API keys (only their SHA-256 is
stored), ``mapping`` turns event types and events into the specification's
services, service definitions and service requests, ``reports`` takes a
posted service request into the event loop through the core's intake, and
``xml`` writes the XML form of any answer with ElementTree. The routes live in
:mod:`jiceng.core.web.routes.open311`.
"""
