"""Entry point: `python microblog.py` runs the development server.

The package of the same name shadows this file on import, so the tools use the factory:
`flask --app microblog ...` and `gunicorn 'microblog:create_app()'`.
"""

from microblog import create_app

app = create_app()

if __name__ == "__main__":
    app.run()
