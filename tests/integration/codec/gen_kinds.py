#!/usr/bin/env python3
"""Generates the kind registry table of lib/codec.c from the schema in proto/k8s.

A kind is a message of an API group's generated.proto whose field 1 is
`ObjectMeta metadata` (objects) or `ListMeta metadata` with `repeated items = 2`
(lists), minus embedded templates; plus a few meta.k8s.io types listed below.

  gen_kinds.py <repo>            print the table
  gen_kinds.py <repo> --update   rewrite the table between the markers in lib/codec.c
  gen_kinds.py <repo> --check    exit 1 if lib/codec.c is out of date
"""
import os
import re
import sys

NOT_KINDS = {"PodTemplateSpec", "PersistentVolumeClaimTemplate", "JobTemplateSpec"}
GROUP_NAMES = {
    "core": "",
    "apps": "apps",
    "batch": "batch",
    "autoscaling": "autoscaling",
    "policy": "policy",
    "rbac": "rbac.authorization.k8s.io",
    "flowcontrol": "flowcontrol.apiserver.k8s.io",
}
# (apiVersion, kind, proto message full name)
META_KINDS = [
    ("v1", "Status", "k8s.io.apimachinery.pkg.apis.meta.v1.Status"),
    ("v1", "List", "k8s.io.apimachinery.pkg.apis.meta.v1.List"),
    ("v1", "APIGroup", "k8s.io.apimachinery.pkg.apis.meta.v1.APIGroup"),
    ("v1", "APIGroupList", "k8s.io.apimachinery.pkg.apis.meta.v1.APIGroupList"),
    ("v1", "APIResourceList", "k8s.io.apimachinery.pkg.apis.meta.v1.APIResourceList"),
    ("v1", "APIVersions", "k8s.io.apimachinery.pkg.apis.meta.v1.APIVersions"),
    ("meta.k8s.io/v1", "Table", "k8s.io.apimachinery.pkg.apis.meta.v1.Table"),
    ("meta.k8s.io/v1", "PartialObjectMetadata",
     "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadata"),
    ("meta.k8s.io/v1", "PartialObjectMetadataList",
     "k8s.io.apimachinery.pkg.apis.meta.v1.PartialObjectMetadataList"),
    ("meta.k8s.io/v1", "DeleteOptions", "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
    ("meta.k8s.io/v1", "WatchEvent", "k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent"),
]
BEGIN = "/* BEGIN GENERATED KINDS (tests/integration/codec/gen_kinds.py --update) */"
END = "/* END GENERATED KINDS */"


def camel_to_lower(name):
    # protoc-c: an upper-case letter that follows a non-upper-case one starts a new word.
    out, was_upper = "", True
    for ch in name:
        if ch.isupper() and not was_upper:
            out += "_"
        out += ch.lower()
        was_upper = ch.isupper()
    return out


def c_symbol(full_name):
    parts = full_name.split(".")
    return "__".join(p.lower() for p in parts[:-1]) + "__" + camel_to_lower(parts[-1]) + \
        "__descriptor"


def parse_messages(path):
    """{message name: [(label, type, name, number)]} for top-level messages of a file."""
    text = open(path).read()
    msgs = {}
    for m in re.finditer(r"^message (\w+) \{(.*?)^\}", text, re.S | re.M):
        fields = re.findall(r"^\s+(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)",
                            m.group(2), re.M)
        msgs[m.group(1)] = fields
    pkg = re.search(r"^package ([\w.]+);", text, re.M).group(1)
    return pkg, msgs


def collect(repo):
    entries = []  # (header, apiVersion, kind, symbol)
    api = os.path.join(repo, "proto", "k8s", "api")
    for group in sorted(os.listdir(api)):
        for version in sorted(os.listdir(os.path.join(api, group))):
            path = os.path.join(api, group, version, "generated.proto")
            if not os.path.exists(path):
                continue
            pkg, msgs = parse_messages(path)
            gname = GROUP_NAMES.get(group, group + ".k8s.io")
            api_version = version if gname == "" else gname + "/" + version
            header = "k8s/api/%s/%s/generated.pb-c.h" % (group, version)
            for name in sorted(msgs):
                f = msgs[name]
                if name in NOT_KINDS or not f:
                    continue
                first = [x for x in f if x[3] == "1"]
                if not first or first[0][2] != "metadata":
                    continue
                t = first[0][1]
                if t.endswith("meta.v1.ObjectMeta"):
                    pass
                elif t.endswith("meta.v1.ListMeta") and any(x[2] == "items" for x in f):
                    pass
                else:
                    continue
                entries.append((header, api_version, name, c_symbol(pkg + "." + name)))
    meta = os.path.join(repo, "proto", "k8s", "apimachinery", "pkg", "apis", "meta", "v1")
    have = {}
    for fn in sorted(os.listdir(meta)):
        if fn.endswith(".proto"):
            pkg, msgs = parse_messages(os.path.join(meta, fn))
            for name in msgs:
                have[pkg + "." + name] = "k8s/apimachinery/pkg/apis/meta/v1/" + fn[:-6] + ".pb-c.h"
    for av, kind, full in META_KINDS:
        if full in have:
            entries.append((have[full], av, kind, c_symbol(full)))
    return entries


def render(entries):
    lines = [BEGIN, "/* clang-format off */"]
    headers = []
    for e in entries:
        if e[0] not in headers:
            headers.append(e[0])
    for h in headers:
        lines.append('#include "%s"' % h)
    lines.append("")
    lines.append("static const struct k8c_codec_kind kinds[] = {")
    for _, av, kind, sym in entries:
        lines.append('    {"%s", "%s", &%s},' % (av, kind, sym))
    lines.append("};")
    lines.append("/* clang-format on */")
    lines.append(END)
    return "\n".join(lines)


def main():
    repo = sys.argv[1]
    table = render(collect(repo))
    if len(sys.argv) < 3:
        print(table)
        return 0
    path = os.path.join(repo, "lib", "codec.c")
    src = open(path).read()
    b, e = src.index(BEGIN), src.index(END) + len(END)
    if sys.argv[2] == "--check":
        if src[b:e] != table:
            print("lib/codec.c kind table is out of date: run %s %s --update" %
                  (sys.argv[0], repo))
            return 1
        print("kind table up to date (%d kinds)" % table.count("{\""))
        return 0
    open(path, "w").write(src[:b] + table + src[e:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
