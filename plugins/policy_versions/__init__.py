from .policy_versions import register

__all__ = ["register"]
