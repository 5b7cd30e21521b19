"""The database: its schema (one MetaData, Alembic's), row mappers, opening and migrations."""
