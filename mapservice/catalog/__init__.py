"""The layer catalog: ``layers/*.toml`` → typed layer definitions, ``maps.toml`` → named maps,
the one validator every write, import and data build goes through, and the shipped geodata."""
