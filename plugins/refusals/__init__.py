from .refusals import register

__all__ = ["register"]
