"""awsguard: make sure `aws` runs as the identity you think it runs as."""

__version__ = "0.1.0"
