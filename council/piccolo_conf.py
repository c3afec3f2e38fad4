from piccolo.conf.apps import AppRegistry

from council.db import make_engine
from council.settings import database_url_from_env

DB = make_engine(database_url_from_env())

APP_REGISTRY = AppRegistry(apps=["council.piccolo_app"])
