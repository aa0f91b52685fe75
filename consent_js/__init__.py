"""The banner's code in the visitor's browser: consent.js and consent.css.

A package only so that the consent_banner plugin finds these files by name
(`pelican.plugins.consent_banner.consent_js`) with importlib.resources, the same in the
checkout as in its wheel, which carries this folder inside the plugin.
"""
