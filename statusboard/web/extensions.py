"""Flask extensions, created unbound here and bound in register_extensions."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

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
def _load_operator(session_id: str) -> Operator | None:
    """The session names the operator and the generation it was opened in (Operator.get_id);
    a session from an older generation has ended."""
    operator_id, _, generation = session_id.partition(".")
    if not (operator_id.isdigit() and generation.isdigit()):
        return None
    operator = db_session().get(Operator, int(operator_id))
    if operator is None or not operator.active:
        return None
    return operator if operator.session_generation == int(generation) else None
