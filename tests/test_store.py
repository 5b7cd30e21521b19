"""studio.store: the six stores opened on one database, its schema made on first start."""

from __future__ import annotations

from pathlib import Path

from studio.store import Store


def test_schema_is_created_on_first_start_in_a_new_folder(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'nested' / 'studio.db'}")
    assert store.jobs.jobs() == []
    assert (tmp_path / "nested" / "studio.db").exists()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()
