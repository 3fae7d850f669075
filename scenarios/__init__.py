"""The bundled scenario files (data, not code), installed as package data and read through importlib.resources."""
