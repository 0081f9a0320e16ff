#!/usr/bin/python3
"""gendocs.py - the manual pages and the bash completion of hashspace,
generated from the built command so that they cannot drift from it.

    gendocs.py man HASHSPACE OUTDIR      OUTDIR/man1/hashspace.1, hashspace-COMMAND.1,
                                         OUTDIR/man5/hashspace.conf.5, OUTDIR/man3/libhashspace.3
    gendocs.py completion HASHSPACE OUT  the bash completion script

The sources, one each:
- the commands and their summaries: `hashspace --help` (the command table,
  src/cli/commands.h);
- each command's synopsis, description, options, exit status and examples:
  `hashspace COMMAND --help`;
- the keys of hashspace.conf(5): `hashspace hub --help-keys`, the option
  table of src/hub/config.c that `hub --help` prints;
- libhashspace(3): the public headers, include/hashspace/*.h (their comments
  and their HS_EXTERN declarations);
- the prose no --help holds (the hub's consumers and systemd, the INI
  format, the tour): docs/man/sections.roff, one file for every page.
The build runs this (CMakeLists.txt, target `man`); so does
tests/integration/test_operator_kit.py, which checks the result.
"""
import datetime
import glob
import os
import re
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
PROSE = os.environ.get("HS_MAN_PROSE", os.path.join(SOURCE, "docs", "man", "sections.roff"))
HEADERS = os.path.join(SOURCE, "include", "hashspace")
# The order of the sections of a page; a prose section of another name goes
# right after OPTIONS.
ORDER = ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "*", "EXIT STATUS",
         "ENVIRONMENT", "FILES", "EXAMPLES", "NOTES", "SEE ALSO"]


def run(binary, *args):
    out = subprocess.run([binary] + list(args), capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("gendocs: %s %s failed: %s" % (binary, " ".join(args), out.stderr.strip()))
    return out.stdout


# ---- reading --help ----

def blocks(text):
    """The blank-line separated blocks of a text, as lists of lines."""
    out, cur = [], []
    for line in text.rstrip("\n").split("\n"):
        if line.strip():
            cur.append(line.rstrip())
        elif cur:
            out.append(cur)
            cur = []
    if cur:
        out.append(cur)
    return out


def is_header(line):
    return not line.startswith(" ") and line.endswith(":")


def parse_items(lines):
    """Two-column lines "  LEFT  help" with indented continuations ->
    [(left, help)]. The help column is the indent of the continuations (or
    the most common end of a run of two spaces), so that a left column that
    fills it ("--wait-subscribers N wait ...") still splits there."""
    starts = [l for l in lines if len(l) - len(l.lstrip()) == 2]
    cols = [len(l) - len(l.lstrip()) for l in lines if len(l) - len(l.lstrip()) > 2]
    for l in starts:
        m = re.match(r"^  (\S.*?)( {2,})\S", l)
        if m:
            cols.append(2 + len(m.group(1)) + len(m.group(2)))
    col = max(set(cols), key=cols.count) if cols else 0
    items = []
    for l in lines:
        indent = len(l) - len(l.lstrip())
        if indent > 2 and items:
            items[-1][1].append(l.strip())
            continue
        if col and len(l) > col and l[col - 1] == " " and l[:col].strip():
            left, help_ = l[:col].strip(), l[col:].strip()
        else:
            m = re.match(r"^\s*(\S.*?)(?: {2,}(.*))?$", l)
            left, help_ = m.group(1), m.group(2) or ""
        items.append([left, [help_] if help_ else []])
    return [(left, " ".join(h)) for left, h in items]


def parse_help(text):
    """A command's --help -> {usage, description, groups, exit, examples}."""
    page = {"usage": [], "description": [], "groups": [], "exit": [], "examples": []}
    for block in blocks(text):
        if block[0].startswith("usage:"):
            for line in block:
                line = re.sub(r"^usage:\s*", "", line).strip()
                if line.startswith("hashspace"):
                    page["usage"].append(line)
                else:
                    page["usage"][-1] += " " + line
            continue
        if block[0].startswith("Example"):
            page["examples"].extend(l[2:] if l.startswith("  ") else l for l in block[1:])
            continue
        if any(l.startswith("  ") for l in block):
            # Option lines, in groups under "Title:" lines or in one untitled.
            title, lines = None, []
            for line in block + ["END:"]:
                if is_header(line):
                    if lines:
                        page["groups"].append((title, parse_items(lines)))
                    title, lines = line[:-1], []
                else:
                    lines.append(line)
            continue
        para = " ".join(l.strip() for l in block)
        if para.startswith("Exit status"):
            page["exit"].append(para)
        else:
            page["description"].append(para)
    return page


def commands(binary):
    """[(name, summary)] from `hashspace --help`."""
    out = run(binary, "--help")
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in block.splitlines():
        name, summary = line.strip().split(None, 1)
        rows.append((name, summary.strip()))
    return rows


# ---- writing roff ----

def esc(text):
    """Plain text -> roff text: backslashes, and every '-' a minus sign
    (options and commands are copied from manual pages)."""
    return text.replace("\\", "\\e").replace("-", "\\-")


OPTION = re.compile(r"(?<![\w/.=-])(--?[a-zA-Z][\w-]*)")


def prose(text):
    """A sentence with its options in bold."""
    out, at = [], 0
    for m in OPTION.finditer(text):
        out.append(esc(text[at:m.start()]))
        out.append("\\fB%s\\fR" % esc(m.group(1)))
        at = m.end()
    out.append(esc(text[at:]))
    return "".join(out)


def left_column(left):
    out, at = [], 0
    for m in re.finditer(r"--?[a-zA-Z][\w-]*|[A-Z][A-Z0-9_:]*(?![a-z])", left):
        out.append(esc(left[at:m.start()]))
        word = m.group(0)
        out.append(("\\fB%s\\fR" if word.startswith("-") else "\\fI%s\\fR") % esc(word))
        at = m.end()
    out.append(esc(left[at:]))
    return "".join(out)


def fill(text):
    """Wrap a roff paragraph into source lines none of which starts a request."""
    lines = textwrap.wrap(text, 78, break_long_words=False, break_on_hyphens=False)
    return "\n".join("\\&" + l if l[:1] in ".'" else l for l in lines)


def example_lines(lines):
    return ".RS\n.EX\n%s\n.EE\n.RE" % "\n".join(
        ("\\&" if l[:1] in ".'" else "") + esc(l) for l in lines)


def help_sentence(text):
    """An option's help as --help gives it (which may start with a value
    written as typed, "uniform (default) or zipf")."""
    return "print this help and exit" if text == "this text" else text


def synopsis(usage):
    out = []
    for line in usage:
        words = line.split()
        n = 2 if len(words) > 1 and not words[1].startswith(("-", "[")) \
            and not words[1].isupper() else 1
        out.append('.SY "%s"\n%s\n.YS' % (esc(" ".join(words[:n])),
                                           fill(left_column(" ".join(words[n:])))))
    return "\n".join(out)


class Page:
    def __init__(self, name, section, title):
        self.name, self.section, self.title = name, section, title
        self.sections = {}

    def add(self, heading, body):
        body = body.strip("\n")
        if heading in self.sections:
            self.sections[heading] += "\n.PP\n" + body
        else:
            self.sections[heading] = body

    def render(self, date, version):
        def rank(heading):
            return ORDER.index(heading) if heading in ORDER else ORDER.index("*")
        keys = sorted(self.sections, key=lambda h: (rank(h), list(self.sections).index(h)))
        out = ['.\\" %s.%s - generated by scripts/gendocs.py from the --help of the command,'
               % (self.name, self.section),
               '.\\" the public headers and docs/man/sections.roff: edit those, not this.',
               '.TH %s %s %s "hashspace %s" "%s"' % (esc(self.name.upper()), self.section, date,
                                                    version, self.title)]
        for heading in keys:
            out.append('.SH "%s"' % heading if " " in heading else ".SH %s" % heading)
            out.append(self.sections[heading])
        return "\n".join(out) + "\n"


def read_prose():
    """docs/man/sections.roff: `.\\" @@ PAGE SECTION` lines, each starting the
    roff text of that section of that page (added after what --help gives)."""
    pages, key = {}, None
    with open(PROSE) as f:
        for line in f:
            m = re.match(r'^\.\\" @@ (\S+) (.+?)\s*$', line)
            if m:
                key = (m.group(1), m.group(2))
                pages.setdefault(key, [])
            elif key is not None:
                pages[key].append(line.rstrip("\n"))
    return {k: "\n".join(v).strip("\n") for k, v in pages.items()}


def options_section(groups):
    out = []
    for title, items in groups:
        if title is not None and len(groups) > 1:
            out.append(".SS %s" % esc(title))
        for left, help_ in items:
            out.append(".TP\n%s\n%s" % (left_column(left), fill(prose(help_sentence(help_)))))
    return "\n".join(out)


def command_page(binary, name, summary, see_also):
    page = Page("hashspace-" + name, 1, "User Commands")
    text = run(binary, name, "--help")
    h = parse_help(text)
    page.add("NAME", "hashspace\\-%s \\- %s" % (esc(name), esc(summary)))
    page.add("SYNOPSIS", synopsis(h["usage"]))
    page.add("DESCRIPTION", "\n.PP\n".join(fill(prose(p)) for p in h["description"]))
    if h["groups"]:
        page.add("OPTIONS", options_section(h["groups"]))
    if h["exit"]:
        page.add("EXIT STATUS", "\n.PP\n".join(fill(prose(p)) for p in h["exit"]))
    if h["examples"]:
        page.add("EXAMPLES", example_lines(h["examples"]))
    page.see_also = see_also
    return page


def main_page(binary, cmds):
    page = Page("hashspace", 1, "User Commands")
    h = parse_help(run(binary, "--help"))
    page.add("NAME", "hashspace \\- %s" % esc(h["description"][0].rstrip(".")[0].lower()
                                              + h["description"][0].rstrip(".")[1:]))
    page.add("SYNOPSIS", '.SY hashspace\n.I COMMAND\n.RI [ OPTIONS ...]\n.YS\n'
             '.SY hashspace\n.B help\n.RI [ COMMAND ]\n.YS\n'
             '.SY hashspace\n.BR \\-\\-help " | " \\-\\-version\n.YS')
    page.add("COMMANDS", "\n".join(".TP\n.BR hashspace\\-%s (1)\n%s" % (
        esc(n), fill(prose(s[:1].upper() + s[1:] + "."))) for n, s in cmds))
    return page


def conf_page(binary):
    """hashspace.conf(5): the [hub] keys and the [consumer NAME] keys, from
    the hub's option table."""
    page = Page("hashspace.conf", 5, "File Formats")
    page.add("NAME", "hashspace.conf \\- the configuration file of a hashspace hub")
    page.add("SYNOPSIS", ".IB /etc/hashspace/ NAME .ini\n.br\n"
             ".B hashspace hub \\-\\-config\n.I FILE")
    rows = []
    for line in run(binary, "hub", "--help-keys").splitlines():
        name, hub_key, section_key, group, arg, help_ = line.split("\t")
        rows.append(dict(name=name, hub=hub_key, section=section_key, group=group,
                         arg=arg, help=help_))
    hub, groups = [], {}
    for r in rows:
        if r["hub"] == "-":
            continue
        if r["group"] not in groups:
            groups[r["group"]] = []
            hub.append(".SS %s" % esc(r["group"]))
        hub.append(".TP\n\\fB%s\\fR = \\fI%s\\fR\n%s" % (esc(r["hub"]), esc(r["arg"]),
                                                        fill(prose(help_sentence(r["help"])))))
    page.add("HUB SECTION", "The keys of the \\fB[hub]\\fR section are the long options of "
             "\\fBhashspace hub\\fR (see \\fBhashspace\\-hub\\fR(1)), "
             "\\fB\\-\\fR and \\fB_\\fR alike:\n" + "\n".join(hub))
    section = []
    for r in rows:
        if r["section"] == "-":
            continue
        if r["hub"] == "-":
            section.append(r["section"])
    page.consumer_only = section
    items = []
    for r in rows:
        if r["section"] != "-" and r["hub"] != "-":
            items.append(".TP\n\\fB%s\\fR = \\fI%s\\fR\n%s" % (
                esc(r["section"]), esc(r["arg"]),
                fill(prose("As %s in [hub]: %s" % (r["hub"], r["help"])))))
    page.consumer_defaults = "\n".join(items)
    return page


# ---- libhashspace(3) from the headers ----

def comment_text(lines):
    """A /* ... */ comment's lines -> roff: paragraphs filled, lines indented
    further than the comment's text kept as they are."""
    body = []
    for l in lines:
        l = re.sub(r"^\s*/?\*+/?", "", l.rstrip())
        l = re.sub(r"\*/\s*$", "", l)
        body.append(l[1:] if l.startswith(" ") else l)
    out, para, pre = [], [], []

    def flush():
        if para:
            out.append(fill(prose(" ".join(para))))
            para.clear()
        if pre:
            out.append(".RS\n.EX\n%s\n.EE\n.RE" % "\n".join(esc(p) for p in pre))
            pre.clear()
    for l in body:
        if not l.strip():
            flush()
            if out and out[-1] != ".PP":
                out.append(".PP")
        elif l.startswith("  "):
            if para:
                flush()
            pre.append(l)
        else:
            if pre:
                flush()
            para.append(l.strip())
    flush()
    while out and out[-1] == ".PP":
        out.pop()
    while out and out[0] == ".PP":
        out.pop(0)
    return "\n".join(out)


def header_section(path):
    """One header -> its roff: the opening comment, its X-macro tables, its
    types and constants (as code) and each HS_EXTERN function with the
    comment above it."""
    with open(path) as f:
        lines = f.read().split("\n")
    out, i, comment, first = [], 0, None, True
    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if s.startswith("/*"):
            j = i
            while "*/" not in lines[j]:
                j += 1
            comment = lines[i:j + 1]
            if first:
                out.append(comment_text(comment))
                first, comment = False, None
            i = j + 1
            continue
        if s.startswith("HS_EXTERN"):
            j = i
            while not lines[j].rstrip().endswith(";"):
                j += 1
            decl = " ".join(l.strip() for l in lines[i:j + 1]).replace("HS_EXTERN ", "")
            # Left-adjusted: a long prototype is not stretched to the margin.
            out.append(".PP\n.ad l\n.B \"%s\"\n.ad" % esc(decl).replace('"', '\\(dq'))
            if comment:
                out.append(".RS\n%s\n.RE" % comment_text(comment))
            comment = None
            i = j + 1
            continue
        m = re.match(r"#define (HS_[A-Z_]+_MAP)\(X\)", s)
        if m:
            j, rows = i + 1, []
            while lines[j - 1].rstrip().endswith("\\"):
                x = re.match(r'\s*X\((\w+),\s*(-?\w+),\s*"(.*)"\)', lines[j])
                if x:
                    rows.append(x.groups())
                j += 1
            for a, b, text in rows:
                if m.group(1) == "HS_ERRNO_MAP":
                    term = "\\fBHS_E%s\\fR (%s)" % (esc(a), esc(b))
                elif m.group(1) == "HS_HASH_MAP":
                    term = "\\fB%s\\fR (\\fBHS_HASH_%s\\fR)" % (esc(a), esc(b))
                else:
                    term = "\\fB%s\\fR" % esc(a)
                out.append(".TP\n%s\n%s" % (term, fill(prose(text))))
            comment = None
            i = j
            continue
        public_type = re.match(r"(typedef|enum \{|#define HS_[A-Z])", s) and "HS__" not in s \
            and not re.match(r"#define HS(ASHSPACE)?_[A-Z_]+_H$", s) \
            and not re.match(r"typedef enum hs_\w+ \{", s) and s != "#define HS_OK HS_EOK"
        if public_type:
            j = i
            if s.endswith("{"):
                while not re.match(r"^\}.*;", lines[j]):
                    j += 1
            code = lines[i:j + 1]
            if comment:
                out.append(".PP\n" + comment_text(comment))
            out.append(".PP\n.RS\n.EX\n%s\n.EE\n.RE" % "\n".join(esc(c) for c in code))
            comment = None
            i = j + 1
            continue
        if s.startswith("typedef enum"):
            while not lines[i].startswith("}"):
                i += 1
        if s == "" or s.startswith("#"):
            comment = None if s == "" else comment
        i += 1
    return "\n".join(out)


def library_page():
    page = Page("libhashspace", 3, "Library Functions Manual")
    page.add("NAME", "libhashspace \\- consistent hashing and placement library")
    order = ["version.h", "error.h", "hash.h", "place.h", "view.h", "consumer.h"]
    names = sorted((os.path.basename(p) for p in glob.glob(os.path.join(HEADERS, "*.h"))),
                   key=lambda n: (order.index(n) if n in order else len(order), n))
    names = [n for n in names if n != "export.h"]
    page.add("SYNOPSIS", "\n".join(".B #include <hashspace/%s>\n.br" % n for n in names) +
             "\n.PP\n.B cc\n.I file.c\n.B $(pkg\\-config \\-\\-cflags \\-\\-libs hashspace)")
    for n in names:
        page.add(esc("<hashspace/%s>" % n), header_section(os.path.join(HEADERS, n)))
    page.headers = names
    return page


def see_also(pages, page, extra):
    refs = [(p.name, p.section) for p in pages if p is not page]
    text = ",\n".join(".BR %s (%s)" % (esc(n), s) for n, s in refs + extra)
    return text


def man(binary, outdir):
    date = datetime.datetime.fromtimestamp(
        int(os.environ.get("SOURCE_DATE_EPOCH", os.path.getmtime(PROSE))),
        datetime.timezone.utc).strftime("%Y-%m-%d")
    version = run(binary, "--version").split()[-1]
    prose_sections = read_prose()
    cmds = commands(binary)
    pages = [main_page(binary, cmds)]
    pages += [command_page(binary, n, s, None) for n, s in cmds]
    conf = conf_page(binary)
    pages.append(conf)
    lib = library_page()
    pages.append(lib)
    used = set()
    for page in pages:
        for (name, heading), text in prose_sections.items():
            if name == page.name:
                page.add(heading, text)
                used.add((name, heading))
    unused = set(prose_sections) - used
    if unused:
        sys.exit("gendocs: %s: sections of pages that do not exist: %s" % (
            PROSE, ", ".join("%s %s" % k for k in sorted(unused))))
    # The consumer section: every key of [consumer NAME] must be described.
    body = conf.sections.get("CONSUMER SECTIONS", "")
    for key in conf.consumer_only:
        if not re.search(r"^\\fB%s\\fR = " % re.escape(esc(key)), body, re.M):
            sys.exit("gendocs: %s: [consumer NAME] key %s is not described under "
                     "hashspace.conf CONSUMER SECTIONS" % (PROSE, key))
    conf.sections["CONSUMER SECTIONS"] = body + "\n" + conf.consumer_defaults
    extra = {"hashspace-hub": [("systemd.service", 5), ("sd_notify", 3)],
             "libhashspace": [("pkg-config", 1)]}
    for page in pages:
        page.add("SEE ALSO", see_also(pages, page, extra.get(page.name, [])))
        d = os.path.join(outdir, "man%d" % page.section)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "%s.%d" % (page.name, page.section)), "w") as f:
            f.write(page.render(date, version))


# ---- bash completion ----

def options_of(binary, cmd):
    """The long options of a command: the first column of its --help."""
    found = []
    for group in parse_help(run(binary, cmd, "--help"))["groups"]:
        for left, _ in group[1]:
            for o in re.findall(r"--[a-z][a-z0-9-]*", left):
                if o not in found:
                    found.append(o)
    return found


def completion(binary, out):
    cmds = [n for n, _ in commands(binary)]
    route = parse_help(run(binary, "route", "--help"))["groups"]
    choices = {}
    for _, items in route:
        for left, help_ in items:
            if left.split()[0] in ("--hash", "--placement"):
                choices[left.split()[0]] = re.sub(r"\(.*", "", help_).replace(",", " ").split()
    cases = []
    for cmd in cmds:
        cases.append("    %s) opts=\"%s\" ;;" % (cmd, " ".join(options_of(binary, cmd))))
    text = COMPLETION % {
        "commands": " ".join(cmds), "cases": "\n".join(cases),
        "hashes": " ".join(choices["--hash"]), "placements": " ".join(choices["--placement"]),
    }
    with open(out, "w") as f:
        f.write(text)


COMPLETION = r"""# bash completion for hashspace(1), generated by scripts/gendocs.py from the
# command table (`hashspace --help`) and each command's --help: edit those.
_hashspace()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local cmd=${COMP_WORDS[1]:-} opts=
    COMPREPLY=()
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "%(commands)s help --help --version" -- "$cur"))
        return 0
    fi
    if [ "$cmd" = help ]; then
        [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "%(commands)s" -- "$cur"))
        return 0
    fi
    case $prev in
    --config | --check-config | --key-file | --python)
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
        ;;
    --out)
        COMPREPLY=($(compgen -d -- "$cur"))
        return 0
        ;;
    --log-level)
        COMPREPLY=($(compgen -W "debug info warn error" -- "$cur"))
        return 0
        ;;
    --on-full)
        COMPREPLY=($(compgen -W "block drop" -- "$cur"))
        return 0
        ;;
    --dist)
        COMPREPLY=($(compgen -W "uniform zipf" -- "$cur"))
        return 0
        ;;
    --hash)
        COMPREPLY=($(compgen -W "%(hashes)s" -- "$cur"))
        return 0
        ;;
    --placement)
        COMPREPLY=($(compgen -W "%(placements)s" -- "$cur"))
        return 0
        ;;
    esac
    if [ "$cmd" = bench ] && [ "$COMP_CWORD" -eq 2 ] && [[ $cur != -* ]]; then
        COMPREPLY=($(compgen -W "hashes placement peers all" -- "$cur"))
        return 0
    fi
    case $cmd in
%(cases)s
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
    return 0
}
complete -F _hashspace hashspace
"""


def main(argv):
    if len(argv) != 4 or argv[1] not in ("man", "completion"):
        sys.exit(__doc__.split("\n\n")[1])
    if argv[1] == "man":
        man(argv[2], argv[3])
    else:
        completion(argv[2], argv[3])


if __name__ == "__main__":
    main(sys.argv)
