"""One keyword-only function per verb. Services take a Session, never touch Flask's request or
app, and never commit: the edge (view, API, command, job) owns the transaction."""
