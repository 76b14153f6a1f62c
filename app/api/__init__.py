"""The HTTP API (flask-smorest): thin views that parse, call a service and render."""
