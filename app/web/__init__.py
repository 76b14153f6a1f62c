"""Server-rendered payer pages (H5)."""
