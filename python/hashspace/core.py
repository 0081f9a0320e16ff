"""Hashes, placements and views: thin, Pythonic wrappers over libhashspace.

Keys are `bytes` (or anything with the buffer protocol) or `str` (hashed as
its UTF-8 encoding). Member names are `str` (UTF-8, 1 to 255 bytes) or bytes.
Every object here is safe to read from several threads at once; ctypes drops
the GIL during each C call. Placement.add/remove must not race with other
calls on the same Placement; a View never changes.
"""

import array
import ctypes
import math

from . import _lib
from .errors import InvalidError, UnknownNameError, check, error

__all__ = [
    "hashes",
    "hash_summary",
    "hash",
    "hash_id",
    "methods",
    "MethodInfo",
    "method_info",
    "Placement",
    "View",
    "jump_bucket",
    "jumpback_bucket",
]

_SECRET_BYTES = 16


def _key_bytes(key):
    """bytes for a key: str is encoded as UTF-8; bytes-likes are used as is."""
    if isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytearray, memoryview)):
        return bytes(key)
    raise TypeError("a key must be bytes or str, not %s" % type(key).__name__)


def _name_bytes(name):
    if isinstance(name, str):
        return name.encode("utf-8")
    if isinstance(name, bytes):
        return name
    raise TypeError("a member name must be str or bytes, not %s" % type(name).__name__)


def _name_str(raw):
    return raw.decode("utf-8", "surrogateescape")


# ---- hashes ----


def hashes():
    """Names of every hash function, in registry order."""
    return [_lib.hs_hash_name(i).decode() for i in range(_lib.hs_hash_count())]


def hash_summary(name):
    """The one-line description of a hash function."""
    return _lib.hs_hash_summary(hash_id(name)).decode()


def hash_id(name):
    """The registry id of a hash function; UnknownNameError if there is none."""
    out = ctypes.c_int()
    rc = _lib.hs_hash_find(_name_bytes(name), ctypes.byref(out))
    if rc != 0:
        raise UnknownNameError(
            "unknown hash %r (expected one of: %s)" % (name, ", ".join(hashes())), rc
        )
    return out.value


def _hasher(name, secret=None):
    h = _lib.Hasher()
    check(_lib.hs_hasher_init(ctypes.byref(h), hash_id(name)), "hash %r" % name)
    if secret is not None:
        secret = bytes(secret)
        if len(secret) != _SECRET_BYTES:
            raise ValueError("a siphash secret is %d bytes, not %d" % (_SECRET_BYTES, len(secret)))
        _lib.hs_hasher_set_secret(ctypes.byref(h), secret)
    return h


def _hash_with(h, key):
    """Hash key (bytes) with an initialised hs_hasher."""
    out = ctypes.c_uint64()
    fn = _lib.HS_HASH_FN(h.fn)
    rc = fn(key, len(key), ctypes.addressof(h.secret), ctypes.byref(out))
    if rc != 0:
        raise error(rc, "key %r" % key[:64])
    return out.value


def hash(name, key, secret=None):
    """The 64-bit hash of key with the named function, as an int.

    secret (16 bytes) keys siphash; the other functions ignore it.
    """
    key = _key_bytes(key)
    if secret is None:
        out = ctypes.c_uint64()
        rc = _lib.hs_hash(hash_id(name), key, len(key), ctypes.byref(out))
        if rc != 0:
            raise error(rc, "%s of key %r" % (name, key[:64]))
        return out.value
    return _hash_with(_hasher(name, secret), key)


# ---- placement methods ----


class MethodInfo:
    """What the registry says about a placement method."""

    WEIGHTED = 1 << 0
    REMOVE_ANY = 1 << 1
    COMPAT = 1 << 2

    __slots__ = ("name", "summary", "flags", "default_hash", "max_members")

    def __init__(self, info):
        self.name = info.name.decode()
        self.summary = info.summary.decode() if info.summary else ""
        self.flags = info.flags
        self.default_hash = _lib.hs_hash_name(info.default_hash).decode()
        self.max_members = info.max_members or None

    @property
    def weighted(self):
        return bool(self.flags & self.WEIGHTED)

    @property
    def remove_any(self):
        return bool(self.flags & self.REMOVE_ANY)

    @property
    def compat(self):
        return bool(self.flags & self.COMPAT)

    def __repr__(self):
        return "<MethodInfo %s default_hash=%s flags=%#x>" % (
            self.name,
            self.default_hash,
            self.flags,
        )


def methods():
    """Names of every placement method, in registry order."""
    return [m.name for m in _method_infos()]


def _method_infos():
    out = []
    for i in range(_lib.hs_place_method_count()):
        p = _lib.hs_place_method_at(i)
        if p:
            out.append(MethodInfo(p.contents))
    return out


def method_info(name):
    """The MethodInfo of a placement method; UnknownNameError if none."""
    p = _lib.hs_place_method_find(_name_bytes(name))
    if not p:
        raise UnknownNameError(
            "unknown placement %r (expected one of: %s)" % (name, ", ".join(methods())),
            -4,
        )
    return MethodInfo(p.contents)


def _opts(kwargs):
    known = _lib.PLACE_OPTS_FIELDS
    opts = _lib.PlaceOpts()
    for k, v in kwargs.items():
        if k not in known:
            raise TypeError(
                "unknown placement option %r (expected one of: %s)" % (k, ", ".join(known))
            )
        if not isinstance(v, int) or v < 0:
            raise ValueError("placement option %s must be a non-negative int, not %r" % (k, v))
        setattr(opts, k, v)
    return opts


def _members_list(members):
    """[(name_bytes, weight)] from names, (name, weight) pairs, or a dict."""
    if members is None:
        return []
    if isinstance(members, (str, bytes)):
        raise TypeError("members must be a list of names (or a dict name -> weight), not a string")
    if isinstance(members, dict):
        members = members.items()
    out = []
    for m in members:
        if isinstance(m, (str, bytes)):
            out.append((_name_bytes(m), 1.0))
        else:
            name, weight = m
            out.append((_name_bytes(name), float(weight)))
    return out


def _is_name_error(rc):
    return _lib.hs_err_name(rc) == b"NAME"


def _check_weight(weight, name):
    if not (weight > 0 and math.isfinite(weight)):
        raise InvalidError(
            "member %r: weight must be a positive finite number, not %r" % (name, weight), -8
        )


class Placement:
    """A mutable set of members under one placement method.

    >>> p = Placement("jump", ["a", "b", "c"])
    >>> p.lookup("user-17") in p
    True

    Members keep the order they were added in (that order matters for modulo
    and jump: member i is bucket i). `hash` names the key hash (default: the
    method's own); `secret` keys siphash; other keyword arguments are the
    method's tuning options (points_per_weight, table_size, capacity).
    """

    def __init__(self, method="jump", members=None, hash=None, secret=None, **opts):
        self._ptr = None
        self.info = method_info(method)
        self.hash_name = hash if hash is not None else self.info.default_hash
        self._hasher = _hasher(self.hash_name, secret)
        self._opts = _opts(opts)
        ptr = ctypes.c_void_p()
        check(_lib.hs_place_new(ctypes.byref(ptr), _name_bytes(method), self._opts),
              "placement %r" % method)
        self._ptr = ptr
        if members is not None:
            self.add_many(members)

    def __del__(self):
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr and _lib is not None and _lib.hs_place_free is not None:
            _lib.hs_place_free(ptr)

    @property
    def method(self):
        return self.info.name

    # -- membership --

    def add(self, name, weight=1.0):
        """Add one member. MemberExistsError if present; InvalidError for a
        bad name or weight."""
        raw = _name_bytes(name)
        weight = float(weight)
        _check_weight(weight, name)
        check(_lib.hs_place_add(self._ptr, raw, weight), "add member %r" % (name,))

    def add_many(self, members):
        """Add names, (name, weight) pairs or a dict, with one rebuild. On
        error nothing is added."""
        items = _members_list(members)
        if not items:
            return
        for name, weight in items:
            _check_weight(weight, _name_str(name))
        names = (ctypes.c_char_p * len(items))(*[n for n, _ in items])
        weights = (ctypes.c_double * len(items))(*[w for _, w in items])
        rc = _lib.hs_place_add_many(self._ptr, names, weights, len(items))
        if rc != 0:
            what = "add members"
            seen = {n.encode("utf-8", "surrogateescape") for n in self}
            for name, _ in items:
                if name in seen:
                    what = "add member %r" % _name_str(name)
                    break
                seen.add(name)
            raise error(rc, what)

    def remove(self, name):
        """Remove a member; MemberNotFoundError if absent."""
        check(_lib.hs_place_remove(self._ptr, _name_bytes(name)), "remove member %r" % (name,))

    def discard(self, name):
        """Remove a member if present."""
        if name in self:
            self.remove(name)

    def __len__(self):
        return _lib.hs_place_size(self._ptr)

    def _ids(self):
        n = _lib.hs_place_size(self._ptr)
        ids = (ctypes.c_uint32 * max(n, 1))()
        _lib.hs_place_members(self._ptr, ids, n)
        return ids[:n]

    def __iter__(self):
        """Member names, in the order they were added."""
        return iter([self._name(i) for i in self._ids()])

    def __contains__(self, name):
        try:
            raw = _name_bytes(name)
        except TypeError:
            return False
        out = ctypes.c_uint32()
        return _lib.hs_place_find(self._ptr, raw, ctypes.byref(out)) == 0

    def weight(self, name):
        out = ctypes.c_uint32()
        check(_lib.hs_place_find(self._ptr, _name_bytes(name), ctypes.byref(out)),
              "member %r" % (name,))
        return _lib.hs_place_member_weight(self._ptr, out.value)

    def items(self):
        """(name, weight) pairs in order."""
        return [(self._name(i), _lib.hs_place_member_weight(self._ptr, i)) for i in self._ids()]

    def _name(self, member_id):
        return _name_str(_lib.hs_place_member_name(self._ptr, member_id))

    # -- lookups --

    def hash(self, key):
        """The placement's hash of key."""
        return _hash_with(self._hasher, _key_bytes(key))

    def lookup_hash(self, h):
        """The member that owns an already-computed 64-bit hash."""
        out = ctypes.c_uint32()
        check(_lib.hs_place_lookup(self._ptr, h & 0xFFFFFFFFFFFFFFFF, ctypes.byref(out)),
              "lookup")
        return self._name(out.value)

    def lookup_hashes(self, hashes):
        """The owners of many already-computed 64-bit hashes, in one C call
        (hs_place_lookup_many): a list of names, in order."""
        hashes = [h & 0xFFFFFFFFFFFFFFFF for h in hashes]
        if not hashes:
            return []
        if _lib.hs_place_lookup_many is None:
            return [self.lookup_hash(h) for h in hashes]
        arr = (ctypes.c_uint64 * len(hashes))(*hashes)
        out = (ctypes.c_uint32 * len(hashes))()
        check(_lib.hs_place_lookup_many(self._ptr, arr, len(hashes), out), "lookup")
        names = {}
        return [names.get(i) or names.setdefault(i, self._name(i)) for i in out]

    def lookup(self, key):
        """The member that owns key. EmptyError (an IndexError) if there are
        no members."""
        return self.lookup_hash(self.hash(key))

    def lookup_n(self, key, r):
        """The first r distinct members in preference order for key: [0] is
        the owner, [1] takes over if [0] is gone, ..."""
        return self.lookup_n_hash(self.hash(key), r)

    def lookup_n_hash(self, h, r):
        if r < 0:
            raise ValueError("r must be >= 0")
        out = (ctypes.c_uint32 * max(r, 1))()
        got = ctypes.c_size_t()
        check(_lib.hs_place_lookup_n(self._ptr, h & 0xFFFFFFFFFFFFFFFF, out, r, ctypes.byref(got)),
              "lookup_n")
        return [self._name(out[i]) for i in range(got.value)]

    def lookup_bounded(self, key, c, loads):
        """Consistent hashing with bounded loads: the first member in
        preference order whose load is below ceil(c * (total + 1) * share).
        loads maps member name -> keys assigned so far; the caller increments
        loads[owner]. OverloadError if every member is full."""
        slots = _lib.hs_place_slots(self._ptr)
        arr = (ctypes.c_uint64 * max(slots, 1))()
        total = 0
        for i in self._ids():
            v = int(loads.get(self._name(i), 0))
            arr[i] = v
            total += v
        out = ctypes.c_uint32()
        check(_lib.hs_place_lookup_bounded(self._ptr, self.hash(key), float(c), arr, total,
                                           ctypes.byref(out)), "bounded lookup")
        return self._name(out.value)

    def __repr__(self):
        return "<Placement %s hash=%s members=%d>" % (self.method, self.hash_name, len(self))


# ---- views ----


class View:
    """An immutable, epoch-numbered membership snapshot.

    Members (names, (name, weight) pairs, or a dict) are sorted bytewise by
    name, so every process that knows the same members builds the same view,
    whatever order it was given them in; the i-th member in that order is
    bucket i for modulo and jump (note "10" sorts before "2": zero-pad
    numbered names). `hash` defaults to the placement's own hash, as in
    `hashspace route`.

    >>> v = View(["hub-a", "hub-b", "hub-c"])
    >>> v.owner("user-17") in v.members
    True
    """

    def __init__(self, members, placement="jump", hash=None, epoch=0, secret=None, **opts):
        self._ptr = None
        if not isinstance(epoch, int) or not 0 <= epoch < 1 << 64:
            raise ValueError("epoch must be an int from 0 to 2**64-1, not %r" % (epoch,))
        items = _members_list(members)
        if not items:
            raise error(-5, "a view needs at least one member")
        for name, weight in items:
            _check_weight(weight, _name_str(name))
        info = method_info(placement)
        self.hash_name = hash if hash is not None else info.default_hash
        self.info = info
        hasher = _hasher(self.hash_name, secret)
        arr = (_lib.ViewMember * len(items))(*[_lib.ViewMember(n, w) for n, w in items])
        ptr = ctypes.c_void_p()
        rc = _lib.hs_view_new(ctypes.byref(ptr), epoch, _name_bytes(placement), _opts(opts),
                              ctypes.byref(hasher), arr, len(items))
        if rc != 0:
            what = "view"
            names = sorted(n for n, _ in items)
            dups = [names[i] for i in range(1, len(names)) if names[i] == names[i - 1]]
            if dups:
                what = "view: member %r given twice" % _name_str(dups[0])
            elif _is_name_error(rc) and info.compat and all(0 < len(n) < 256 for n, _ in items):
                what = "view: placement %r refuses these member names (it wants host:port)" % (
                    info.name)
            raise error(rc, what)
        self._ptr = ptr
        n = _lib.hs_view_size(ptr)
        self._names = tuple(_name_str(_lib.hs_view_member_name(ptr, i)) for i in range(n))
        self._index = {name: i for i, name in enumerate(self._names)}

    def __del__(self):
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr and _lib is not None and _lib.hs_view_release is not None:
            _lib.hs_view_release(ptr)

    @property
    def epoch(self):
        return _lib.hs_view_epoch(self._ptr)

    @property
    def placement(self):
        return self.info.name

    @property
    def members(self):
        """Member names, in the view's (sorted) order."""
        return list(self._names)

    def weight(self, name):
        return _lib.hs_view_member_weight(self._ptr, self.index(name))

    def index(self, name):
        """Position of a member; MemberNotFoundError if absent."""
        try:
            return self._index[name if isinstance(name, str) else _name_str(name)]
        except KeyError:
            raise error(-7, "member %r" % (name,)) from None

    def __len__(self):
        return len(self._names)

    def __iter__(self):
        return iter(self._names)

    def __contains__(self, name):
        return name in self._index

    # -- ownership --

    def owner_index(self, key):
        """Position of the member that owns key."""
        key = _key_bytes(key)
        out = ctypes.c_size_t()
        rc = _lib.hs_view_owner(self._ptr, key, len(key), ctypes.byref(out))
        if rc != 0:
            raise error(rc, "%s of key %r" % (self.hash_name, key[:64]))
        return out.value

    def owner(self, key):
        """Name of the member that owns key."""
        return self._names[self.owner_index(key)]

    def owner_of_hash(self, h):
        """Name of the member that owns an already-computed 64-bit hash."""
        out = ctypes.c_size_t()
        check(_lib.hs_view_owner_hash(self._ptr, h & 0xFFFFFFFFFFFFFFFF, ctypes.byref(out)),
              "owner")
        return self._names[out.value]

    def owns(self, self_name, key):
        """The claim: does member self_name own key?"""
        return self.owner_index(key) == self.index(self_name)

    def owner_indexes(self, keys):
        """Positions of the owners of many keys, in one C call when the
        library has hs_view_owner_many. Returns an array.array of ints."""
        keys = [_key_bytes(k) for k in keys]
        return self._owner_indexes_bytes(keys)

    def _owner_indexes_bytes(self, keys):
        n = len(keys)
        out = array.array("Q", bytes(8 * n)) if n else array.array("Q")
        if n == 0:
            return out
        if _lib.hs_view_owner_many is None or ctypes.sizeof(ctypes.c_size_t) != 8:
            for i, k in enumerate(keys):
                out[i] = self.owner_index(k)
            return out
        return self._owner_indexes_packed(b"".join(keys), array.array("Q", map(len, keys)), keys)

    def _owner_indexes_packed(self, buf, lens, keys):
        """Owners of the keys laid end to end in buf (lens: array('Q') of
        their lengths); keys is only read to name a key that fails."""
        n = len(lens)
        out = array.array("Q", bytes(8 * n))
        if n == 0:
            return out
        done = ctypes.c_size_t()
        out_addr, _ = out.buffer_info()
        lens_addr, _ = lens.buffer_info()
        rc = _lib.hs_view_owner_many(
            self._ptr,
            buf,
            ctypes.cast(lens_addr, _lib.c_size_p),
            n,
            ctypes.cast(out_addr, _lib.c_size_p),
            ctypes.byref(done),
        )
        if rc != 0:
            bad = keys[done.value]
            raise error(rc, "%s of key %r (number %d)" % (self.hash_name, bad[:64], done.value))
        return out

    def owners(self, keys):
        """Names of the owners of many keys (see owner_indexes)."""
        names = self._names
        return [names[i] for i in self.owner_indexes(keys)]

    def preference(self, key, r):
        """The first r distinct members in preference order for key."""
        out = (ctypes.c_uint32 * max(r, 1))()
        got = ctypes.c_size_t()
        h = _hash_with(_lib.hs_view_hasher(self._ptr).contents, _key_bytes(key))
        place = _lib.hs_view_place(self._ptr)
        check(_lib.hs_place_lookup_n(place, h, out, r, ctypes.byref(got)), "preference")
        return [self._names[out[i]] for i in range(got.value)]

    def __repr__(self):
        return "<View epoch=%d %s/%s members=%d>" % (
            self.epoch,
            self.placement,
            self.hash_name,
            len(self),
        )


def _bucket(fn, name, h, n):
    if fn is None:
        raise ImportError("hashspace: %s has no hs_%s(); rebuild it" % (_lib.path, name))
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n < 2**32:
        raise InvalidError("%s: n must be an int from 1 to 2^32 - 1, not %r" % (name, n))
    if isinstance(h, bool) or not isinstance(h, int):
        raise TypeError("%s: the hash must be an int, not %s" % (name, type(h).__name__))
    return fn(h & 0xFFFFFFFFFFFFFFFF, n)


def jump_bucket(h, n):
    """The bucket, 0 .. n-1, of a 64-bit hash among n buckets: Lamping &
    Veach's jump hash, exactly the answers of the paper's reference code (and
    of Guava's consistentHash / Elixir's Jumper on the same 64-bit input). n is
    capped at 2^31, as in the paper."""
    return _bucket(_lib.hs_jump_bucket, "jump_bucket", h, n)


def jumpback_bucket(h, n):
    """The bucket, 0 .. n-1, of a 64-bit hash among n buckets by JumpBackHash
    (the `jumpback` method's answers)."""
    return _bucket(_lib.hs_jumpback_bucket, "jumpback_bucket", h, n)
