#!/usr/bin/env python3
"""Generates lib/codec_presence.c: which scalar fields keep a zero value after protobuf decoding,
and which message fields are Go value structs (always in upstream's JSON).

Go's gogo-protobuf marshaller (k8s.io/api generated.pb.go) writes every non-pointer scalar field
of a Go struct (string, int, bool) even when it holds the zero value, and pointer fields
(*int32, *bool, *string) only when they are non-nil. protobuf-c marks everything it reads as
present, so a message decoded from Go protobuf carries `generation: 0`, `paused: false`,
`nodeName: ""` that upstream's JSON (`omitempty` on those value fields) never shows. The codec
therefore clears a zero-valued scalar after decoding unless the Go field is a pointer or its json
tag lacks omitempty. This script reads those facts from the upstream Go types and writes, per
proto message (= Go struct), the scalar fields whose zero value is kept.

Second table: the fields encoding/json writes even when they were never set. Message
fields whose Go type is a struct value, not a pointer (Container.resources, Service.status,
PodTemplateSpec.metadata): encoding/json never omits a struct (omitempty does not apply to
structs), so upstream's JSON shows `resources: {}`, `status: {loadBalancer: {}}`, `metadata:
{creationTimestamp: null}`; Time and MicroTime values too, whose zero value Go writes as null
(`lastProbeTime: null`); left out are inline embeddings, `json:"-"`, and the other special types.
And scalar value fields without omitempty (PodDisruptionBudgetStatus.currentHealthy): written
as 0, "" or false. And slices without omitempty (ClusterRole.rules, EndpointSlice.endpoints):
nil after protobuf decoding, so written as null when empty.

Inputs: our schema (proto/k8s/**/generated.proto; k8c_table.proto is ours, not upstream, and is
skipped) and the Go sources of k8s.io/api and k8s.io/apimachinery at the schema's tag
(v0.32.13). A source is a checkout directory, or a git directory with a tag: PATH@REF (for
example the bare snapshots the `fetch` tool brings: /work/.mirror/kubernetes+api/repo@v0.32.13).
Run by hand with /usr/bin/python3 after the schema changes (the upstream sources are not part of
the build):

  gen_pointers.py <repo> <k8s.io/api source> <k8s.io/apimachinery source>           print
  gen_pointers.py <repo> <k8s.io/api source> <k8s.io/apimachinery source> --update  rewrite
  gen_pointers.py <repo> <k8s.io/api source> <k8s.io/apimachinery source> --check   exit 1 if stale
"""
import os
import re
import subprocess
import sys

OUT = os.path.join("lib", "codec_presence.c")
SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
           "fixed32", "fixed64", "sfixed32", "sfixed64", "double", "float"}
# Messages the codec converts by hand (lib/codec.c special_types): the presence rule is not
# applied inside them, so they are not in the table. Go types with custom (un)marshalling.
SPECIAL = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs",
    "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "k8s.io.apimachinery.pkg.api.resource.QuantityValue",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
    "k8s.io.apimachinery.pkg.runtime.RawExtension",
    "k8s.io.api.authentication.v1.ExtraValue",
    "k8s.io.api.authorization.v1.ExtraValue",
    "k8s.io.api.certificates.v1.ExtraValue",
}


class Source:
    """Reads files of a checkout directory, or of a git directory at a ref (PATH@REF)."""

    def __init__(self, spec):
        path, _, ref = spec.partition("@")
        self.path, self.ref = path, ref
        self.git = bool(ref) or (os.path.isdir(os.path.join(path, "objects")) and
                                 os.path.exists(os.path.join(path, "HEAD")))
        if self.git and not self.ref:
            self.ref = "HEAD"
        self.commit = None
        if self.git:
            self.commit = self._git("rev-parse", self.ref + "^{commit}").strip()
        elif os.path.isdir(os.path.join(path, ".git")):
            try:
                self.commit = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"],
                                             capture_output=True, text=True,
                                             check=True).stdout.strip()
            except (OSError, subprocess.CalledProcessError):
                self.commit = None

    def _git(self, *args):
        return subprocess.run(["git", "--git-dir", self.path] + list(args), capture_output=True,
                              text=True, check=True).stdout

    def describe(self):
        if self.git:
            return "%s (%s)" % (self.ref, self.commit)
        return "checkout" + (" (%s)" % self.commit if self.commit else "")

    def go_files(self, folder):
        """Non-test .go files directly in folder."""
        if self.git:
            names = self._git("ls-tree", "--name-only", self.ref + ":" + folder).split()
        else:
            d = os.path.join(self.path, folder)
            names = sorted(os.listdir(d)) if os.path.isdir(d) else []
        return [folder + "/" + n for n in names if n.endswith(".go") and not n.endswith("_test.go")]

    def read(self, path):
        if self.git:
            return self._git("show", self.ref + ":" + path)
        with open(os.path.join(self.path, path)) as f:
            return f.read()


def parse_proto(path):
    """(package, {message: [(label, type, name)]}) for the top-level messages of a file."""
    with open(path) as f:
        text = f.read()
    msgs = {}
    for m in re.finditer(r"^message (\w+) \{(.*?)^\}", text, re.S | re.M):
        msgs[m.group(1)] = re.findall(r"^\s+(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=",
                                      m.group(2), re.M)
    return re.search(r"^package ([\w.]+);", text, re.M).group(1), msgs


FIELD_RE = re.compile(r"^\s*(\w+)\s+(\S+)\s+`([^`]*)`")
EMBED_RE = re.compile(r"^\s*([\w.*]+)\s+`([^`]*)`")
TAG_RE = re.compile(r'(\w+):"([^"]*)"')


def parse_go_structs(text):
    """{struct name: {proto field name: (go type, json tag or None)}} for fields with a
    protobuf tag."""
    structs = {}
    for m in re.finditer(r"^type (\w+) struct \{\n(.*?)^\}", text, re.S | re.M):
        fields = {}
        for line in m.group(2).split("\n"):
            fm = FIELD_RE.match(line)
            if fm is not None:
                go_type, tag = fm.group(2), fm.group(3)
            else:
                em = EMBED_RE.match(line)  # an embedded struct: `metav1.ObjectMeta `json:...``
                if em is None:
                    continue
                go_type, tag = em.group(1), em.group(2)
            tags = dict(TAG_RE.findall(tag))
            pb = tags.get("protobuf")
            if pb is None:
                continue
            name = [p[5:] for p in pb.split(",") if p.startswith("name=")]
            if not name and fm is None:
                # an embedded struct without name= (EphemeralContainerCommon): the proto
                # field is the type's name, lower camel case
                base = go_type.split(".")[-1].lstrip("*")
                name = [base[:1].lower() + base[1:]]
            if name:
                fields[name[0]] = (go_type, tags.get("json"))
        structs[m.group(1)] = fields
    return structs


def go_location(repo, proto_path):
    """(which source, Go package folder) of one of our generated.proto files."""
    rel = os.path.relpath(os.path.dirname(proto_path), os.path.join(repo, "proto", "k8s"))
    top, _, rest = rel.partition(os.sep)
    return top, rest.replace(os.sep, "/")


def keeps_zero(go_type, json_tag):
    """Whether upstream JSON shows a zero value of this Go field: a pointer (nil is not sent, so
    a decoded zero is an explicit one) or a json tag without omitempty."""
    if go_type.startswith("*"):
        return True
    if json_tag is None:
        return True  # no json tag: encoding/json writes the field always
    name, *opts = json_tag.split(",")
    if name == "-":
        return False  # never in JSON
    return "omitempty" not in opts and "omitzero" not in opts  # omitzero: Go 1.24 tag


def always_written(go_type, json_tag):
    """Whether encoding/json writes this scalar field even when it holds the zero value: a value
    field (not a pointer) whose json tag lacks omitempty."""
    return not go_type.startswith("*") and keeps_zero(go_type, json_tag)


def resolve(pkg, typ):
    """The full proto name of a field type written in package pkg (".a.b.C" or "C")."""
    return typ[1:] if typ.startswith(".") else (typ if "." in typ else pkg + "." + typ)


# Special types whose zero value encoding/json writes as null (their MarshalJSON), so a value
# field of one is always in upstream's JSON: `lastProbeTime: null`.
NULL_WHEN_ZERO = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
}


def is_value_struct(go_type, json_tag, proto_type):
    """Whether a message field is a Go struct value that encoding/json always writes."""
    if go_type.startswith(("*", "[", "map[")):
        return False
    if proto_type in SPECIAL and proto_type not in NULL_WHEN_ZERO:
        return False
    if json_tag is not None:
        name, *opts = json_tag.split(",")
        if name == "-" or "inline" in opts or "omitzero" in opts:
            return False
    return True


# Messages the API server builds in memory and never reads back from protobuf: their slices are
# made non-nil there (`"items": []` in an empty list, `"resources": []` in discovery), so the
# null rule below does not hold for them.
BUILT_IN_MEMORY = re.compile(r"List$|^k8s\.io\.api\.apidiscovery\.|"
                             r"^k8s\.io\.apimachinery\.pkg\.apis\.meta\.v1\."
                             r"(APIGroup|APIResourceList|APIVersions|RootPaths)$")


def is_null_slice(full, go_type, json_tag):
    """Whether encoding/json writes this repeated field as null when it is empty: a Go slice or
    map without omitempty, nil after protobuf decoding (`rules: null` in a ClusterRole that only
    aggregates, `endpoints: null` in an EndpointSlice without endpoints)."""
    if BUILT_IN_MEMORY.search(full) or not go_type.startswith(("[", "map[")):
        return False
    return json_tag is not None and keeps_zero(go_type, json_tag)


def collect(repo, sources):
    """([(message full name, [kept field names])], [(message full name, [value struct fields])])
    sorted by name: the messages that have singular scalar fields, the messages that have value
    struct fields; and a list of problems."""
    table, value_table, problems = [], [], []
    protos = []
    for root, _, files in os.walk(os.path.join(repo, "proto", "k8s")):
        for fn in files:
            if fn == "generated.proto":
                protos.append(os.path.join(root, fn))
    for path in sorted(protos):
        pkg, msgs = parse_proto(path)
        if not msgs:
            continue
        top, folder = go_location(repo, path)
        src = sources[top]
        structs = {}
        for go in src.go_files(folder):
            structs.update(parse_go_structs(src.read(go)))
        for name in sorted(msgs):
            full = pkg + "." + name
            if full in SPECIAL:
                continue
            scalars = [f for f in msgs[name] if f[0] != "repeated" and f[1] in SCALARS]
            subs = [f for f in msgs[name] if f[0] != "repeated" and f[1] not in SCALARS]
            if not scalars and not subs and not any(f[0] == "repeated" for f in msgs[name]):
                continue  # nothing to clear (core/v1 List is `type List metav1.List`)
            if name not in structs:
                if scalars:
                    problems.append("%s: no Go struct %s in %s/%s" % (full, name, top, folder))
                continue
            values = []
            for label, typ, field in msgs[name]:
                go = structs[name].get(field)
                if go is None:
                    if typ not in SCALARS and label != "repeated":
                        problems.append("%s.%s: no Go field with protobuf name=%s" %
                                        (full, field, field))
                    continue  # (scalars: reported below)
                if label == "repeated":
                    if is_null_slice(full, *go):
                        values.append(field)
                elif (is_value_struct(go[0], go[1], resolve(pkg, typ)) if typ not in SCALARS
                      else always_written(*go)):
                    values.append(field)
            if values:
                value_table.append((full, values))
            if not scalars:
                continue
            keep = []
            for _, _, field in scalars:
                go = structs[name].get(field)
                if go is None:
                    problems.append("%s.%s: no Go field with protobuf name=%s" %
                                    (full, field, field))
                    continue
                if keeps_zero(*go):
                    keep.append(field)
            table.append((full, keep))
    return sorted(table), sorted(value_table), problems


def render(table, value_table, sources):
    n_keep = sum(len(k) for _, k in table)
    lines = [
        "/*",
        " * GENERATED by tests/integration/codec/gen_pointers.py from the Go types of",
        " *   k8s.io/api          %s" % sources["api"].describe(),
        " *   k8s.io/apimachinery %s" % sources["apimachinery"].describe(),
        " * and proto/k8s. Do not edit: rerun the script (see its header). This file holds upstream",
        " * facts only.",
        " *",
        " * For every proto message of proto/k8s that is an upstream Go struct and has singular",
        " * scalar fields (messages without any are not listed), the scalar fields",
        " * whose zero value upstream's JSON shows: Go pointer fields (*int32, *bool, *string: sent",
        " * over protobuf only when non-nil) and value fields whose json tag lacks omitempty. Every",
        " * other scalar field is a Go value field with omitempty, which Go's protobuf marshaller",
        " * writes even when zero; the codec clears such a zero after decoding protobuf (see",
        " * k8c_codec_go_zero_kept in codec.h). %d messages, %d kept fields." % (len(table),
                                                                              n_keep),
        " *",
        " * Then, per message, the fields encoding/json writes even when never set: Go struct",
        " * values (not pointers, not inline, not special types) and scalar value fields without",
        " * omitempty, which the codec writes unset as an empty message or the zero value; and",
        " * slices without omitempty (not of lists and discovery documents, which the API server",
        " * builds non-nil), nil after protobuf decoding, which the codec writes empty as null (see",
        " * k8c_codec_go_value_fields in codec.h). %d messages, %d fields." % (
            len(value_table), sum(len(v) for _, v in value_table)),
        " */",
        '#include "codec.h"',
        "",
        "#include <stdlib.h>",
        "#include <string.h>",
        "",
        "struct presence_entry {",
        "    const char *message;",
        "    const char *const *kept;   /* NULL-terminated; NULL: no singular scalar fields */",
        "    const char *const *always; /* NULL-terminated, or NULL */",
        "};",
        "",
        "static const char *const none[] = {NULL};",
        "",
        "/* clang-format off */",
        "static const struct presence_entry entries[] = {",
    ]

    def clist(names):
        return "(const char *const[]){%s, NULL}" % ", ".join('"%s"' % n for n in names)

    kept, always = dict(table), dict(value_table)
    for full in sorted(set(kept) | set(always)):
        k = "NULL" if full not in kept else clist(kept[full]) if kept[full] else "none"
        a = clist(always[full]) if full in always else "NULL"
        lines.append('    {"%s", %s, %s},' % (full, k, a))
    lines += [
        "};",
        "/* clang-format on */",
        "",
        "static int cmp_entry(const void *key, const void *elem)",
        "{",
        "    return strcmp(key, ((const struct presence_entry *)elem)->message);",
        "}",
        "",
        "static const struct presence_entry *find(const char *message)",
        "{",
        "    return bsearch(message, entries, sizeof(entries) / sizeof(entries[0]),"
        " sizeof(entries[0]),",
        "                   cmp_entry);",
        "}",
        "",
        "const char *const *k8c_codec_go_zero_kept(const char *message)",
        "{",
        "    const struct presence_entry *e = find(message);",
        "",
        "    return e != NULL ? e->kept : NULL;",
        "}",
        "",
        "const char *const *k8c_codec_go_value_fields(const char *message)",
        "{",
        "    const struct presence_entry *e = find(message);",
        "",
        "    return e != NULL ? e->always : NULL;",
        "}",
        "",
    ]
    return "\n".join(lines)


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    repo = sys.argv[1]
    sources = {"api": Source(sys.argv[2]), "apimachinery": Source(sys.argv[3])}
    table, value_table, problems = collect(repo, sources)
    for p in problems:
        print("gen_pointers: " + p, file=sys.stderr)
    if problems:
        return 1
    text = render(table, value_table, sources)
    mode = sys.argv[4] if len(sys.argv) > 4 else None
    path = os.path.join(repo, OUT)
    if mode is None:
        sys.stdout.write(text)
        return 0
    if mode == "--check":
        old = open(path).read() if os.path.exists(path) else ""
        if old != text:
            print("%s is out of date: run %s with --update" % (OUT, sys.argv[0]))
            return 1
        print("%s up to date (%d messages)" % (OUT, len(table)))
        return 0
    with open(path, "w") as f:
        f.write(text)
    print("wrote %s (%d messages, %d kept fields)" % (OUT, len(table),
                                                       sum(len(k) for _, k in table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
