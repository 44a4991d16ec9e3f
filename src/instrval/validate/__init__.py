"""instrval.validate."""
