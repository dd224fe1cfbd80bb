"""Routers: auth, transcriber pages and API, coordinator pages, review pages and API."""
