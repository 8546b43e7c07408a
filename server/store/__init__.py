"""Persistence: the SQLAlchemy/GeoAlchemy2 models and every SQL query live in this package."""
