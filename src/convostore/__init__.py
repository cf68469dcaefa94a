"""convostore: a MongoDB document service for a chatbot."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("convostore")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
