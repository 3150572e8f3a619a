"""The ceiling: a bare Flask endpoint served the same way as the real app."""

from flask import Flask

app = Flask(__name__)


@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}
