"""veille: market watch for the water-treatment industry."""

__version__ = "0.1.0"
USER_AGENT = f"veille/{__version__} (water-sector market watch; +https://pypi.org/project/veille/)"
