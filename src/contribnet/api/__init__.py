"""The HTTP API: FastAPI routers by resource, thin over the services."""
