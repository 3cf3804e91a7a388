"""Weekly AI Tool Verdicts: subscribers, issues, deliveries and email rendering."""
