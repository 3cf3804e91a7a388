"""Discoverable and shareable: sitemap, robots.txt, head tags, share images and badges."""
