# The contribnet API. Build: docker build -t contribnet .  (docker-compose.yml wires it to Neo4j)
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir -e .
ENV CONTRIBNET_STORE=sqlite:////data/contribnet.db
EXPOSE 8000
CMD ["contribnet", "serve", "--host", "0.0.0.0", "--port", "8000"]
