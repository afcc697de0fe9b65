"""The console's routers, one per use case."""
