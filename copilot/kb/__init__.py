"""Knowledge-base ingestion: files to articles (load) and articles to chunks (chunk)."""
