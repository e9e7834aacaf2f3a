from dsj_desktop.db.engine import Database, open_database

__all__ = ["Database", "open_database"]
