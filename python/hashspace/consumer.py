"""Consumer(i, n): "is this message mine?" for N identical consumers that all
receive every message and must each process a disjoint share of it.

Two schemes:

- the default: the key's bytes are hashed by libhashspace and placed on a
  view of n members named "0" .. "n-1", zero-padded to one width ("00" ..
  "11" for n = 12) so that sorting them bytewise, as every view does, keeps
  numeric order: consumer i is member i. The answers are the same as
  `hashspace route --placement P --hash H --members 00,01,...,11`.
- compat="fedmsg": the classic pure-Python test
  `int(md5(json.dumps(msg)).hexdigest(), 16) % n == i`, reproduced exactly
  (the whole 128-bit MD5 as a big-endian integer, modulo n), for a fleet
  that is being moved over one consumer at a time.

Which bytes are hashed (the key) is chosen by `key`, with the hub's words:

- "body" (the default): the whole message. bytes are used as they are (what
  the C hub hashes: the body as received); str is encoded as UTF-8; any other
  value (a dict) is serialized, by default with canonical_json(), which is
  what fedmsg puts on the wire (json.dumps with sort_keys=True, ASCII), and
  with compat="fedmsg" with json.dumps(msg) (the classic expression).
- "json:/msg/user" (or just "/msg/user"): an RFC 6901 JSON pointer into the
  message (a dict, or bytes/str holding JSON). As in the hub: a string gives
  its UTF-8 text, an integer its digits, true/false their names, a float its
  text as jansson prints it (17 significant digits); null, an object or an
  array is not a key (ValueError), a pointer to nothing raises KeyError.
- "topic": the topic given with the message (should_I_process_this(msg,
  topic=...)), or the message's own "topic" field.
- a callable: key(msg) returns the key (bytes, str, or a value converted as
  above).
"""

import array
import ctypes
import hashlib
import json
import math
import threading

from . import _lib, core
from .errors import error

__all__ = ["Consumer", "canonical_json", "member_names"]

def _encoder(sort_keys):
    """json.dumps(value, sort_keys=sort_keys) as a function, about a fifth
    faster: CPython's C encoder is built once, not once per message."""
    enc = json.JSONEncoder(sort_keys=sort_keys)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return enc.encode
    # The arguments JSONEncoder.iterencode passes, without the circular
    # reference check (a message is a tree).
    chunks = make(None, enc.default, json.encoder.encode_basestring_ascii, None,
                  enc.key_separator, enc.item_separator, sort_keys, False, True)
    join = "".join

    def encode(value):
        if isinstance(value, str):
            return json.encoder.encode_basestring_ascii(value)
        return join(chunks(value, 0))

    return encode


class _Encoders:
    canonical = staticmethod(_encoder(True))
    classic = staticmethod(_encoder(False))


def canonical_json(value):
    """The bytes a dict is hashed as by default: json.dumps(value,
    sort_keys=True) with the default separators ", " and ": " and non-ASCII
    escaped (\\uXXXX), i.e. what fedmsg.encoding.dumps sends."""
    return _Encoders.canonical(value).encode("ascii")


def member_names(n, placement="jump"):
    """The default member names of a Consumer fleet of n: "0".."n-1"
    zero-padded to one width, so that bytewise order is numeric order. For
    the byte-compatible memcached methods (flag COMPAT: ketama, libketama,
    continuum), whose members are servers, ":11211" is appended ("00:11211")
    since continuum requires host:port names."""
    if not isinstance(n, int) or n < 1:
        raise ValueError("n must be a positive int, not %r" % (n,))
    width = len(str(n - 1))
    suffix = ":11211" if core.method_info(placement).compat else ""
    return [str(i).zfill(width) + suffix for i in range(n)]


def _jansson_real(x):
    """A float as jansson's json_dumps prints it ("%.17g", exponent without
    '+' or leading zeros, ".0" added to integral values)."""
    if not math.isfinite(x):
        raise ValueError("%r is not a JSON number, so not a key" % x)
    s = "%.17g" % x
    if "e" in s:
        mant, exp = s.split("e")
        sign = "-" if exp.startswith("-") else ""
        return "%se%s%s" % (mant, sign, exp.lstrip("+-").lstrip("0") or "0")
    if "." not in s:
        s += ".0"
    return s


def _scalar_key(value, where):
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, int):
        return str(value).encode("ascii")
    if isinstance(value, float):
        return _jansson_real(value).encode("ascii")
    if value is None or isinstance(value, (dict, list, tuple)):
        kind = "null" if value is None else type(value).__name__
        raise ValueError("%s is %s, which is not a key (want a string or a number)" % (where, kind))
    raise TypeError("%s is a %s, which is not a key" % (where, type(value).__name__))


def _parse_pointer(text):
    if text == "":
        return []
    if not text.startswith("/"):
        raise ValueError("a JSON pointer starts with '/' (e.g. json:/msg/user), got %r" % text)
    tokens = []
    for raw in text[1:].split("/"):
        i = raw.find("~")
        while i >= 0:
            if i + 1 >= len(raw) or raw[i + 1] not in "01":
                raise ValueError("JSON pointer %r: '~' must be followed by 0 or 1" % text)
            i = raw.find("~", i + 2)
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tokens


def _follow(doc, tokens, pointer):
    for tok in tokens:
        if isinstance(doc, dict):
            if tok not in doc:
                raise KeyError("JSON pointer %s names nothing in the message" % pointer)
            doc = doc[tok]
        elif isinstance(doc, list):
            if not (tok.isdigit() and (tok == "0" or not tok.startswith("0"))):
                raise KeyError("JSON pointer %s: %r is not an array index" % (pointer, tok))
            idx = int(tok)
            if idx >= len(doc):
                raise KeyError("JSON pointer %s names nothing in the message" % pointer)
            doc = doc[idx]
        else:
            raise KeyError("JSON pointer %s names nothing in the message" % pointer)
    return doc


class Consumer:
    """Consumer i of n: should_I_process_this(msg) is True for exactly one
    of the n consumers, for every message.

    hash, placement, secret and tuning options are those of View (default:
    jump, with its own default hash, xxh3). compat="fedmsg" selects the
    classic md5 scheme instead (hash and placement must then be left out).
    """

    def __init__(self, i, n, hash=None, placement=None, key="body", compat=None, secret=None,
                 names=None, **opts):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError("n must be a positive int, not %r" % (n,))
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < n:
            raise ValueError("i must be an int from 0 to n-1 = %d, not %r" % (n - 1, i))
        self.i, self.n = i, n
        self.compat = compat
        self.key = key
        self._key_fn = self._key_function(key, compat)
        self._whole_body = key is None or key == "body"
        if compat is None:
            placement = placement or "jump"
            if names is None:
                names = member_names(n, placement)
            else:
                names = [core._name_str(core._name_bytes(x)) for x in names]
                if len(names) != n:
                    raise ValueError("names: %d names for n = %d consumers" % (len(names), n))
            self.view = core.View(names, placement=placement, hash=hash, secret=secret, **opts)
            self.name = names[i]
            self.placement = self.view.placement
            self.hash_name = self.view.hash_name
            # View positions are sorted names; consumer numbers are positions
            # in `names`. For the default names they coincide.
            number = {name: k for k, name in enumerate(names)}
            self._consumer_at = [number[m] for m in self.view.members]
            self._position = self.view.index(self.name)
            owner_index, consumer_at = self.view.owner_index, self._consumer_at
            self._owner = lambda key: consumer_at[owner_index(key)]
            self._is_mine = self._view_claim(self.view, self._position)
        elif compat == "fedmsg":
            if hash is not None or placement is not None or secret is not None or opts:
                raise ValueError("compat='fedmsg' is md5 modulo n: no hash, placement or options")
            if names is not None:
                raise ValueError("compat='fedmsg' has no member names")
            self.view = None
            self.name = str(i)
            self.placement = "md5-128 modulo n"
            self.hash_name = "md5"
            md5 = hashlib.md5
            from_bytes = int.from_bytes

            def owner(key):
                return from_bytes(md5(key).digest(), "big") % n

            self._owner = owner

            def is_mine(key):
                return from_bytes(md5(key).digest(), "big") % n == i

            self._is_mine = is_mine
        else:
            raise ValueError("unknown compat %r (expected None or 'fedmsg')" % (compat,))
        if self._whole_body:
            self.should_I_process_this = self._fuse_whole_body()

    @staticmethod
    def _view_claim(view, position):
        """is_mine(key bytes) for the default scheme: one C call. The output
        cell is per thread (ctypes drops the GIL during the call, so a shared
        one could be overwritten by another thread before it is read)."""
        owner, ptr, hash_name = _lib.hs_view_owner, view._ptr, view.hash_name
        cells = threading.local()

        def is_mine(key):
            try:
                out, ref = cells.out
            except AttributeError:
                out = ctypes.c_size_t()
                ref = ctypes.byref(out)
                cells.out = out, ref
            rc = owner(ptr, key, len(key), ref)
            if rc != 0:
                raise error(rc, "%s of key %r" % (hash_name, key[:64]))
            return out.value == position

        return is_mine

    @staticmethod
    def _key_function(key, compat):
        encode = _Encoders.classic if compat == "fedmsg" else _Encoders.canonical

        def whole(msg, topic=None):
            if isinstance(msg, bytes):
                return msg
            if isinstance(msg, str):
                return msg.encode("utf-8")
            if isinstance(msg, (bytearray, memoryview)):
                return bytes(msg)
            return encode(msg).encode("utf-8")

        if key is None or key == "body":
            return whole
        if callable(key):
            def by_callable(msg, topic=None):
                value = key(msg)
                if isinstance(value, (bytes, bytearray, memoryview, str)):
                    return whole(value)
                return _scalar_key(value, "key(msg)")
            return by_callable
        if key == "topic":
            def by_topic(msg, topic=None):
                if topic is None:
                    if isinstance(msg, (bytes, bytearray, str)):
                        msg = json.loads(msg)
                    if not isinstance(msg, dict) or "topic" not in msg:
                        raise KeyError("key='topic': no topic given and the message has none")
                    topic = msg["topic"]
                return topic.encode("utf-8") if isinstance(topic, str) else bytes(topic)
            return by_topic
        if isinstance(key, str):
            pointer = key[5:] if key.startswith("json:") else key
            tokens = _parse_pointer(pointer)

            def by_pointer(msg, topic=None):
                if isinstance(msg, (bytes, bytearray, memoryview, str)):
                    msg = json.loads(bytes(msg) if not isinstance(msg, str) else msg)
                return _scalar_key(_follow(msg, tokens, pointer), "json:" + pointer)
            return by_pointer
        raise TypeError("key must be 'body', 'topic', 'json:/pointer' or a callable, not %r"
                        % (key,))

    def key_of(self, msg, topic=None):
        """The bytes that decide who takes msg."""
        return self._key_fn(msg, topic)

    def owner_of(self, msg, topic=None):
        """The number (0 .. n-1) of the consumer that takes msg."""
        return self._owner(self._key_fn(msg, topic))

    def should_I_process_this(self, msg, topic=None):
        """True when this consumer (i) takes msg: a dict, bytes or str."""
        return self._is_mine(self._key_fn(msg, topic))

    def _fuse_whole_body(self):
        """should_I_process_this for key='body' without the key function's
        call for the two common cases, bytes and dict (the answers are the
        same; a Python call saved is a tenth of the time per message)."""
        whole, is_mine = self._key_fn, self._is_mine
        encode = _Encoders.classic if self.compat == "fedmsg" else _Encoders.canonical

        def should_I_process_this(msg, topic=None):
            kind = type(msg)
            if kind is bytes:
                return is_mine(msg)
            if kind is dict:
                return is_mine(encode(msg).encode("utf-8"))
            return is_mine(whole(msg))

        should_I_process_this.__doc__ = Consumer.should_I_process_this.__doc__
        return should_I_process_this

    def owners_of(self, msgs, topics=None):
        """Consumer numbers for many messages: one C call for the whole list
        (keys are extracted in Python first)."""
        if self.view is not None:
            consumer_at = self._consumer_at
            return [consumer_at[p] for p in self._batch_positions(msgs, topics)]
        owner = self._owner
        return [owner(k) for k in self._keys(msgs, topics)]

    def _keys(self, msgs, topics):
        fn = self._key_fn
        if topics is None:
            return [fn(m) for m in msgs]
        return [fn(m, t) for m, t in zip(msgs, topics)]

    def _positions(self, keys):
        return self.view._owner_indexes_bytes(keys)

    def should_I_process_these(self, msgs, topics=None):
        """[should_I_process_this(m) for m in msgs], faster: keys are
        extracted in Python, then placed in one C call."""
        if self.view is None:
            i = self.i
            return [o == i for o in self.owners_of(msgs, topics)]
        me = self._position
        return [p == me for p in self._batch_positions(msgs, topics)]

    def _batch_positions(self, msgs, topics):
        if self._whole_body and topics is None:
            # Raw bodies: no per-message Python call at all. join refuses
            # str and dicts; the length check refuses memoryviews of
            # multi-byte items. Either sends us down the general path.
            if not isinstance(msgs, (list, tuple)):
                msgs = list(msgs)
            try:
                buf = b"".join(msgs)
            except TypeError:
                buf = None
            if buf is not None:
                lens = array.array("Q", map(len, msgs))
                if sum(lens) == len(buf):
                    return self.view._owner_indexes_packed(buf, lens, msgs)
        return self._positions(self._keys(msgs, topics))

    def mine(self, msgs, topics=None):
        """The messages of msgs that this consumer takes, in order."""
        msgs = list(msgs)
        return [m for m, yes in zip(msgs, self.should_I_process_these(msgs, topics)) if yes]

    def __repr__(self):
        return "<Consumer %d of %d %s/%s key=%r>" % (
            self.i,
            self.n,
            self.placement,
            self.hash_name,
            self.key,
        )
