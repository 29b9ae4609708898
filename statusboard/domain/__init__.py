"""Pure rules: no database, no Flask, no network."""
