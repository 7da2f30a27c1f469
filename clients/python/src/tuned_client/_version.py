"""The client's version and the protocol version it speaks.

The first number of ``__version__`` is the protocol version (``daemon.status``'s
``protocol_version``, ``rpcProtocolVersion`` in Sources/TunedRPC/Methods/RPCMethod.swift).
A daemon speaking another protocol version is refused with :class:`ProtocolVersionError`.
"""

PROTOCOL_VERSION = 1
__version__ = "1.0.0"
