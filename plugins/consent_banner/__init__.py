def register() -> None:
    """Pelican's entry point. The plugin loads only here, so that the audit can read its
    settings (consent_banner.config) without importing Pelican."""
    from .consent_banner import register as connect

    connect()


__all__ = ["register"]
