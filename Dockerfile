# The API alone; docker-compose.yml runs it next to a real MongoDB.
FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir . && useradd --create-home convostore

USER convostore
ENV CONVOSTORE_DATA_DIR=/home/convostore/data
EXPOSE 8000
CMD ["convostore", "serve", "--host", "0.0.0.0", "--port", "8000"]
