"""Find and load libhashspace.so, and declare the C functions the binding uses.

Search order: $HASHSPACE_LIB (a path to the .so), then a build tree above this
package (build/libhashspace.so, then other build*/ directories, newest first,
skipping sanitizer builds), then the system linker path
(ctypes.util.find_library("hashspace"), then libhashspace.so.0).
"""

import ctypes
import ctypes.util
import glob
import os

__all__ = ["lib", "path", "PlaceOpts", "PlaceInfo", "Hasher", "ViewMember"]


def _sanitized(build_dir):
    """True for a build with sanitizers: its library aborts an interpreter that
    was not started with the sanitizer runtime preloaded."""
    try:
        with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith("HS_SANITIZE:"):
                    return line.strip().split("=", 1)[1] != ""
    except OSError:
        pass
    return False


def _candidates():
    env = os.environ.get("HASHSPACE_LIB")
    if env:
        # An explicit choice is the only one: a wrong path must fail loudly
        # rather than silently load another copy.
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))  # python/hashspace -> repo
    found = [p for p in glob.glob(os.path.join(root, "build*", "libhashspace.so"))
             if not _sanitized(os.path.dirname(p))]
    # build/ (what `make` builds) first, then the most recently built.
    found.sort(key=lambda p: (os.path.basename(os.path.dirname(p)) != "build",
                              -os.path.getmtime(p)))
    yield from found
    name = ctypes.util.find_library("hashspace")
    if name:
        yield name
    yield "libhashspace.so.0"


def _load():
    tried = []
    for candidate in _candidates():
        try:
            return ctypes.CDLL(candidate), candidate
        except OSError as e:
            tried.append("%s (%s)" % (candidate, e))
    raise ImportError(
        "hashspace: cannot load libhashspace.so; tried: %s.\n"
        "Build it with `make` (or `cmake -S . -B build && cmake --build build`) in the "
        "hashspace source tree, install it, or set HASHSPACE_LIB=/path/to/libhashspace.so"
        % "; ".join(tried)
    )


lib, path = _load()

c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_u32_p = ctypes.POINTER(ctypes.c_uint32)
c_u64_p = ctypes.POINTER(ctypes.c_uint64)
HS_HASH_FN = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, c_u64_p
)


class PlaceOpts(ctypes.Structure):
    """hs_place_opts. The trailing reserved bytes stay zero ("the method's
    default") so that fields appended to the C struct later are never read
    from beyond the end of this one."""

    _fields_ = [
        ("points_per_weight", ctypes.c_size_t),
        ("table_size", ctypes.c_size_t),
        ("capacity", ctypes.c_size_t),
        ("_reserved", ctypes.c_uint8 * 256),
    ]


# The names of PlaceOpts that are real hs_place_opts fields, in order.
PLACE_OPTS_FIELDS = ["points_per_weight", "table_size", "capacity"]


class PlaceInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("summary", ctypes.c_char_p),
        ("flags", ctypes.c_uint),
        ("default_hash", ctypes.c_int),
        ("max_members", ctypes.c_size_t),
    ]


class Hasher(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_int),
        ("fn", ctypes.c_void_p),
        ("secret", ctypes.c_uint8 * 16),
    ]


class ViewMember(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("weight", ctypes.c_double)]


PlaceInfo_p = ctypes.POINTER(PlaceInfo)
Hasher_p = ctypes.POINTER(Hasher)


def _fn(name, restype, *argtypes, optional=False):
    try:
        f = getattr(lib, name)
    except AttributeError:
        if optional:
            return None
        raise ImportError(
            "hashspace: %s has no %s(); it is older than this binding, rebuild it" % (path, name)
        )
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


I, SZ, VP, CP, D = ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_double

hs_strerror = _fn("hs_strerror", CP, I)
hs_err_name = _fn("hs_err_name", CP, I)

hs_hash_count = _fn("hs_hash_count", SZ)
hs_hash_name = _fn("hs_hash_name", CP, I)
hs_hash_summary = _fn("hs_hash_summary", CP, I)
hs_hash_find = _fn("hs_hash_find", I, CP, ctypes.POINTER(I))
hs_hasher_init = _fn("hs_hasher_init", I, Hasher_p, I)
hs_hasher_set_secret = _fn("hs_hasher_set_secret", None, Hasher_p, CP)
hs_hash = _fn("hs_hash", I, I, CP, SZ, c_u64_p)

hs_place_method_count = _fn("hs_place_method_count", SZ)
hs_place_method_at = _fn("hs_place_method_at", PlaceInfo_p, SZ)
hs_place_method_find = _fn("hs_place_method_find", PlaceInfo_p, CP)
hs_place_new = _fn("hs_place_new", I, ctypes.POINTER(VP), CP, ctypes.POINTER(PlaceOpts))
hs_place_free = _fn("hs_place_free", None, VP)
hs_place_method = _fn("hs_place_method", PlaceInfo_p, VP)
hs_place_add = _fn("hs_place_add", I, VP, CP, D)
hs_place_add_many = _fn(
    "hs_place_add_many", I, VP, ctypes.POINTER(CP), ctypes.POINTER(D), SZ
)
hs_place_remove = _fn("hs_place_remove", I, VP, CP)
hs_place_size = _fn("hs_place_size", SZ, VP)
hs_place_slots = _fn("hs_place_slots", SZ, VP)
hs_place_find = _fn("hs_place_find", I, VP, CP, c_u32_p)
hs_place_member_name = _fn("hs_place_member_name", CP, VP, ctypes.c_uint32)
hs_place_member_weight = _fn("hs_place_member_weight", D, VP, ctypes.c_uint32)
hs_place_members = _fn("hs_place_members", SZ, VP, c_u32_p, SZ)
hs_place_lookup = _fn("hs_place_lookup", I, VP, ctypes.c_uint64, c_u32_p)
hs_place_lookup_n = _fn(
    "hs_place_lookup_n", I, VP, ctypes.c_uint64, c_u32_p, SZ, c_size_p
)
# Newer than the first release: the binding falls back to one call per hash.
hs_place_lookup_many = _fn(
    "hs_place_lookup_many", I, VP, c_u64_p, SZ, c_u32_p, optional=True
)
hs_jump_bucket = _fn(
    "hs_jump_bucket", ctypes.c_uint32, ctypes.c_uint64, ctypes.c_uint32, optional=True
)
hs_jumpback_bucket = _fn(
    "hs_jumpback_bucket", ctypes.c_uint32, ctypes.c_uint64, ctypes.c_uint32, optional=True
)
hs_place_lookup_bounded = _fn(
    "hs_place_lookup_bounded", I, VP, ctypes.c_uint64, D, c_u64_p, ctypes.c_uint64, c_u32_p
)

hs_view_new = _fn(
    "hs_view_new",
    I,
    ctypes.POINTER(VP),
    ctypes.c_uint64,
    CP,
    ctypes.POINTER(PlaceOpts),
    Hasher_p,
    ctypes.POINTER(ViewMember),
    SZ,
)
hs_view_release = _fn("hs_view_release", None, VP)
hs_view_epoch = _fn("hs_view_epoch", ctypes.c_uint64, VP)
hs_view_size = _fn("hs_view_size", SZ, VP)
hs_view_member_name = _fn("hs_view_member_name", CP, VP, SZ)
hs_view_member_weight = _fn("hs_view_member_weight", D, VP, SZ)
hs_view_index = _fn("hs_view_index", I, VP, CP, c_size_p)
hs_view_hasher = _fn("hs_view_hasher", Hasher_p, VP)
hs_view_place = _fn("hs_view_place", VP, VP)
hs_view_owner_hash = _fn("hs_view_owner_hash", I, VP, ctypes.c_uint64, c_size_p)
hs_view_owner = _fn("hs_view_owner", I, VP, CP, SZ, c_size_p)
hs_view_owns = _fn("hs_view_owns", I, VP, SZ, CP, SZ, ctypes.POINTER(ctypes.c_bool))
# Newer than the first release: the binding falls back to one call per key.
hs_view_owner_many = _fn(
    "hs_view_owner_many",
    I,
    VP,
    VP,
    c_size_p,
    SZ,
    c_size_p,
    c_size_p,
    optional=True,
)
