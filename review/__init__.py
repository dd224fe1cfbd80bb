"""Agreement, consensus, disputes and accuracy records."""
