"""`python -m services.seller`: run the seller service."""
from runtime.service.app import run
from services.seller.bootstrap import bootstrap

if __name__ == "__main__":
    run(bootstrap())
