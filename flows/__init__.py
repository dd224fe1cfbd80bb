"""Prefect flows: thin orchestration over the domain packages."""
