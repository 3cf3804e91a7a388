"""Ingestion: feeds, maker submissions and the daily pipeline."""
