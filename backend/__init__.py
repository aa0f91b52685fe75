"""The site's own backend: what answers the site's requests under `/api/`.

Run it as `python -m backend` (see docs/backend.md). The package reads top to bottom:
`settings` (the environment) → `storage` (one database layer, migrations) → `outbox`
(mail written in the request's transaction, sent by a worker) → `contact` (the
callback and quotation form) → `app` (the ASGI application) → `cli`.
"""
