"""Consumer(i, n): exactly one of n consumers takes each message, the batch
path agrees with the one-message path, key extraction follows the hub's
words, and compat='fedmsg' is the classic md5 expression exactly."""

import hashlib
import json
import unittest

from support import hashspace


def messages(count):
    """fedmsg-shaped messages, some with non-ASCII text."""
    out = []
    for k in range(count):
        out.append({
            "topic": "org.fedoraproject.prod.%s" % ("git.receive", "buildsys.tag", "fas.user")[k % 3],
            "i": k,
            "timestamp": 1700000000.25 + k,
            "msg_id": "2026-%08d" % k,
            "username": "apache",
            "msg": {"user": "user-%d" % (k % 37), "note": "café %d" % k, "n": k * 7},
        })
    return out


class ExactlyOne(unittest.TestCase):
    def check_exactly_one(self, n, msgs, **kw):
        fleet = [hashspace.Consumer(i, n, **kw) for i in range(n)]
        answers = [c.should_I_process_these(msgs) for c in fleet]
        for j, msg in enumerate(msgs):
            yes = [i for i in range(n) if answers[i][j]]
            self.assertEqual(len(yes), 1, "message %d taken by %s" % (j, yes))
            # The one-message path agrees with the batch path.
            self.assertEqual([c.should_I_process_this(msg) for c in fleet],
                             [answers[i][j] for i in range(n)])
        return answers

    def test_every_method_and_some_hashes(self):
        msgs = messages(120)
        for method in hashspace.methods():
            for hash_name in (None, "md5", "crc32"):
                for n in (1, 5) if hash_name else (1, 3, 12):
                    with self.subTest(placement=method, hash=hash_name, n=n):
                        self.check_exactly_one(n, msgs, placement=method, hash=hash_name)

    def test_compat_fedmsg(self):
        for n in (1, 2, 5, 12):
            with self.subTest(n=n):
                self.check_exactly_one(n, messages(300), compat="fedmsg")

    def test_load_is_spread(self):
        n = 4
        answers = self.check_exactly_one(n, messages(4000))
        for i in range(n):
            self.assertGreater(sum(answers[i]), 4000 / n * 0.8)


class FedmsgCompat(unittest.TestCase):
    def test_agrees_with_the_literal_classic_expression(self):
        msgs = messages(1000)
        for n in (1, 2, 3, 4, 7, 10, 64, 1000, 2**70 + 3):
            for i in sorted({0, 1 % n, n - 1}):
                c = hashspace.Consumer(i, n, compat="fedmsg")
                classic = [
                    int(hashlib.md5(json.dumps(msg).encode()).hexdigest(), 16) % n == i
                    for msg in msgs
                ]
                with self.subTest(n=n, i=i):
                    self.assertEqual([c.should_I_process_this(m) for m in msgs], classic)
                    self.assertEqual(c.should_I_process_these(msgs), classic)

    def test_raw_bytes_are_hashed_as_they_are(self):
        body = json.dumps({"b": 1, "a": [1, 2]}).encode()
        c = hashspace.Consumer(0, 5, compat="fedmsg")
        self.assertEqual(c.owner_of(body), int(hashlib.md5(body).hexdigest(), 16) % 5)

    def test_takes_no_hash_or_placement(self):
        with self.assertRaises(ValueError):
            hashspace.Consumer(0, 2, compat="fedmsg", hash="xxh3")
        with self.assertRaises(ValueError):
            hashspace.Consumer(0, 2, compat="fedmsg", placement="jump")
        with self.assertRaises(ValueError):
            hashspace.Consumer(0, 2, compat="fedmsg2")


class Keys(unittest.TestCase):
    def test_dict_body_is_canonical_json(self):
        msg = {"z": 1, "a": {"é": [1, 2.5, None, True]}}
        c = hashspace.Consumer(0, 3)
        wire = json.dumps(msg, sort_keys=True).encode("ascii")
        self.assertEqual(c.key_of(msg), wire)
        self.assertEqual(hashspace.canonical_json(msg), wire)
        # The same message as bytes received off the wire goes to the same consumer.
        self.assertEqual(c.owner_of(msg), c.owner_of(wire))
        self.assertEqual(c.owner_of(msg), c.view.index(c.view.owner(wire)))
        # Key order does not matter.
        self.assertEqual(c.key_of({"a": msg["a"], "z": 1}), wire)

    def test_serializations_are_json_dumps_exactly(self):
        values = [
            {"z": [1, 2.5, -0.0, 1e300, None, True, False], "a": "é\u2603\n\"q\"", "m": {}},
            {"b": {"y": [], "x": [{"k": 1}, "s"]}, "a": 12345678901234567890},
            ["top", "level", 1], "just a string", 17, 0.1, None,
        ]
        for v in values:
            with self.subTest(value=v):
                self.assertEqual(hashspace.canonical_json(v), json.dumps(v, sort_keys=True).encode())
                c = hashspace.Consumer(0, 2, compat="fedmsg")
                self.assertEqual(c.key_of(v) if not isinstance(v, str) else c.key_of(json.dumps(v)),
                                 json.dumps(v).encode())
        with self.assertRaises(TypeError):
            hashspace.canonical_json({"set": {1, 2}})
        nan = {"nan": float("nan")}  # json.dumps writes NaN; so do we
        self.assertEqual(hashspace.canonical_json(nan), json.dumps(nan, sort_keys=True).encode())

    def test_str_body_is_utf8(self):
        c = hashspace.Consumer(0, 3)
        self.assertEqual(c.key_of("café"), "café".encode("utf-8"))
        self.assertEqual(c.key_of(bytearray(b"x")), b"x")

    def test_json_pointer_follows_the_hub(self):
        msg = {"msg": {"user": "ralph", "id": 17, "ok": True, "r": 0.1, "e": 2.5e-8,
                       "w": 100.0, "list": ["x", "y"], "a/b": "slash", "m~n": "tilde",
                       "none": None}}
        cases = {
            "/msg/user": b"ralph",
            "json:/msg/user": b"ralph",
            "/msg/id": b"17",
            "/msg/ok": b"true",
            "/msg/r": b"0.10000000000000001",  # jansson prints 17 significant digits
            "/msg/e": b"2.4999999999999999e-8",
            "/msg/w": b"100.0",
            "/msg/list/1": b"y",
            "/msg/a~1b": b"slash",
            "/msg/m~0n": b"tilde",
        }
        for pointer, expected in cases.items():
            with self.subTest(pointer=pointer):
                c = hashspace.Consumer(0, 2, key=pointer)
                self.assertEqual(c.key_of(msg), expected)
                self.assertEqual(c.key_of(json.dumps(msg).encode()), expected)
        with self.assertRaises(KeyError):
            hashspace.Consumer(0, 2, key="/msg/nobody").key_of(msg)
        with self.assertRaises(KeyError):
            hashspace.Consumer(0, 2, key="/msg/list/5").key_of(msg)
        for pointer in ("/msg", "/msg/list", "/msg/none"):
            with self.assertRaises(ValueError):
                hashspace.Consumer(0, 2, key=pointer).key_of(msg)
        for bad in ("msg/user", "/a~2"):
            with self.assertRaises(ValueError):
                hashspace.Consumer(0, 2, key=bad)

    def test_float_keys_are_printed_as_jansson_prints_them(self):
        # The hub extracts keys with jansson; ask jansson itself.
        import ctypes
        import ctypes.util
        name = ctypes.util.find_library("jansson")
        if name is None:
            self.skipTest("libjansson not found")
        jansson = ctypes.CDLL(name)
        jansson.json_real.restype = ctypes.c_void_p
        jansson.json_real.argtypes = [ctypes.c_double]
        jansson.json_dumps.restype = ctypes.c_void_p
        jansson.json_dumps.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        jansson.json_delete.argtypes = [ctypes.c_void_p]
        libc = ctypes.CDLL(None)
        libc.free.argtypes = [ctypes.c_void_p]
        c = hashspace.Consumer(0, 2, key="/x")
        for x in (0.1, 1.0, -0.0, 100.0, 1e16, 1e100, 2.5e-8, 1e-300, 123456789.125,
                  3.0000000000000004, 5e-324, 1.7976931348623157e308, -42.5):
            v = jansson.json_real(x)
            text = jansson.json_dumps(v, 0x200)  # JSON_ENCODE_ANY
            expected = ctypes.string_at(text)
            libc.free(text)
            jansson.json_delete(v)
            with self.subTest(x=x):
                self.assertEqual(c.key_of({"x": x}), expected)

    def test_messages_of_one_user_go_to_one_consumer(self):
        msgs = messages(500)
        fleet = [hashspace.Consumer(i, 5, key="json:/msg/user") for i in range(5)]
        owner_of_user = {}
        for m in msgs:
            owner = [c.should_I_process_this(m) for c in fleet].index(True)
            self.assertEqual(owner_of_user.setdefault(m["msg"]["user"], owner), owner)

    def test_topic_key(self):
        c = hashspace.Consumer(0, 3, key="topic")
        self.assertEqual(c.key_of({"topic": "a.b"}), b"a.b")
        self.assertEqual(c.key_of(b"raw body", topic="x.y"), b"x.y")
        self.assertEqual(c.should_I_process_these([b"1", b"2"], topics=["t", "t"]),
                         [c.should_I_process_this(b"?", topic="t")] * 2)
        with self.assertRaises(KeyError):
            c.key_of({"no": "topic"})

    def test_callable_key(self):
        c = hashspace.Consumer(1, 3, key=lambda m: m["msg"]["user"])
        d = hashspace.Consumer(1, 3, key="/msg/user")
        msgs = messages(100)
        self.assertEqual(c.should_I_process_these(msgs), d.should_I_process_these(msgs))
        self.assertEqual(hashspace.Consumer(0, 2, key=lambda m: 42).key_of({}), b"42")


class Fleet(unittest.TestCase):
    def test_member_names_sort_in_numeric_order(self):
        for n in (1, 9, 10, 11, 100, 101):
            c = hashspace.Consumer(n - 1, n)
            self.assertEqual(c.view.members, sorted(c.view.members))
            self.assertEqual(c.view.index(c.name), n - 1)
        self.assertEqual(hashspace.Consumer(3, 12).name, "03")

    def test_batch_of_any_mix_equals_one_by_one(self):
        import array
        wide = memoryview(array.array("I", [1, 2, 3]))  # 12 bytes, len 3
        mixes = [
            [b"a", b"bb", b"", b"ccc" * 50],
            [b"a", "é", {"k": 1}, bytearray(b"xyz")],
            [b"x", wide, b"y"],
            [wide],
            [],
        ]
        for n in (2, 5):
            for i in range(n):
                c = hashspace.Consumer(i, n)
                for msgs in mixes:
                    with self.subTest(n=n, i=i, msgs=msgs):
                        one = [c.should_I_process_this(m) for m in msgs]
                        self.assertEqual(c.should_I_process_these(msgs), one)
                        self.assertEqual(c.should_I_process_these(iter(msgs)), one)
                        self.assertEqual(c.owners_of(tuple(msgs)),
                                         [c.owner_of(m) for m in msgs])
        self.assertEqual(hashspace.Consumer(0, 2).key_of(wide), bytes(wide))

    def test_mine_filters_in_order(self):
        msgs = messages(200)
        c = hashspace.Consumer(2, 3)
        self.assertEqual(c.mine(msgs), [m for m in msgs if c.should_I_process_this(m)])
        self.assertEqual(c.mine([]), [])

    def test_bad_arguments(self):
        for i, n in ((3, 3), (-1, 3), (0, 0), ("0", 2)):
            with self.assertRaises(ValueError):
                hashspace.Consumer(i, n)
        with self.assertRaises(LookupError):
            hashspace.Consumer(0, 2, placement="nope")
        with self.assertRaises(TypeError):
            hashspace.Consumer(0, 2, key=17)

    def test_threads_share_a_consumer_safely(self):
        import threading
        msgs = [("message %d" % k).encode() for k in range(3000)]
        c = hashspace.Consumer(1, 3)
        expected = c.should_I_process_these(msgs)
        results = {}

        def worker(t):
            results[t] = [c.should_I_process_this(m) for m in msgs]

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for t in range(4):
            self.assertEqual(results[t], expected)

    def test_int_key_errors_name_the_message(self):
        c = hashspace.Consumer(0, 2, hash="int")
        self.assertIn(c.owner_of(b"123"), (0, 1))
        with self.assertRaises(ValueError) as cm:
            c.should_I_process_these([b"1", b"x2"])
        self.assertIn("x2", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
