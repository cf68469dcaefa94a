# The API alone; docker-compose.yml runs it next to a real MongoDB.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir . && useradd --create-home convostore \
    && mkdir /home/convostore/data && chown convostore /home/convostore/data

USER convostore
# The generated token key lives here; docker-compose.yml mounts a volume on it.
ENV CONVOSTORE_DATA_DIR=/home/convostore/data
EXPOSE 8000
# A configured MongoDB is migrated by the operator: here, before each start.
CMD ["sh", "-c", "convostore migrate && exec convostore serve --host 0.0.0.0 --port 8000"]
