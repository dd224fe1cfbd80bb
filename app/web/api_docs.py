"""``/docs``: Swagger UI 5 served from the swagger-ui-py package's copy of its assets, so it works
offline (FastAPI's own page loads them from a CDN and stays blank without internet)."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def swagger_ui_assets() -> Path:
    """The folder of Swagger UI's script and styles (found without importing the package)."""
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed; run scripts/setup.sh")
    return Path(spec.submodule_search_locations[0]) / "static"


def add_api_docs(app: FastAPI) -> None:
    """Serve Swagger UI's assets under ``/docs-assets`` and the page at ``/docs``."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_assets())), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
