"""Flask extensions, created unbound here and bound in register_extensions."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from statusboard.config import settings_of
from statusboard.db import db_session
from statusboard.models import Operator

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Log in to manage the status page."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_operator(operator_id: str) -> Operator | None:
    operator = db_session().get(Operator, int(operator_id))
    return operator if operator is not None and operator.active else None


def login_rate_limit() -> str:
    return settings_of().web.login_rate_limit
