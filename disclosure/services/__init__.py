"""Use cases: each opens one unit of work, changes what it must, and commits once."""
