"""instrval.stats."""
