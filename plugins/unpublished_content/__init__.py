from .unpublished_content import register

__all__ = ["register"]
