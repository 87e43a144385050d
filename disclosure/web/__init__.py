"""The web workbench and the HTTP API (issue #10): FastAPI on the typed services.

A route parses HTTP into a service's input, calls one service, and renders; it holds no rule
of the law and no SQL. ``create_app`` builds the application (``app.py``); who is signed in
is ``auth.py``'s business.
"""
