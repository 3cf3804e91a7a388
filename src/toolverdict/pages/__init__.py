"""The reading pages that compose several apps: home, tool, category, search and "A vs B".

Each page gathers catalog data, panel summaries and community figures, so it lives above
those apps; the catalog, the panel and the community never import it.
"""
