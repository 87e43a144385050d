"""Persistence: tables, engine set-up and schema migrations (SQLite and PostgreSQL)."""
