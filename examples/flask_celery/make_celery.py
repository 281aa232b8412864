"""The worker entry: celery -A make_celery worker --loglevel INFO"""

from shop import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
