"""The Qt GUI. The only package allowed to import PySide6."""
