"""An independent model of python-continuum 0.1.x's resolution, written from
its documented algorithm for these tests (python-continuum itself is Python 2
only and not packaged in Debian), so that hashspace.Continuum, which resolves
in C, can be checked against it on many keys.

The algorithm: `totaldots` (1000) dots are shared between servers in
proportion to capacity, int(totaldots * (capacity / float(total))) each.
Every full group of four dots is the four little-endian uint32 words of
md5("host-port-x") for x = 0, 1, ...; the remainder of m < 4 dots is dropped
by the original code. The dots are sorted by position with a stable sort (so
ties keep server order); a key goes to the first dot strictly above
md5(key)'s first word (bisect_right), wrapping to the first dot.

A later commit of python-continuum (the one adding add_multi_servers) also
places the remainder, at the literal positions 0 .. m-1 (it iterates over
range(m), not over the digest): remainder=True models that variant, which
differs only for keys that wrap past the last dot (docs/placement.md).
libhashspace's `continuum` follows the original.
"""

import bisect
import hashlib
import struct


def words(data):
    return struct.unpack("<IIII", hashlib.md5(data).digest())


class Model:
    def __init__(self, servers, totaldots=1000, remainder=False):
        """servers: [(host, port, capacity)] in the order they were added."""
        total = float(sum(c for _, _, c in servers))
        dots = []
        for host, port, cap in servers:
            count = int(totaldots * (cap / total))
            full, rest = divmod(count, 4)
            for x in range(full):
                for w in words(("%s-%d-%d" % (host, port, x)).encode()):
                    dots.append((w, (host, port)))
            for position in range(rest if remainder else 0):
                dots.append((position, (host, port)))
        dots.sort(key=lambda d: d[0])  # stable
        self.positions = [d[0] for d in dots]
        self.owners = [d[1] for d in dots]

    def resolve(self, key):
        if not self.positions:
            raise IndexError("empty continuum")
        at = bisect.bisect_right(self.positions, words(key)[0])
        return self.owners[at] if at < len(self.owners) else self.owners[0]
