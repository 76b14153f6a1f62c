"""Implementations of the service ports: SQLAlchemy, Redis, files, PDFs."""
