# The image of the scale-out shape (docker-compose.yml): `warm-transfer api` or `warm-transfer worker`.
# Both are stateless; every bit of state lives in Temporal and the app database.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Only what the package needs: no .venv, .data or tests in the image.
COPY pyproject.toml README.md ./
COPY config ./config
COPY domain ./domain
COPY store ./store
COPY integrations ./integrations
COPY activities ./activities
COPY workflows ./workflows
COPY api ./api
COPY workers ./workers
COPY clients/python ./clients/python
RUN pip install ./clients/python . \
    && useradd --system --uid 10001 --home-dir /app warm

USER warm
ENV WT_API_HOST=0.0.0.0
EXPOSE 8000
CMD ["warm-transfer", "--log-level", "info", "api"]
