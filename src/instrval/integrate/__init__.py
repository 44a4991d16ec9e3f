"""instrval.integrate."""
