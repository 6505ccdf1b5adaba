"""miyun-spatial: the spatial layout of Miyun District's high-tech industry plan as data and answers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("miyun-spatial")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
