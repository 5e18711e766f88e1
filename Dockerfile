# prbot: the webhook receiver and workers (`prbot serve`), next to a Redis (see docker-compose.yml).
# Build: docker build -t prbot .    Run: docker run --env-file .env -p 8000:8000 prbot
# Other commands: docker run --rm --env-file .env prbot check   (the entrypoint is `prbot`)

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/prbot
ENV PATH=/opt/prbot/bin:$PATH
WORKDIR /src
# Dependencies first, exactly as locked (versions and hashes, the build backend included): this
# layer is rebuilt only when the lock changes. Update the lock with pip-compile (see README).
COPY requirements.lock ./
RUN pip install --no-deps --require-hashes -r requirements.lock
# Then the code, built with the locked setuptools; fixtures/ and tests/ stay out (see
# .dockerignore): replays in the container use the deliveries recorded in Redis
# (`prbot replay --last N`), and fixture files can be mounted.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY functions ./functions
RUN pip install --no-deps --no-build-isolation . && pip check

FROM python:3.11-slim
ENV PATH=/opt/prbot/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app prbot
COPY --from=build /opt/prbot /opt/prbot
WORKDIR /app
USER prbot:prbot
EXPOSE 8000
# /healthz answers while the process lives; /readyz also needs Redis (and the worker) ready.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# SIGTERM drains: webhooks answer 503, runs in flight get SHUTDOWN_TIMEOUT_S, the rest go back to
# Redis. Give the container longer than that to stop (compose: stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["prbot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
