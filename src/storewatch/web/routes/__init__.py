"""The routes: parse the request, call a service, map to a schema or a page. No business rules here."""
