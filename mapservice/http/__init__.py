"""Shared HTTP machinery of every blueprint: ETags and caching, errors → JSON, query-parameter
parsing, bearer tokens, and the app's services as a request sees them."""
