"""The binding answers exactly as the C `hashspace route` command does, for
every hash and every placement method in the registry."""

import unittest

from support import hashspace, keys_for, need_cli, route

# host:port names, so that the memcached-compatible methods accept them; one
# weight above 1 so weighted methods are exercised. Given unsorted on purpose.
MEMBERS = {
    "10.0.0.3:11211": 1.0,
    "10.0.0.1:11211": 1.0,
    "10.0.0.7:11211": 2.0,
    "10.0.0.2:11211": 1.0,
    "10.0.0.5:11211": 1.0,
    "10.0.0.4:11211": 1.0,
}
N_KEYS = 1000


def cli_members(members):
    return ["%s=%g" % (name, w) for name, w in members.items()]


@need_cli
class RouteAgreement(unittest.TestCase):
    def test_every_hash_with_every_method_agrees_with_route(self):
        for method in hashspace.methods():
            for hash_name in hashspace.hashes():
                with self.subTest(placement=method, hash=hash_name):
                    keys = keys_for(hash_name, N_KEYS)
                    view = hashspace.View(MEMBERS, placement=method, hash=hash_name)
                    got = view.owners(keys)
                    rows = route(keys, cli_members(MEMBERS), method, hash_name)
                    self.assertEqual([r[0] for r in rows], keys)
                    self.assertEqual(got, [r[1] for r in rows])
                    # The one-key path agrees with the batch path.
                    self.assertEqual([view.owner(k) for k in keys[:100]], got[:100])

    def test_default_hash_is_the_methods_own_as_in_route(self):
        for method in hashspace.methods():
            with self.subTest(placement=method):
                keys = keys_for("xxh3", 300)
                view = hashspace.View(MEMBERS, placement=method)
                self.assertEqual(view.hash_name, hashspace.method_info(method).default_hash)
                rows = route(keys, cli_members(MEMBERS), method)
                self.assertEqual(view.owners(keys), [r[1] for r in rows])

    def test_siphash_secret_agrees_with_hash_key(self):
        secret = bytes(range(16))
        keys = keys_for("siphash", 500)
        view = hashspace.View(MEMBERS, placement="jump", hash="siphash", secret=secret)
        rows = route(keys, cli_members(MEMBERS), "jump", "siphash", secret_hex=secret.hex())
        self.assertEqual(view.owners(keys), [r[1] for r in rows])
        unkeyed = hashspace.View(MEMBERS, placement="jump", hash="siphash")
        self.assertNotEqual(view.owners(keys), unkeyed.owners(keys))

    def test_self_column_matches_owns(self):
        keys = keys_for("xxh3", 500)
        names = list(MEMBERS)
        view = hashspace.View(names)
        for me in names[:3]:
            rows = route(keys, names, self_name=me)
            self.assertEqual([view.owns(me, k) for k in keys], [r[2] == "yes" for r in rows])

    def test_consumer_default_is_route_over_zero_padded_members(self):
        for n in (3, 12):
            names = ["%02d" % i if n > 10 else str(i) for i in range(n)]
            msgs = [("message %d" % k).encode() for k in range(N_KEYS)]
            rows = route([m.decode() for m in msgs], names)
            for i in range(n):
                c = hashspace.Consumer(i, n)
                with self.subTest(n=n, i=i):
                    self.assertEqual(c.should_I_process_these(msgs),
                                     [r[1] == names[i] for r in rows])

    def test_consumer_default_names_for_every_method_agree_with_route(self):
        n = 11
        msgs = ["message %d" % k for k in range(500)]
        for method in hashspace.methods():
            names = hashspace.consumer.member_names(n, method)
            rows = route(msgs, names, method)
            for i in (0, 1, 10):
                c = hashspace.Consumer(i, n, placement=method)
                with self.subTest(placement=method, i=i):
                    self.assertEqual(c.name, names[i])
                    self.assertEqual(c.should_I_process_these(msgs),
                                     [r[1] == names[i] for r in rows])

    def test_consumer_with_named_members(self):
        names = ["hub-c", "hub-a", "hub-b"]  # consumer 0 is hub-c
        msgs = ["message %d" % k for k in range(300)]
        rows = route(msgs, names)
        for i, name in enumerate(names):
            c = hashspace.Consumer(i, 3, names=names)
            self.assertEqual(c.should_I_process_these(msgs), [r[1] == name for r in rows])
            self.assertEqual([c.should_I_process_this(m) for m in msgs],
                             [r[1] == name for r in rows])
            self.assertEqual(c.owners_of(msgs[:20]), [names.index(r[1]) for r in rows[:20]])

    def test_str_and_bytes_keys_are_the_same_key(self):
        view = hashspace.View(MEMBERS, placement="jump")
        keys = ["café-%d" % i for i in range(200)]
        self.assertEqual(view.owners(keys), view.owners([k.encode() for k in keys]))
        rows = route(keys, cli_members(MEMBERS), "jump")
        self.assertEqual(view.owners(keys), [r[1] for r in rows])


if __name__ == "__main__":
    unittest.main()
