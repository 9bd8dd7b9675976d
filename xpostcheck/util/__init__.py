"""Small helpers with no knowledge of scans: text normalisation, URLs, atomic files."""
