"""Consent records: receipts of visitors' choices, the banner versions they were made in,
and the staff's reports on them (docs/backend.md#consent-receipts).

`manifests` (what each banner version showed) → `receipts` (a choice, checked and stored)
→ `reports` (proof, export, statistics).
"""
