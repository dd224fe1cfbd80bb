"""The web app: server-rendered pages and a JSON API, one router module per audience."""
