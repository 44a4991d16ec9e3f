"""instrval.report."""
