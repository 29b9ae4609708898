"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from statusboard.db import make_engine
from statusboard.models import Base


def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)  # upgraded to head by the session fixture
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_the_hardening_migration_repairs_text_stored_with_control_characters(tmp_path):
    """Rows written before text was checked lose their NUL and control characters and
    become NFC; tabs and newlines in messages stay."""
    from sqlalchemy import text

    from statusboard import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0007_one_outbox")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO operator (email, name, password_hash, role, active, on_call, "
                "sign_updates, created_at) VALUES ('a@b.org', :name, 'x', 'admin', 1, 1, 0, "
                "'2026-01-01 00:00:00')"
            ),
            {"name": "Ol\x00ive\x0b e\u0301\x1b"},
        )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        name, generation = connection.execute(
            text("SELECT name, session_generation FROM operator")
        ).one()
    engine.dispose()
    assert name == "Olive é"
    assert generation == 0


def test_operators_who_never_chose_to_sign_follow_the_pages_default_after_upgrade(tmp_path):
    """Signing was opt-in (False by default): those rows become "follow the page" (NULL);
    an operator who had opted in stays signed."""
    from sqlalchemy import text

    from statusboard import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0008_hardening")
    with engine.begin() as connection:
        for email, signs in (("a@b.org", 0), ("c@d.org", 1)):
            connection.execute(
                text(
                    "INSERT INTO operator (email, name, password_hash, role, active, on_call, "
                    "sign_updates, created_at, session_generation) VALUES (:email, 'A', 'x', "
                    "'admin', 1, 1, :signs, '2026-01-01 00:00:00', 0)"
                ),
                {"email": email, "signs": signs},
            )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT email, sign_updates FROM operator ORDER BY email"))
        assert [tuple(r) for r in rows] == [("a@b.org", None), ("c@d.org", 1)]
    engine.dispose()


def test_changes_recorded_before_they_carried_a_time_take_their_updates_time(tmp_path):
    """The uptime bars read a change's own time: the upgrade gives every earlier change the
    time its update took effect (display_at, which may lie before the update was written)."""
    from sqlalchemy import text

    from statusboard import migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0014_postmortems_templates")
    written, shown = "2026-03-02 10:00:00.000000", "2026-03-01 22:30:00.000000"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO component (id, public_id, name, status, position, is_group, "
                "showcase, only_show_if_degraded, created_at, updated_at, alert_automation) "
                "VALUES (1, 'c1', 'API', 'operational', 1, 0, 1, 0, :at, :at, 0)"
            ),
            {"at": written},
        )
        connection.execute(
            text(
                "INSERT INTO incident (id, public_id, kind, name, status, impact, started_at, "
                "created_at, updated_at) VALUES (1, 'i1', 'incident', 'Errors', 'resolved', "
                "'major', :shown, :at, :at)"
            ),
            {"at": written, "shown": shown},
        )
        connection.execute(
            text(
                "INSERT INTO incident_update (id, public_id, incident_id, status, body, html, "
                "deliver_notifications, created_at, display_at) VALUES (1, 'u1', 1, "
                "'investigating', 'Down', '<p>Down</p>', 1, :at, :shown)"
            ),
            {"at": written, "shown": shown},
        )
        connection.execute(
            text(
                "INSERT INTO component_change (id, update_id, component_id, old_status, "
                "new_status) VALUES (1, 1, 1, 'operational', 'major_outage')"
            )
        )
    migrate.upgrade(engine)
    with engine.connect() as connection:
        at = connection.scalar(text("SELECT at FROM component_change WHERE id = 1"))
    engine.dispose()
    assert at == shown
