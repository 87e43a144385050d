"""Pure domain core: calendar, deadlines and the case state machine (no I/O, no clock)."""
