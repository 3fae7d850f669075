"""Merchants built on Python web frameworks, as systems under test for `motcua loadtest --merchant`."""
