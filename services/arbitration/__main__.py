"""`python -m services.arbitration`: run the arbitration service."""
from runtime.service.app import run
from services.arbitration.bootstrap import bootstrap

if __name__ == "__main__":
    run(bootstrap())
