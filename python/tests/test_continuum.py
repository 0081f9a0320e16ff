"""hashspace.Continuum as a drop-in for python-continuum 0.1.x: its README's
known answers and behaviours, and agreement with an independent model of its
algorithm (continuum_model.py) on many keys and server sets."""

import unittest

from support import hashspace
import continuum_model

HAVE = "continuum" in hashspace.methods()
SKIP_WHY = ("the loaded libhashspace has no 'continuum' placement method yet "
            "(src/lib/place_continuum.c); rebuild once it lands")


def readme_continuum():
    c = hashspace.Continuum()
    c.add_server("192.168.0.1", 8080)
    c.add_server("192.168.0.2", 8080)
    c.add_server("192.168.0.3", 8080, 2)
    return c


@unittest.skipUnless(HAVE, SKIP_WHY)
class ReadmeBehaviour(unittest.TestCase):
    """The examples of python-continuum's README, one by one."""

    def test_empty_continuum_raises_index_error(self):
        with self.assertRaises(IndexError) as cm:
            hashspace.Continuum().resolve("my-key1")
        self.assertEqual(str(cm.exception), "empty continuum")

    def test_add_server_returns_a_server_with_the_classic_repr(self):
        c = hashspace.Continuum()
        self.assertEqual(repr(c.add_server("192.168.0.1", 8080)),
                         '<Server "192.168.0.1:8080", capacity=1>')
        self.assertEqual(repr(c.add_server("192.168.0.3", 8080, 2)),
                         '<Server "192.168.0.3:8080", capacity=2>')

    def test_removed_server_no_longer_counts(self):
        c = readme_continuum()
        server = c.add_server("192.168.0.4", 8080)
        self.assertEqual(len(c), 4)
        self.assertIsNone(c.remove_server(server))
        self.assertEqual(len(c), 3)

    def test_a_server_is_added_once(self):
        c = readme_continuum()
        with self.assertRaises(TypeError) as cm:
            c.add_server("192.168.0.2", 8080)
        self.assertEqual(str(cm.exception), "server already added")
        with self.assertRaises(TypeError):
            c.add_server("192.168.0.2", 8080, 5)  # same host and port, other capacity
        self.assertEqual(len(c), 3)

    def test_known_answers(self):
        c = readme_continuum()
        self.assertEqual(repr(c.resolve("my-first-key")), '<Server "192.168.0.1:8080", capacity=1>')
        self.assertEqual(repr(c.resolve("my-other-key")), '<Server "192.168.0.3:8080", capacity=2>')
        self.assertEqual(c.resolve(b"my-first-key").hostname, "192.168.0.1")

    def test_resolve_returns_the_very_server_objects_added(self):
        c = hashspace.Continuum()
        servers = [c.add_server("10.0.0.%d" % i, 11211) for i in range(1, 5)]
        for k in range(100):
            self.assertTrue(any(c.resolve("k%d" % k) is s for s in servers))


@unittest.skipUnless(HAVE, SKIP_WHY)
class Behaviour(unittest.TestCase):
    def test_remove_accepts_an_equal_server_and_rejects_an_absent_one(self):
        c = readme_continuum()
        c.remove_server(hashspace.Server("192.168.0.2", 8080, 1))
        self.assertEqual(len(c), 2)
        with self.assertRaises(ValueError):
            c.remove_server(hashspace.Server("192.168.0.2", 8080, 1))
        self.assertEqual(len(c), 2)

    def test_removing_every_server_empties_it(self):
        c = hashspace.Continuum()
        s = c.add_server("a", 1)
        c.remove_server(s)
        self.assertEqual(len(c), 0)
        with self.assertRaises(IndexError):
            c.resolve("k")

    def test_add_multi_servers(self):
        c = hashspace.Continuum()
        got = c.add_multi_servers([("a", 1), ("b", 2, 3)])
        self.assertEqual([repr(s) for s in got],
                         ['<Server "a:1", capacity=1>', '<Server "b:2", capacity=3>'])
        self.assertEqual(len(c), 2)

    def test_autogenerate_false_waits_for_generate(self):
        c = hashspace.Continuum(autogenerate=False)
        c.add_server("192.168.0.1", 8080)
        with self.assertRaises(IndexError):
            c.resolve("my-first-key")
        c.generate()
        self.assertEqual(c.resolve("my-other-key").hostname, "192.168.0.1")

    def test_bad_arguments(self):
        c = hashspace.Continuum()
        with self.assertRaises(ValueError):
            c.add_server("h", "8080")
        with self.assertRaises(ValueError):
            c.add_server("h", 70000)
        with self.assertRaises(ValueError):
            c.add_server("h", 1, 0)
        with self.assertRaises(ValueError):
            hashspace.Continuum(totaldots=500)
        self.assertEqual(len(c), 0)


@unittest.skipUnless(HAVE, SKIP_WHY)
class AgreesWithModel(unittest.TestCase):
    """Many keys, several server sets, against continuum_model.Model."""

    # Server sets whose dot counts leave remainders (1000 / 7 = 142 = 35 * 4
    # + 2), so that dropping them is exercised.
    SETS = {
        "readme": [("192.168.0.1", 8080, 1), ("192.168.0.2", 8080, 1), ("192.168.0.3", 8080, 2)],
        "seven": [("10.0.0.%d" % i, 11211, 1) for i in range(1, 8)],
        "uneven": [("a.example", 1, 3), ("b.example", 2, 5)],
        "one": [("solo", 11211, 1)],
        "weighted": [("cache%d" % i, 11211 + i, 1 + i % 3) for i in range(10)],
    }

    def check(self, servers, keys):
        c = hashspace.Continuum()
        for s in servers:
            c.add_server(*s)
        model = continuum_model.Model(servers)
        wrong = []
        for key in keys:
            got = c.resolve(key)
            if (got.hostname, got.port) != model.resolve(key):
                wrong.append(key)
        self.assertEqual(wrong[:5], [], "%d of %d keys resolve differently" % (len(wrong), len(keys)))

    def test_many_keys(self):
        keys = [b"key-%d" % i for i in range(20000)]
        for name, servers in self.SETS.items():
            with self.subTest(servers=name):
                self.check(servers, keys)

    def test_keys_past_the_last_dot_wrap_to_the_first_dot(self):
        # Keys whose md5 word lies above every dot wrap to the first dot.
        for name, servers in self.SETS.items():
            model = continuum_model.Model(servers)
            top = model.positions[-1]
            keys = []
            i = 0
            while len(keys) < 5 and i < 200000:
                k = b"wrap-%d" % i
                if continuum_model.words(k)[0] >= top:
                    keys.append(k)
                i += 1
            with self.subTest(servers=name):
                self.assertTrue(keys, "no wrapping key found")
                self.check(servers, keys)


@unittest.skipUnless(HAVE, SKIP_WHY)
class FewDots(unittest.TestCase):
    def test_servers_with_under_four_dots_own_nothing(self):
        # 300 equal servers get int(1000 / 300) = 3 dots each: no digest, so
        # no point at all (the original python-continuum): an empty continuum.
        c = hashspace.Continuum()
        for i in range(300):
            c.add_server("10.1.%d.%d" % (i // 256, i % 256), 11211)
        self.assertEqual(len(c), 300)
        with self.assertRaises(IndexError):
            c.resolve("k")

    def test_a_small_server_next_to_big_ones_is_never_chosen(self):
        servers = [("big1", 1, 500), ("big2", 2, 500), ("tiny", 3, 1)]
        c = hashspace.Continuum()
        for s in servers:
            c.add_server(*s)
        model = continuum_model.Model(servers)
        self.assertNotIn(("tiny", 3), model.owners)
        for k in range(2000):
            self.assertNotEqual(c.resolve("k%d" % k).hostname, "tiny")


if __name__ == "__main__":
    unittest.main()
