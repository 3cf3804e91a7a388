"""Site-wide glue: the `up` and `scheduler` commands, error pages, shared helpers."""
