"""The machine's ceiling: the smallest Flask app, served and measured exactly like microblog."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def hello() -> str:
    return "Hello, World!"
