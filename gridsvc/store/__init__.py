"""Storage: the only code that speaks SQL (SQLAlchemy Core, portable to PostgreSQL)."""
