"""The ASGI application for granian or uvicorn: `granian --interface asgi council.asgi:app`."""

from council.app import create_app

app = create_app()
