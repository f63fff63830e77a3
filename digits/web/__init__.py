"""The web page: draw digits in a browser (mouse, pen or finger) and let a network read them.

`app.create_app()` makes the Flask application: the page (`static/`) and a small JSON API that
reads drawings with the one recognition path (`digits.recognise`), as the desktop app does.
`python web.py` serves it with waitress. The API is documented in the README ("Draw digits in a web browser").
"""
from digits.web.app import create_app

__all__ = ["create_app"]
