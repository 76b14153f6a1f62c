"""gunicorn settings for serving the app (``gunicorn wsgi:app`` from this directory reads them).

Requests gunicorn refuses before the app sees them — a request line or headers past the limits
below — are answered in the app's error shape, in Chinese (``app/gunicorn_worker.py``).
"""
worker_class = "app.gunicorn_worker.ChineseErrorsThreadWorker"  # gthread, with our error answers
threads = 4
limit_request_line = 4094  # bytes of method + URL + version (gunicorn's default): beyond it, 414
limit_request_fields = 100  # headers per request (the default): beyond it, 431
limit_request_field_size = 8190  # bytes of one header (the default): beyond it, 431
