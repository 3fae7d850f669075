"""Locust journeys: the citizen who pays a fee online, the counter officer, the reconciler."""
