"""Placeholder replaced below."""
from flask import Blueprint

blueprint = Blueprint("admin_alerts", __name__)
