"""The dispatch queue: transcription slots handed out fairly, under leases, and transcripts taken
back in.

``rules`` writes each claim and submit rule once; ``statements`` builds every statement for
SQLite and PostgreSQL from them; ``sequences`` writes the claim and the submit once, driven by
``sync_runner`` (CLI, pages, SQLite) and ``async_runner`` (the web server on PostgreSQL).
``holding`` renews, skips and serves a held clip; ``writes`` keeps concurrent writers correct;
``audit`` checks what must hold however requests were retried or processes died. What waits for
a person is ``transcribe.offers``, built on the claim's own rule (``rules``). Why it is shaped
so: ``docs/dispatch.md``.
"""
