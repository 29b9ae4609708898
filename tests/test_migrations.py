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
