"""The web application: the dashboard and its JSON API for one site (``storewatch serve``).

One composition root, ``create_app(settings)`` (``web.app``), builds everything: the database, the services, the
live feed and the routes; nothing happens at import time. Routes are thin (``web.routes``): they parse, call a
service (``web.services``, ``web.incident_service``) and map the result to a public schema (``web.schemas``) or a
server-rendered page (``web/templates``, one CSS file and one small script in ``web/static``; no CDN, no build).
Authentication and store scope are dependencies (``web.deps``): every route that is not tagged ``public`` takes
the current user, and every store-bound one its store scope.
"""

from storewatch.web.app import create_app
from storewatch.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
