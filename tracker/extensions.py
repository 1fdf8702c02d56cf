"""Unbound extension instances; `create_app` binds them."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from tracker.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
# No default limits: nothing a family does is refused. The limiter's storage counts submissions
# per device and address (services/concerns/abuse.py) so bursts can be flagged and texts held back.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)
