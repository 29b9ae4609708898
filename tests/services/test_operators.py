"""The team always keeps an admin, even when two admins demote each other at the same moment
(PostgreSQL: both have read the team before either writes; SQLite: the write lock makes
them take turns)."""

from __future__ import annotations

import threading

from sqlalchemy import select

from statusboard.db import database
from statusboard.domain.errors import Conflict
from statusboard.models import Operator, Role
from statusboard.services import operators
from statusboard.services.audit import Actor
from tests.conftest import make_operator


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, session):
    make_operator(session, email="ada@example.com", name="Ada", role=Role.ADMIN)
    make_operator(session, email="bea@example.com", name="Bea", role=Role.ADMIN)
    both_read = threading.Barrier(2)
    answers: dict[str, str] = {}

    def demote(me: str, them: str) -> None:
        def work(db) -> None:
            actor = operators.find_operator(db, me)
            target = operators.find_operator(db, them)
            if database(app).dialect == "postgresql":
                both_read.wait(timeout=10)  # SQLite's write lock would hold the other back
            operators.set_role(db, operator=target, role=Role.OPERATOR, actor=Actor(actor, "web"))

        try:
            database(app).write(work, patience=20)
            answers[me] = "demoted " + them
        except Conflict as refused:
            answers[me] = refused.message

    threads = [
        threading.Thread(target=demote, args=("ada@example.com", "bea@example.com")),
        threading.Thread(target=demote, args=("bea@example.com", "ada@example.com")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    session.rollback()
    admins = session.scalars(select(Operator.email).where(Operator.role == Role.ADMIN)).all()
    assert len(admins) == 1, answers
    refused = [a for a in answers.values() if "last active admin" in a]
    assert len(refused) == 1 and len(answers) == 2, answers
