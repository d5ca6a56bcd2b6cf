"""ardaemon: every model of an LLM gateway in the editor, through one small JSON-RPC daemon."""

__version__ = "0.1.0"
__all__ = ["__version__"]
