"""Run the tailapp web server: python server.py [--host H] [--port P]."""

from gevent import monkey

monkey.patch_all()

from tailapp.serve import main  # noqa: E402

if __name__ == "__main__":
    main()
