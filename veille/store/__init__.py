"""The store stage: the only package that contains SQL."""

from veille.store.database import Store

__all__ = ["Store"]
