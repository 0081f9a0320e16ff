"""hashspace: consistent hashing for Python over libhashspace (ctypes only).

    import hashspace
    hashspace.hashes()                      # ['md5', 'crc32', ..., 'xxh3', ...]
    hashspace.hash('xxh3', b'user-17')      # a 64-bit int
    v = hashspace.View(['hub-a', 'hub-b', 'hub-c'], placement='jump')
    v.owner('user-17')                      # 'hub-b', as `hashspace route` says
    c = hashspace.Consumer(1, 4)            # "is this message mine?"
    c.should_I_process_this({'msg': {...}})
    hashspace.serve(lambda topic, body, message: ...)   # an exec consumer

The shared library is found through $HASHSPACE_LIB, a build tree above this
package, or the system's library path (see hashspace._lib). See
docs/python.md.
"""

from ._lib import path as library_path
from .consumer import Consumer, canonical_json
from .continuum import Continuum, Server
from .core import (
    MethodInfo,
    Placement,
    View,
    hash,
    hash_id,
    hash_summary,
    hashes,
    jump_bucket,
    jumpback_bucket,
    method_info,
    methods,
)
from .serve import Fail, serve
from .errors import (
    EmptyError,
    HashspaceError,
    InvalidError,
    MemberExistsError,
    MemberNotFoundError,
    OverloadError,
    UnknownNameError,
)

__all__ = [
    "Consumer",
    "Continuum",
    "EmptyError",
    "Fail",
    "HashspaceError",
    "InvalidError",
    "MemberExistsError",
    "MemberNotFoundError",
    "MethodInfo",
    "OverloadError",
    "Placement",
    "Server",
    "UnknownNameError",
    "View",
    "canonical_json",
    "hash",
    "hash_id",
    "hash_summary",
    "hashes",
    "jump_bucket",
    "jumpback_bucket",
    "library_path",
    "method_info",
    "methods",
    "serve",
]
