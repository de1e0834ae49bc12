"""`python -m services.refund`: run the refund service."""
from runtime.service.app import run
from services.refund.bootstrap import bootstrap

if __name__ == "__main__":
    run(bootstrap())
