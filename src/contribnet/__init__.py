"""contribnet: a fair, exact and explainable credit split for every deal along a car buyer's
journey."""

__version__ = "0.1.0"
