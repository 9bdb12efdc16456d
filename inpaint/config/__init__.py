"""Configuration handling that needs neither Lightning nor torch (YAML in, YAML or argv out)."""
