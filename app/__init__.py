"""The social-insurance fee payment service: Flask core, one service layer, pluggable adapters."""
