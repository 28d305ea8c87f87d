"""Offline geocoding: address normalisation and parsing, the gazetteer index and its readers,
geopy adapters (the gazetteer, a remote geocoder, a chain), and the app's chain."""
