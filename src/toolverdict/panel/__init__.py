"""The AI reviewer panel: personas, dossiers, grounded reviews and verdicts."""
