from .editions import register

__all__ = ["register"]
