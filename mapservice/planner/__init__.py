"""The planner: coverage metrics and gap ranking per district and municipality, the cached
service over the store, exports, the page's view model, and ``/planner`` and ``/api/coverage``."""
