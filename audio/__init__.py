"""Signal in, spans and clip files out. No database, no Prefect, no people."""
