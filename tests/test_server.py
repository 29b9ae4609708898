from statusboard.server import gunicorn_options


def test_gunicorn_settings_follow_the_environment(app):
    app.config.update(STATUSBOARD_WEB_WORKERS=3, STATUSBOARD_WEB_THREADS=8,
                      STATUSBOARD_ACCESS_LOG=False)
    options = gunicorn_options(app)
    assert (options["workers"], options["threads"], options["accesslog"]) == (3, 8, None)
    assert options["worker_class"] == "gthread"


def test_default_worker_count_follows_the_cores(app, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert gunicorn_options(app)["workers"] == 4
    monkeypatch.setattr("os.cpu_count", lambda: 64)
    assert gunicorn_options(app)["workers"] == 8
