"""WSGI entry point: ``gunicorn wsgi:app``; settings come from SBF_SETTINGS."""
from app.factory import create_app

app = create_app()
