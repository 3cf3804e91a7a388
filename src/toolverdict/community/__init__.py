"""The community: accounts glue, ship/skip and head-to-head votes, rankings."""
