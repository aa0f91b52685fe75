from .consent_banner import register

__all__ = ["register"]
