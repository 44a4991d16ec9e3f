"""instrval.qual."""
