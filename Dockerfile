# veille in a container: `veille run` collects on schedule and sends the weekly digest;
# `veille serve --host 0.0.0.0` (port 8000) is the reports site, in a second container on the same volume.
# Configuration (sources.yaml, members.yaml, optional topics.yaml) is mounted at /config;
# the database and the reports live on the /data volume. Secrets come from VEILLE_* variables.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VEILLE_DB=sqlite:////data/veille.db \
    VEILLE_REPORTS=/data/reports \
    VEILLE_TZ=Europe/Paris

WORKDIR /app
COPY pyproject.toml README.md ./
COPY veille ./veille
RUN pip install --no-cache-dir '.[postgres]' \
 && useradd --create-home --uid 10001 veille \
 && mkdir -p /data /config \
 && chown veille /data

# The shipped configuration is the default; mount your own over /config.
COPY sources.yaml members.yaml /config/

USER veille
EXPOSE 8000
VOLUME ["/data"]
WORKDIR /data
ENTRYPOINT ["veille", "--config", "/config"]
CMD ["run"]
