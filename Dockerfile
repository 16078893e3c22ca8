# The image of the web, worker and beat services of docker-compose.yml (DESIGN §10).
# Dependencies come from the lock; the code runs from /app as an unprivileged user, with static
# assets collected at build time and served by whitenoise.
# Pinned by tag, down to the patch release and the Debian release: a rebuild gets the same
# interpreter and system libraries until this line is changed on purpose.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    LOG_FORMAT=json \
    DATA_DIR=/data \
    MEDIA_ROOT=/data/media \
    STATIC_ROOT=/app/staticfiles

WORKDIR /app

RUN groupadd --system app \
    && useradd --system --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

# Dependencies first, so that a code change does not reinstall them. The project itself has
# no packages to install (pyproject: packages = []); its code is copied below.
# celery[redis]: the compose broker is Redis, and kombu's Redis transport also needs
# `packaging`, which only that extra brings in (pyproject lists plain "celery").
COPY pyproject.toml requirements.lock ./
RUN pip install -c requirements.lock . "celery[redis]" \
    && rm -rf build ./*.egg-info

COPY . .

# Static assets (console, API docs) are baked into the image; uploads and the audit
# checkpoints (volumes owned by the app user) live under /data.
RUN python manage.py collectstatic --noinput \
    && mkdir -p /data/media /data/audit-anchors \
    && chown -R app:app /data

USER app
EXPOSE 8000

# docker-compose.yml runs migrations before this in the web service; worker and beat
# override the command.
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application", "--bind", "0.0.0.0:8000"]
