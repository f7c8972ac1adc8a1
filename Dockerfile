# veille in a container: `veille run` collects on schedule and sends the weekly digest;
# `veille serve --host 0.0.0.0` (port 8000) is the reports site, in a second container on the same image.
# compose.yaml runs both beside PostgreSQL (README.md, "Deploy with Docker Compose").
# Configuration (sources.yaml, members.yaml, optional topics.yaml) is mounted at /config;
# the database (SQLite by default) and the reports live on the /data volume. Secrets come from VEILLE_* variables.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VEILLE_DB=sqlite:////data/veille.db \
    VEILLE_REPORTS=/data/reports \
    VEILLE_TZ=Europe/Paris

WORKDIR /app
# the versions pinned by `make constraints` (Python 3.11, Linux), not whatever is newest on build day
COPY constraints.txt pyproject.toml README.md ./
COPY veille ./veille
RUN pip install --no-cache-dir -c constraints.txt '.[postgres]' \
 && useradd --create-home --uid 10001 veille \
 && mkdir -p /data /config \
 && chown veille /data

# The shipped configuration is the default; mount your own over /config.
COPY sources.yaml members.yaml /config/

USER veille
EXPOSE 8000
VOLUME ["/data"]
WORKDIR /data
# The reports site's check (slim images have no curl): GET /healthz answers 200 while the site can read its
# store. A container running `veille run` serves no HTTP: compose.yaml disables the check for it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["veille", "--config", "/config"]
CMD ["run"]
