"""Stub of the «changes» section; the feature's real module replaces this file."""
from aiohttp import web

from workbench.pages.stub import register_stub


def register(app: web.Application) -> None:
    register_stub(app, "/changes")
