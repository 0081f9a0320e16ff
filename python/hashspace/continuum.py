"""A drop-in for python-continuum 0.1.x's `continuum.Continuum`, resolved by
libhashspace's `continuum` placement method (byte-compatible with it).

    >>> from hashspace import Continuum
    >>> c = Continuum()
    >>> c.add_server('192.168.0.1', 8080)
    <Server "192.168.0.1:8080", capacity=1>

What differs from python-continuum: ports must be integers 0-65535 and
capacities positive (python-continuum accepted anything `%d` could print);
keys may be `str` (hashed as UTF-8) as well as `bytes`; and only the default
total of 1000 dots exists in the C method.
"""

from . import core
from .errors import EmptyError

__all__ = ["Continuum", "Server", "DEFAULT_TOTAL_DOTS", "available"]

DEFAULT_TOTAL_DOTS = 1000
METHOD = "continuum"


def available():
    """True when the loaded libhashspace has the `continuum` method."""
    return METHOD in core.methods()


class Server:
    """A server definition in the continuum: equal to another when hostname
    and port are equal, whatever the capacity."""

    __slots__ = ("hostname", "port", "capacity")

    def __init__(self, hostname, port, capacity):
        self.hostname = hostname
        self.port = port
        self.capacity = capacity

    def _ident(self):
        return (self.hostname, self.port)

    def __eq__(self, other):
        if not isinstance(other, Server):
            return NotImplemented
        return self._ident() == other._ident()

    def __lt__(self, other):
        if not isinstance(other, Server):
            return NotImplemented
        return self._ident() < other._ident()

    def __hash__(self):
        return hash(self._ident())

    @property
    def member_name(self):
        """The member name libhashspace knows this server by: host:port."""
        return "%s:%d" % (self.hostname, self.port)

    def __repr__(self):
        return '<%s "%s:%d", capacity=%d>' % (
            type(self).__name__,
            self.hostname,
            self.port,
            self.capacity,
        )


class Continuum:
    """The continuum that resolves a key to a server."""

    def __init__(self, totaldots=DEFAULT_TOTAL_DOTS, autogenerate=True):
        if totaldots != DEFAULT_TOTAL_DOTS:
            raise ValueError(
                "libhashspace's continuum method has %d dots; totaldots=%r is not supported"
                % (DEFAULT_TOTAL_DOTS, totaldots)
            )
        if not available():
            raise NotImplementedError(
                "the loaded libhashspace (%s) has no 'continuum' placement method; "
                "rebuild it from a newer source tree" % core._lib.path
            )
        self.servers = []
        self.totaldots = totaldots
        self.autogenerate = autogenerate
        self._placement = None
        self._by_name = {}

    def add_server(self, hostname, port, capacity=1):
        """Add a server with the given capacity and return it. TypeError if a
        server with that hostname and port is already present."""
        if not isinstance(hostname, str):
            raise TypeError("hostname must be a str, not %s" % type(hostname).__name__)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise ValueError("port must be an int from 0 to 65535, not %r" % (port,))
        if not capacity > 0:
            raise ValueError("capacity must be positive, not %r" % (capacity,))
        server = Server(hostname, port, capacity)
        if server in self.servers:
            raise TypeError("server already added")
        self.servers.append(server)
        if self.autogenerate:
            try:
                self.generate()
            except Exception:
                self.servers.pop()
                self.generate()
                raise
        return server

    def add_multi_servers(self, server_list):
        """Add several (hostname, port[, capacity]) tuples; returns the servers."""
        return [self.add_server(*s) for s in server_list]

    def remove_server(self, server):
        """Remove a server (any Server equal to it). ValueError if absent."""
        try:
            self.servers.remove(server)
        except ValueError:
            raise ValueError("%r is not in the continuum" % (server,)) from None
        if self.autogenerate:
            self.generate()

    def __len__(self):
        return len(self.servers)

    def generate(self):
        """Rebuild the continuum from the list of servers (done after every
        change unless autogenerate is False)."""
        if not self.servers:
            self._placement = None
            self._by_name = {}
            return
        p = core.Placement(METHOD, hash="md5")
        p.add_many([(s.member_name, s.capacity) for s in self.servers])
        self._placement = p
        self._by_name = {s.member_name: s for s in self.servers}

    def resolve(self, key):
        """The server for key (bytes, or str hashed as UTF-8). IndexError
        ('empty continuum') when there is no server."""
        if self._placement is None:
            raise IndexError("empty continuum")
        try:
            return self._by_name[self._placement.lookup(key)]
        except EmptyError:
            raise IndexError("empty continuum") from None

    def __repr__(self):
        return "<Continuum servers=%d>" % len(self.servers)
