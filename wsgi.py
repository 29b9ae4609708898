"""WSGI entry point for any server: `gunicorn wsgi:app`."""

from statusboard.app import create_app

app = create_app()
