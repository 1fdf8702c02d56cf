"""What gunicorn and `flask --app wsgi` load: the app for $TRACKER_CONFIG (default development)."""

from tracker import create_app

app = create_app()
