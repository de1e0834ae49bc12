"""`python -m services.notify`: run the notify service."""
from runtime.service.app import run
from services.notify.bootstrap import bootstrap

if __name__ == "__main__":
    run(bootstrap())
