"""Maps and embeds: the Folium map builder, camera fields of view, the map views' lists and
bounds, and the routes ``/``, ``/map``, ``/embed`` and the derived layers under ``/api``."""
