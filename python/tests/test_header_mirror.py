"""The ctypes mirrors of C structs in hashspace/_lib.py match the public
headers field for field, so that a field added in C is noticed here."""

import os
import re
import unittest

from support import SOURCE_DIR, hashspace  # noqa: F401  (imports the package)
from hashspace import _lib

INCLUDE = os.path.join(SOURCE_DIR, "include", "hashspace")


def struct_fields(header, struct):
    with open(os.path.join(INCLUDE, header)) as f:
        text = f.read()
    m = re.search(r"typedef struct %s \{(.*?)\} %s;" % (struct, struct), text, re.S)
    if m is None:
        raise AssertionError("struct %s not found in %s" % (struct, header))
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    names = []
    for decl in body.split(";"):
        decl = decl.strip()
        if decl:
            names.append(re.match(r".*?(\w+)\s*(\[[^\]]*\])?$", decl, re.S).group(1))
    return names


class Mirrors(unittest.TestCase):
    def mirrored(self, cls):
        return [f[0] for f in cls._fields_ if not f[0].startswith("_")]

    def test_place_opts(self):
        self.assertEqual(struct_fields("place.h", "hs_place_opts"), _lib.PLACE_OPTS_FIELDS)
        self.assertEqual(self.mirrored(_lib.PlaceOpts), _lib.PLACE_OPTS_FIELDS)

    def test_place_info(self):
        self.assertEqual(struct_fields("place.h", "hs_place_info"), self.mirrored(_lib.PlaceInfo))

    def test_hasher(self):
        self.assertEqual(struct_fields("hash.h", "hs_hasher"), self.mirrored(_lib.Hasher))

    def test_view_member(self):
        self.assertEqual(struct_fields("view.h", "hs_view_member"),
                         self.mirrored(_lib.ViewMember))

    def test_error_names_cover_the_header(self):
        with open(os.path.join(INCLUDE, "error.h")) as f:
            codes = re.findall(r"X\((\w+), (-?\d+),", f.read())
        for name, value in codes:
            self.assertEqual(_lib.hs_err_name(int(value)).decode(), name)
            if name not in ("OK",):
                err = hashspace.errors.error(int(value))
                self.assertTrue(str(err))


if __name__ == "__main__":
    unittest.main()
