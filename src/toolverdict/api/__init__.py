"""The JSON API (django-ninja) and its OpenAPI schema."""
