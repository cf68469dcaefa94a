"""What the API and the command line do with documents, beyond a single read or write."""
