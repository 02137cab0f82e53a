"""Pure numpy network core: no I/O, no global state, randomness passed in."""
