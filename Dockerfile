# CSP Atlas application image; docker-compose.yml pairs it with a PostGIS database.
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY client/package.json client/package-lock.json client/
RUN cd client && npm ci --no-audit --no-fund
COPY . .
ENV SHARED_DIR=/shared PORT=5000
EXPOSE 5000
# The schema is migrated before, by a separate run with the owner's URL (docker-compose.yml's `migrate` service:
# `python -m server.cli db upgrade`), so the serving container holds only the app role's password (SECURITY.md).
CMD ["sh", "-c", "python -m server.cli reference load && exec gunicorn --bind 0.0.0.0:${PORT} --workers 2 --worker-class gthread --threads 8 --timeout 120 --access-logfile - 'server:create_app()'"]
