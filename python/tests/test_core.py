"""hashes, Placement and View: answers checked against independent
implementations from the standard library, and the errors a user sees."""

import hashlib
import os
import struct
import subprocess
import sys
import unittest
import zlib

from support import PYTHON_DIR, hashspace

KEYS = [b"", b"a", b"user-17", b"hello world", bytes(range(256)), "café".encode()]


def fnv1a(data, bits):
    if bits == 32:
        h, prime, mask = 0x811C9DC5, 0x01000193, 0xFFFFFFFF
    else:
        h, prime, mask = 0xCBF29CE484222325, 0x100000001B3, 0xFFFFFFFFFFFFFFFF
    for b in data:
        h = ((h ^ b) * prime) & mask
    return h


class Hashes(unittest.TestCase):
    def test_registry_lists_every_hash_of_the_library(self):
        names = hashspace.hashes()
        self.assertEqual(len(names), len(set(names)))
        for expected in ("md5", "crc32", "adler32", "xxh3", "fnv1a32", "fnv1a64", "int"):
            self.assertIn(expected, names)
        for name in names:
            self.assertTrue(hashspace.hash_summary(name))
            self.assertEqual(hashspace.hashes()[hashspace.hash_id(name)], name)

    def test_hashes_match_the_standard_library(self):
        for key in KEYS:
            with self.subTest(key=key):
                md5_lo = struct.unpack("<Q", hashlib.md5(key).digest()[:8])[0]
                self.assertEqual(hashspace.hash("md5", key), md5_lo)
                self.assertEqual(hashspace.hash("crc32", key), zlib.crc32(key))
                self.assertEqual(hashspace.hash("adler32", key), zlib.adler32(key))
                self.assertEqual(hashspace.hash("fnv1a32", key), fnv1a(key, 32))
                self.assertEqual(hashspace.hash("fnv1a64", key), fnv1a(key, 64))

    def test_every_hash_is_a_deterministic_uint64_of_str_and_bytes(self):
        for name in hashspace.hashes():
            key = "12345" if name == "int" else "café"
            h = hashspace.hash(name, key)
            self.assertTrue(0 <= h < 1 << 64)
            self.assertEqual(h, hashspace.hash(name, key.encode("utf-8")))
            self.assertEqual(h, hashspace.hash(name, bytearray(key.encode("utf-8"))))

    def test_int_hash_is_the_number_and_rejects_other_keys(self):
        self.assertEqual(hashspace.hash("int", "18446744073709551615"), (1 << 64) - 1)
        self.assertEqual(hashspace.hash("int", b"42"), 42)
        with self.assertRaises(ValueError) as cm:
            hashspace.hash("int", "forty-two")
        self.assertIsInstance(cm.exception, hashspace.HashspaceError)
        self.assertIn("not valid for this hash", str(cm.exception))

    def test_siphash_secret_changes_the_hash(self):
        plain = hashspace.hash("siphash", b"k")
        self.assertEqual(hashspace.hash("siphash", b"k", secret=bytes(16)), plain)
        self.assertNotEqual(hashspace.hash("siphash", b"k", secret=b"x" * 16), plain)
        with self.assertRaises(ValueError):
            hashspace.hash("siphash", b"k", secret=b"short")

    def test_unknown_hash_is_a_lookup_error_naming_the_choices(self):
        with self.assertRaises(LookupError) as cm:
            hashspace.hash("md6", b"k")
        self.assertIsInstance(cm.exception, hashspace.UnknownNameError)
        self.assertIn("md6", str(cm.exception))
        self.assertIn("xxh3", str(cm.exception))

    def test_keys_of_other_types_are_a_type_error(self):
        with self.assertRaises(TypeError):
            hashspace.hash("xxh3", 17)


class Placements(unittest.TestCase):
    def test_registry_lists_every_method_with_its_info(self):
        names = hashspace.methods()
        self.assertIn("jump", names)
        self.assertIn("modulo", names)
        for name in names:
            info = hashspace.method_info(name)
            self.assertEqual(info.name, name)
            self.assertIn(info.default_hash, hashspace.hashes())
        with self.assertRaises(LookupError) as cm:
            hashspace.Placement("jumpp")
        self.assertIn("jumpp", str(cm.exception))
        self.assertIn("modulo", str(cm.exception))

    def test_modulo_is_hash_mod_n_in_insertion_order(self):
        p = hashspace.Placement("modulo", ["c", "a", "b"], hash="int")
        self.assertEqual(list(p), ["c", "a", "b"])
        for k in range(30):
            self.assertEqual(p.lookup(str(k)), ["c", "a", "b"][k % 3])

    def test_membership_len_iter_contains_weight(self):
        for method in hashspace.methods():
            with self.subTest(method=method):
                p = hashspace.Placement(method)
                self.assertEqual(len(p), 0)
                p.add("10.0.0.1:11211")
                p.add("10.0.0.2:11211", 2)
                p.add_many([("10.0.0.3:11211", 1.5), "10.0.0.4:11211"])
                self.assertEqual(len(p), 4)
                self.assertEqual(list(p), ["10.0.0.%d:11211" % i for i in (1, 2, 3, 4)])
                self.assertIn("10.0.0.3:11211", p)
                self.assertNotIn("10.0.0.9:11211", p)
                self.assertNotIn(17, p)
                self.assertEqual(p.weight("10.0.0.3:11211"), 1.5)
                self.assertIn(p.lookup("user-17"), p)
                p.remove("10.0.0.2:11211")
                self.assertEqual(len(p), 3)
                self.assertNotIn("10.0.0.2:11211", p)
                p.discard("10.0.0.2:11211")  # absent: no error

    def test_lookup_n_gives_distinct_members_owner_first(self):
        for method in hashspace.methods():
            with self.subTest(method=method):
                names = ["10.0.0.%d:11211" % i for i in range(1, 8)]
                p = hashspace.Placement(method, names)
                for k in range(50):
                    pref = p.lookup_n("key-%d" % k, 3)
                    self.assertEqual(len(set(pref)), 3)
                    self.assertEqual(pref[0], p.lookup("key-%d" % k))
                self.assertEqual(len(p.lookup_n("k", 20)), 7)
                self.assertEqual(p.lookup_n("k", 0), [])

    def test_lookup_hash_is_lookup_of_the_placements_hash(self):
        p = hashspace.Placement("jump", ["a", "b", "c", "d"], hash="md5")
        for k in range(50):
            key = "key-%d" % k
            self.assertEqual(p.lookup_hash(hashspace.hash("md5", key)), p.lookup(key))

    def test_lookup_hashes_is_lookup_hash_of_each(self):
        hashes = [hashspace.hash("xxh3", "key-%d" % k) for k in range(500)]
        for method in hashspace.methods():
            with self.subTest(method=method):
                p = hashspace.Placement(method, ["10.0.0.%d:11211" % i for i in range(13)])
                self.assertEqual(p.lookup_hashes(hashes), [p.lookup_hash(h) for h in hashes])
                self.assertEqual(p.lookup_hashes([]), [])
        with self.assertRaises(hashspace.EmptyError):
            hashspace.Placement("jump").lookup_hashes(hashes)

    def test_bucket_functions_are_the_placements_and_the_papers(self):
        def paper_jump(key, n):  # Lamping & Veach, figure 1
            b, j = -1, 0
            while j < n:
                b = j
                key = (key * 2862933555777941757 + 1) % 2**64
                j = int((b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
            return b

        names = ["m%02d" % i for i in range(40)]
        jump = hashspace.Placement("jump", names)
        back = hashspace.Placement("jumpback", names)
        for k in range(2000):
            h = hashspace.hash("xxh3", "key-%d" % k)
            n = 1 + k % 40
            self.assertEqual(hashspace.jump_bucket(h, n), paper_jump(h, n))
            self.assertEqual(names[hashspace.jump_bucket(h, 40)], jump.lookup_hash(h))
            self.assertEqual(names[hashspace.jumpback_bucket(h, 40)], back.lookup_hash(h))
            self.assertLess(hashspace.jumpback_bucket(h, n), n)
        for bad in (0, -1, 2**32, 1.5, True):
            with self.assertRaises((ValueError, TypeError)):
                hashspace.jump_bucket(1, bad)
        with self.assertRaises(TypeError):
            hashspace.jumpback_bucket("key", 3)

    def test_bounded_lookup_respects_the_bound(self):
        names = ["a", "b", "c", "d"]
        p = hashspace.Placement("jump", names)
        loads = dict.fromkeys(names, 0)
        n = 400
        for k in range(n):
            loads[p.lookup_bounded("key-%d" % k, 1.25, loads)] += 1
        self.assertEqual(sum(loads.values()), n)
        self.assertLessEqual(max(loads.values()), 1.25 * n / 4 + 1)

    def test_errors_are_the_expected_builtin_exceptions(self):
        p = hashspace.Placement("jump", ["a"])
        with self.assertRaises(ValueError) as cm:
            p.add("a")
        self.assertIn("member already present", str(cm.exception))
        self.assertIsInstance(cm.exception, hashspace.MemberExistsError)
        with self.assertRaises(KeyError) as cm:
            p.remove("zz")
        self.assertEqual(str(cm.exception), "remove member 'zz': no such member")
        for bad in (0, -1, float("nan"), float("inf")):
            with self.assertRaises(ValueError):
                p.add("b", bad)
        with self.assertRaises(ValueError):
            p.add("")
        with self.assertRaises(ValueError):
            p.add("x" * 256)
        with self.assertRaises(ValueError):
            p.add_many(["b", "b"])
        self.assertEqual(list(p), ["a"])  # nothing changed
        with self.assertRaises(IndexError) as cm:
            hashspace.Placement("jump").lookup("k")
        self.assertIn("no members", str(cm.exception))
        with self.assertRaises(TypeError):
            hashspace.Placement("jump", bogus_option=3)


class Views(unittest.TestCase):
    def test_members_are_sorted_bytewise_whatever_the_input_order(self):
        v = hashspace.View({"hub-c": 1, "hub-a": 1, "hub-b": 2}, epoch=7)
        self.assertEqual(v.members, ["hub-a", "hub-b", "hub-c"])
        self.assertEqual(list(v), v.members)
        self.assertEqual(len(v), 3)
        self.assertEqual(v.epoch, 7)
        self.assertEqual(v.weight("hub-b"), 2.0)
        self.assertEqual(v.index("hub-c"), 2)
        self.assertIn("hub-a", v)
        numbered = hashspace.View([str(i) for i in range(12)])
        self.assertEqual(numbered.members[:4], ["0", "1", "10", "11"])

    def test_same_members_any_order_same_owners(self):
        a = hashspace.View(["w", "x", "y", "z"], placement="jump")
        b = hashspace.View(["z", "y", "x", "w"], placement="jump")
        keys = ["key-%d" % i for i in range(2000)]
        self.assertEqual(a.owners(keys), b.owners(keys))

    def test_owns_is_true_for_exactly_the_owner(self):
        v = hashspace.View(["a", "b", "c"], placement="modulo")
        for k in range(200):
            key = "key-%d" % k
            yes = [m for m in v if v.owns(m, key)]
            self.assertEqual(yes, [v.owner(key)])

    def test_owner_of_hash_and_preference(self):
        v = hashspace.View(["a", "b", "c", "d"], hash="fnv1a64")
        for k in range(50):
            key = "key-%d" % k
            self.assertEqual(v.owner_of_hash(hashspace.hash("fnv1a64", key)), v.owner(key))
            pref = v.preference(key, 4)
            self.assertEqual(pref[0], v.owner(key))
            self.assertEqual(sorted(pref), v.members)

    def test_batch_reports_the_failing_key(self):
        v = hashspace.View(["a", "b"], hash="int")
        self.assertEqual(list(v.owner_indexes([])), [])
        with self.assertRaises(ValueError) as cm:
            v.owners(["1", "2", "three", "4"])
        self.assertIn("three", str(cm.exception))
        self.assertIn("number 2", str(cm.exception))

    def test_view_errors(self):
        with self.assertRaises(IndexError):
            hashspace.View([])
        with self.assertRaises(ValueError) as cm:
            hashspace.View(["a", "b", "a"])
        self.assertIn("'a' given twice", str(cm.exception))
        with self.assertRaises(ValueError):
            hashspace.View({"a": 0})
        with self.assertRaises(LookupError):
            hashspace.View(["a"], placement="nope")
        with self.assertRaises(LookupError):
            hashspace.View(["a"], hash="nope")
        with self.assertRaises(KeyError):
            hashspace.View(["a"]).owns("b", "k")
        with self.assertRaises(TypeError):
            hashspace.View("abc")
        for epoch in (-1, 1 << 64, 1.5):
            with self.assertRaises(ValueError):
                hashspace.View(["a"], epoch=epoch)
        self.assertEqual(hashspace.View(["a"], epoch=(1 << 64) - 1).epoch, (1 << 64) - 1)
        if "continuum" in hashspace.methods():
            with self.assertRaises(ValueError) as cm:
                hashspace.View(["a", "b"], placement="continuum")
            self.assertIn("host:port", str(cm.exception))


class Loading(unittest.TestCase):
    def run_python(self, code, **env):
        full = dict(os.environ, PYTHONPATH=PYTHON_DIR, **env)
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=full, timeout=60)

    def test_a_wrong_hashspace_lib_says_how_to_build(self):
        out = self.run_python("import hashspace", HASHSPACE_LIB="/nonexistent/libhashspace.so")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("ImportError", out.stderr)
        self.assertIn("/nonexistent/libhashspace.so", out.stderr)
        self.assertIn("make", out.stderr)
        self.assertIn("HASHSPACE_LIB", out.stderr)

    def test_sanitizer_builds_are_not_picked_from_the_tree(self):
        import tempfile
        from hashspace import _lib
        with tempfile.TemporaryDirectory() as d:
            cache = os.path.join(d, "CMakeCache.txt")
            self.assertFalse(_lib._sanitized(d))  # no cache at all
            for value, sanitized in (("", False), ("address,undefined", True), ("thread", True)):
                with open(cache, "w") as f:
                    f.write("HS_WERROR:BOOL=ON\nHS_SANITIZE:STRING=%s\n" % value)
                self.assertEqual(_lib._sanitized(d), sanitized, value)

    def test_hashspace_lib_is_the_library_loaded(self):
        out = self.run_python("import hashspace; print(hashspace.library_path)",
                              HASHSPACE_LIB=hashspace.library_path)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), hashspace.library_path)


if __name__ == "__main__":
    unittest.main()
