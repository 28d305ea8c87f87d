"""Pure geographic and time functions: no Flask, no I/O beyond their arguments."""
