"""Does a long history slow the public surfaces? Fills one database with 100,000 incidents
and 1,000,000 updates over 50 components (each incident moving one component to an outage
and back, so the uptime bars have changes to read) and another with 100 incidents, then times
the cold render (no snapshot yet, a fresh process's first request) of every public surface on
each, and their sizes. Both databases hold the same recent weeks; only the history before the
component pages' 12-month window grows, which is what a long history must not slow.

Usage: .venv/bin/python benchmarks/history_scale.py [--incidents 100000] [--updates-per 10]
    [--database-url postgresql://...]
The database URL (or STATUSBOARD_BENCH_DATABASE_URL) names a PostgreSQL database it may wipe
for the long history; the short one goes into "<name>_small" beside it, created when
missing. By default it uses temporary SQLite files. Rows go in by bulk inserts of 5,000.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _support import emit, empty_postgres, table  # noqa: E402
from sqlalchemy import insert, make_url, select, text, update  # noqa: E402

from statusboard import migrate  # noqa: E402
from statusboard.app import create_app  # noqa: E402
from statusboard.config import normalize_database_url  # noqa: E402
from statusboard.db import database, make_engine  # noqa: E402
from statusboard.models import (  # noqa: E402
    Base,
    Component,
    ComponentChange,
    Incident,
    PageState,
    Update,
)
from statusboard.models.base import new_public_id  # noqa: E402
from statusboard.models.incident import incident_component  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
STATUSES = ["investigating", "identified", "monitoring"]
SURFACES = [
    "/",
    "/history",
    "/incidents/{recent}",
    "/incidents/{oldest}",
    "/api/v2/summary.json",
    "/api/v2/incidents.json",
    "/api/v2/components.json",
    "/api/v2/incidents/unresolved.json",
    "/history.atom",
    "/history.rss",
    "/feed.atom",
    "/feed.rss",
    "/feed.json",
    "/incidents/{recent}.atom",
    "/components/{component}",
    "/components/{component}/status.svg",
    "/components/{component}/uptime.svg",
    "/badge.svg",
    "/embed",
    "/uptime",
    "/api/v2/uptime.json",
]
COMPONENTS = 50
# Older history ends before the component pages' 12-month window (and the page's 90 days).
HISTORY_BEFORE = timedelta(days=400)


def fill(url: str, incidents: int, updates_per: int) -> tuple[str, str, str]:
    if url.startswith("postgresql"):
        empty_postgres(url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    rng = random.Random(7)
    span = timedelta(days=365 * 20)
    with engine.begin() as connection:
        # The migrations create the page's version row; date it like the data.
        connection.execute(
            update(PageState).where(PageState.id == 1).values(version=2, updated_at=NOW)
        )
        components = [
            {
                "public_id": new_public_id(),
                "name": f"Component {n}",
                "status": "operational",
                "position": n,
                "is_group": False,
                "showcase": True,
                "only_show_if_degraded": False,
                "created_at": NOW - span - HISTORY_BEFORE,
                "updated_at": NOW,
            }
            for n in range(1, COMPONENTS + 1)
        ]
        connection.execute(insert(Component), components)
    component_ids = list(range(1, COMPONENTS + 1))
    next_update_id = 1
    chunk = 5000
    for first in range(0, incidents, chunk):
        rows, updates, links, changes = [], [], [], []
        for number in range(first, min(first + chunk, incidents)):
            # The same recent fortnight in both databases (the last 30 incidents); only the
            # history before it grows.
            recent = incidents - number
            if recent <= 30:
                start = NOW - timedelta(hours=recent * 11)
            else:
                start = NOW - HISTORY_BEFORE - span * (1 - number / incidents)
            open_incident = number >= incidents - 2
            rows.append(
                {
                    "id": number + 1,
                    "public_id": new_public_id(),
                    "kind": "incident",
                    "name": f"Incident number {number}: elevated errors",
                    "status": "identified" if open_incident else "resolved",
                    "impact": rng.choice(["minor", "major", "critical"]),
                    "started_at": start,
                    "created_at": start,
                    "updated_at": start + timedelta(minutes=updates_per * 10),
                    "resolved_at": None
                    if open_incident
                    else start + timedelta(minutes=updates_per * 10),
                    "next_update_at": NOW + timedelta(minutes=30) if open_incident else None,
                    "eta_at": None,
                }
            )
            component_id = rng.choice(component_ids)
            outage = rng.choice(["degraded_performance", "partial_outage", "major_outage"])
            links.append({"incident_id": number + 1, "component_id": component_id})
            for step in range(updates_per):
                last = step == updates_per - 1
                status = (
                    ("identified" if open_incident else "resolved")
                    if last
                    else STATUSES[min(step, 2)]
                )
                at = start + timedelta(minutes=step * 10)
                body = f"Update {step} on incident {number}: we are working on it. " * 3
                updates.append(
                    {
                        "id": next_update_id,
                        "public_id": new_public_id(),
                        "incident_id": number + 1,
                        "status": status,
                        "body": body,
                        "html": f"<p>{body}</p>",
                        "created_at": at,
                        "display_at": at,
                        "deliver_notifications": True,
                        "next_update_at": None
                        if status == "resolved"
                        else at + timedelta(minutes=30),
                    }
                )
                if step == 0 or (last and not open_incident):
                    old, new = ("operational", outage) if step == 0 else (outage, "operational")
                    changes.append(
                        {
                            "update_id": next_update_id,
                            "component_id": component_id,
                            "old_status": old,
                            "new_status": new,
                            "at": at,
                        }
                    )
                next_update_id += 1
        with engine.begin() as connection:
            connection.execute(insert(Incident), rows)
            connection.execute(insert(incident_component), links)
            connection.execute(insert(Update), updates)
            connection.execute(insert(ComponentChange), changes)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            for table_ in Base.metadata.sorted_tables:
                connection.execute(text(f'ANALYZE "{table_.name}"'))
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('incident', 'id'), "
                    "(SELECT max(id) FROM incident))"
                )
            )
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('incident_update', "
                    "'id'), (SELECT max(id) FROM incident_update))"
                )
            )
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    with engine.begin() as connection:
        # The open incidents' components are in an outage now, as the page shows them.
        for incident_id in (incidents - 1, incidents):
            connection.execute(
                update(Component)
                .where(
                    Component.id
                    == select(incident_component.c.component_id)
                    .where(incident_component.c.incident_id == incident_id)
                    .scalar_subquery()
                )
                .values(status="partial_outage")
            )
    with engine.connect() as connection:
        recent = connection.scalar(select(Incident.public_id).order_by(Incident.id.desc()))
        oldest = connection.scalar(select(Incident.public_id).order_by(Incident.id))
        component = connection.scalar(
            select(Component.public_id)
            .join(incident_component, incident_component.c.component_id == Component.id)
            .where(incident_component.c.incident_id == incidents)
        )
    engine.dispose()
    return recent, oldest, str(component)


def cold_render(url: str, path: str, snapshot_root: Path) -> tuple[float, int]:
    """One cold render: a new app (no snapshot yet), as a fresh process's first request."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "BASE_URL": "https://status.example.com",
            "SNAPSHOT_DIR": str(snapshot_root / str(time.time_ns())),
        }
    )
    client = app.test_client()
    client.get("/healthz")  # import and first-request costs are not the surface's
    gc.collect()  # nor the garbage of the apps made before it
    started = time.perf_counter()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    database(app).engine.dispose()
    return elapsed, len(response.get_data())


def filled(url: str, count: int, updates_per: int) -> tuple[str, str, str]:
    started = time.perf_counter()
    ids = fill(url, count, updates_per)
    print(
        f"filled {count} incidents, {count * updates_per} updates "
        f"in {time.perf_counter() - started:.0f}s",
        file=sys.stderr,
    )
    return ids


def measure(
    results: dict[str, dict[str, float]],
    databases: dict[str, tuple[str, tuple[str, str, str]]],
    work: Path,
    repeats: int = 11,
) -> None:
    """Each surface's median cold render on each database. The databases take turns render
    by render, so a busy moment on a shared machine falls on both rather than on one (single
    cold renders swing by about 30% here)."""
    for surface in SURFACES:
        times: dict[str, list[float]] = {label: [] for label in databases}
        for _attempt in range(repeats):
            for label, (url, (recent, oldest, component)) in databases.items():
                path = surface.format(recent=recent, oldest=oldest, component=component)
                ms, size = cold_render(url, path, work / "snapshots")
                times[label].append(ms)
                results.setdefault(surface, {})[f"{label}_bytes"] = size
        for label, values in times.items():
            results[surface][f"{label}_ms"] = round(statistics.median(values), 1)


def second_database(url: str, suffix: str) -> str:
    """A PostgreSQL database beside `url` for the small history (created when missing), so
    that both histories are timed side by side as on SQLite."""
    parsed = make_url(url)
    name = f"{parsed.database}{suffix}"
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--updates-per", type=int, default=10)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("STATUSBOARD_BENCH_DATABASE_URL"),
        help="an empty database it may wipe (PostgreSQL); default: temporary SQLite files",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="statusboard-history-"))
    big_url = normalize_database_url(args.database_url or f"sqlite:///{work / 'big.db'}")
    if big_url.startswith("sqlite"):
        small_url = f"sqlite:///{work / 'small.db'}"
    else:
        small_url = second_database(big_url, "_small")
    results: dict[str, dict[str, float]] = {}
    plan = (("small", small_url, 100), ("big", big_url, args.incidents))
    both = {label: (url, filled(url, count, args.updates_per)) for label, url, count in plan}
    measure(results, both, work)
    rows = []
    for surface, r in results.items():
        r["ratio"] = round(r["big_ms"] / r["small_ms"], 2)
        rows.append(
            [surface, r["small_ms"], r["big_ms"], r["ratio"], r["small_bytes"], r["big_bytes"]]
        )
    print(
        table(
            rows,
            [
                "surface (cold render)",
                "100 incidents ms",
                f"{args.incidents} incidents ms",
                "ratio",
                "bytes (100)",
                f"bytes ({args.incidents})",
            ],
        )
    )
    worst = max(r["ratio"] for r in results.values())
    print(f"\nworst ratio {worst:.2f} (target <= 1.5)")
    emit(
        {
            "incidents": args.incidents,
            "updates": args.incidents * args.updates_per,
            "worst_ratio": worst,
            "surfaces": results,
        }
    )


if __name__ == "__main__":
    main()
