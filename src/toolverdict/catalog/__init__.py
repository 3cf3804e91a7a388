"""The catalog: tools, categories, price points and sourced facts; the TOML import."""
