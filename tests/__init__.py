"""The site's tests, and the scripts of `make bench`, `audit`, `screenshots` and
`lighthouse`, which run as `python -m tests.<name>` and share the tests' helpers."""
