"""gunicorn's settings for the web process (the Dockerfile's CMD, compose, the contract and
API benchmarks): ``gunicorn -c config/gunicorn.conf.py config.wsgi:application``.

Each may be set in the environment; the README's "Configuration" lists them.
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# WEB_CONCURRENCY: worker processes (gunicorn's own variable); GUNICORN_THREADS each.
workers = _int("WEB_CONCURRENCY", 3)
threads = _int("GUNICORN_THREADS", 1)
# GUNICORN_TIMEOUT: a worker silent this long is killed and replaced (a request stuck on a
# dependency); GUNICORN_GRACEFUL_TIMEOUT: what a worker gets to finish its requests on a
# restart or stop (compose's stop_grace_period is longer).
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# GUNICORN_MAX_REQUESTS: a worker is replaced after this many requests (plus up to 10 %
# jitter, so they do not all restart at once), which bounds any slow leak.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# The longest request line read (gunicorn's maximum): the service itself answers a longer
# address than MAX_URL_LENGTH with 414 problem+json (config.middleware.UrlLengthMiddleware).
limit_request_line = 8190
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# GUNICORN_CONTROL_SOCKET: the path of gunicorn's control socket (gunicornc); unset, none:
# its default place is the user's home ($HOME/.gunicorn), which an image need not have
# writable, and nothing here uses it. `make run` puts its own under DATA_DIR.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip() or "gunicorn.ctl"
control_socket_disable = not os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()

# With PROMETHEUS_MULTIPROC_DIR set (compose's web), each worker writes its request metrics
# to files there and /metrics adds up every worker's (config/metrics.py): the folder is
# emptied when gunicorn starts (no counts of an earlier run), and an exited worker's gauges
# are marked dead so they stop counting.
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()


def on_starting(server: object) -> None:
    if not _metrics_dir:
        return
    import pathlib

    folder = pathlib.Path(_metrics_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server: object, worker: object) -> None:
    if not _metrics_dir:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
