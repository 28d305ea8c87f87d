"""OGC API – Features under ``/api``: the documents (landing, collections, items), the OpenAPI
description, the read routes, and the write routes (Part 4) with their editing rules."""
