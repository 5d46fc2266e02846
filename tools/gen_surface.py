#!/usr/bin/env python3
"""Generate agw's model of the gateway's configuration surface from the gateway's published schema.

The gateway publishes a JSON schema generated from its own Rust types. This script turns the
definitions agw does not model by hand into Rust types (schema-only: they derive `JsonSchema`),
so that agw's schema, generated from Rust, knows every key of every release. It reads the
schemas of every release agw judges and marks a key or variant known to one release only with
`x-agw-releases`, which `config::release` uses to judge a file as a given release would.

Usage: tools/gen_surface.py UPSTREAM_DIR > src/config/surface/generated.rs
(the definitions generated are the ones agw's types name as `Surface<surface::NAME>`, and what those use)
(UPSTREAM_DIR holds config.schema.v1.4.1.json and config.schema.main-*.json.)

Definitions that agw models by hand (the ones its rules and runtime read) are mapped to those
types by OVERRIDES; the conformance test (tests/conformance.rs) compares the result with the
gateway's schema.
"""
import glob
import json
import keyword
import os
import re
import sys

# gateway definition -> agw's hand-written type
OVERRIDES = {
    "LocalRoute": "crate::config::Route",
    "LocalAttachedRoute": "crate::config::TopLevelRoute",
    "LocalRouteBackend": "crate::config::RouteBackend",
    "LocalMcpBackend": "crate::config::McpBackend",
    "LocalBackendPolicies": "crate::config::BackendPolicies",
    "FilterOrPolicy": "crate::config::RoutePolicies",
    "LocalJwtConfig": "crate::config::policy::JwtAuth",
    "CorsSerde": "crate::config::policy::Cors",
    "Authorization": "crate::config::policy::Authorization",
    "LocalTLSServerConfig": "crate::config::ServerTls",
    "RouteMatch": "crate::config::RouteMatch",
    "HeaderModifier": "crate::config::policy::HeaderModifier",
    # a string the gateway compiles as CEL: marked so that `check` parses every one
    "Expression": "crate::config::surface::CelExpression",
}

# Strings the gateway compiles as CEL although its schema types them as plain strings:
# definition -> keys (a map's values, or the value itself). agentgateway
# http/transformation_cel.rs, LocalTransform: "using CEL expressions for values".
CEL_STRINGS = {
    "LocalTransform": ["add", "set", "replace", "body", "metadata"],
}


def mark_cel_strings(schema):
    """Points the CEL_STRINGS of `schema` at the gateway's Expression definition."""
    for name, keys in CEL_STRINGS.items():
        props = schema.get("$defs", {}).get(name, {}).get("properties", {})
        for k in keys:
            p = props.get(k)
            if not isinstance(p, dict):
                continue
            ref = {"$ref": "#/$defs/Expression"}
            if p.get("type") == "object" or "additionalProperties" in p:
                p.pop("additionalProperties", None)
                p["additionalProperties"] = ref
            else:
                desc = p.get("description")
                p.clear()
                p["anyOf"] = [ref, {"type": "null"}]
                if desc:
                    p["description"] = desc


# The releases, oldest first; the newest is the last.
def releases(upstream):
    found = []
    for path in sorted(glob.glob(os.path.join(upstream, "config.schema.*.json"))):
        name = os.path.basename(path)[len("config.schema."):-len(".json")]
        label = name[1:] if name.startswith("v") else name.split("-")[0]
        schema = json.load(open(path))
        mark_cel_strings(schema)
        found.append((label, schema))
    found.sort(key=lambda r: (r[0] == "main", r[0]))
    return found


RUST_KEYWORDS = set(keyword.kwlist) | {"type", "match", "ref", "fn", "mod", "use", "impl", "crate",
                                       "self", "super", "struct", "enum", "trait", "where", "loop",
                                       "move", "mut", "pub", "static", "extern", "unsafe", "dyn",
                                       "box", "override", "priv", "final", "macro", "abstract",
                                       "become", "do", "typeof", "unsized", "virtual", "yield",
                                       "const", "let", "gen"}


def snake(name):
    s = re.sub(r"[^0-9a-zA-Z]+", "_", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s).lower().strip("_")
    if not s or s[0].isdigit():
        s = "f_" + s
    if s in RUST_KEYWORDS:
        s += "_"
    return s


def pascal(name):
    parts = re.split(r"[^0-9a-zA-Z]+", name)
    s = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if not s or s[0].isdigit():
        s = "V" + s
    return s


class Gen:
    def __init__(self, rels):
        self.rels = rels
        self.labels = [r for r, _ in rels]
        self.newest = rels[-1][1]
        self.defs = {}
        for label, schema in rels:
            for name, d in schema["$defs"].items():
                self.defs.setdefault(name, {})[label] = d
        self.out = []
        self.done = set()
        self.queue = []
        # the definition being generated: inline types made for it take their release tags from it
        self.current = None
        self.names_cache = {}

    # --- merging releases ----------------------------------------------------------------
    def merged(self, per_release):
        """One schema from the per-release versions of a definition: the newest, plus the keys
        and variants that only older releases have; returns (schema, {key: [releases]})."""
        labels = [l for l in self.labels if l in per_release]
        base = json.loads(json.dumps(per_release[labels[-1]]))
        props = base.get("properties")
        if isinstance(props, dict):
            for label in labels[:-1]:
                for k, v in per_release[label].get("properties", {}).items():
                    props.setdefault(k, v)
        return base, labels

    def key_releases(self, name, path, key):
        have = []
        for label in self.labels:
            if label not in self.defs.get(name, {}):
                have.append(label)
                continue
            node = self.defs.get(name, {}).get(label)
            for step in path:
                if node is None:
                    break
                node = node.get(step) if isinstance(node, dict) else (node[step] if isinstance(node, list) and step < len(node) else None)
            if isinstance(node, dict) and key in node.get("properties", {}):
                have.append(label)
        return have

    def names_in(self, name, label):
        """Every property name, externally tagged key, constant, enum value and referenced
        definition inside release `label`'s version of definition `name` (not through `$ref`)."""
        key = (name, label)
        if key not in self.names_cache:
            found = set()

            def visit(x):
                if isinstance(x, dict):
                    for k, v in x.get("properties", {}).items() if isinstance(x.get("properties"), dict) else []:
                        found.add(k)
                    if "const" in x:
                        found.add(str(x["const"]))
                    for v in x.get("enum", []) if isinstance(x.get("enum"), list) else []:
                        found.add(str(v))
                    if isinstance(x.get("$ref"), str):
                        found.add(x["$ref"].split("/")[-1])
                    for v in x.values():
                        visit(v)
                elif isinstance(x, list):
                    for v in x:
                        visit(v)

            visit(self.defs.get(name, {}).get(label))
            self.names_cache[key] = found
        return self.names_cache[key]

    def rels_for(self, word):
        """The releases whose version of the current definition has `word` somewhere inside."""
        if self.current is None:
            return []
        # a release without the definition at all is left to the place that refers to it
        have = self.defs.get(self.current, {})
        return [l for l in self.labels if l not in have or str(word) in self.names_in(self.current, l)]

    def release_attrs(self, word, indent="    "):
        return [indent + a for a in self.attrs_for_releases(self.rels_for(word))]

    # --- types -----------------------------------------------------------------------------
    def ref(self, r):
        name = r.split("/")[-1]
        if name in OVERRIDES:
            return OVERRIDES[name], True
        if name not in self.done:
            self.done.add(name)
            self.queue.append(name)
        return pascal(name), True

    def ty(self, s, ctx):
        """The Rust type for schema `s`; `ctx` names an inline type if one must be made."""
        if s is True or s == {}:
            return "serde_json::Value"
        if "$ref" in s and len([k for k in s if k not in ("description", "default", "$ref", "deprecated")]) == 0:
            t, named = self.ref(s["$ref"])
            return f"Box<{t}>"
        alts = s.get("anyOf") or s.get("oneOf")
        if alts and not s.get("properties") and len(alts) == 2 and {"type": "null"} in alts:
            other = [a for a in alts if a != {"type": "null"}][0]
            inner = self.ty(other, ctx)
            return inner if inner.startswith("Option<") else f"Option<{inner}>"
        t = s.get("type")
        if isinstance(t, list):
            nonnull = [x for x in t if x != "null"]
            if len(nonnull) < len(t):
                s2 = dict(s)
                s2["type"] = nonnull[0] if len(nonnull) == 1 else nonnull
                inner = self.ty(s2, ctx)
                return inner if inner.startswith("Option<") else f"Option<{inner}>"
            return self.emit_untagged_types(ctx, s, nonnull)
        if "const" in s or "enum" in s:
            return self.emit(ctx, s)
        if t == "string":
            return "String"
        if t == "boolean":
            return "bool"
        if t == "integer":
            return {"uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64", "uint": "u64",
                    "int32": "i32", "int64": "i64", "uint128": "u64", "int": "i64"}.get(s.get("format"), "i64")
        if t == "number":
            return "f64"
        if t == "null":
            return "()"
        if t == "array":
            return f"Vec<{self.ty(s.get('items', True), ctx + 'Item')}>"
        if t == "object" and not s.get("properties") and not s.get("oneOf") and not s.get("anyOf") and not s.get("allOf"):
            ap = s.get("additionalProperties", True)
            if ap is False:
                return self.emit(ctx, s)
            if ap is True or ap == {}:
                return "serde_json::Map<String, serde_json::Value>"
            return f"indexmap::IndexMap<String, {self.ty(ap, ctx + 'Value')}>"
        return self.emit(ctx, s)

    def emit_untagged_types(self, ctx, s, types):
        name = pascal(ctx)
        variants = []
        for t in types:
            sub = dict(s)
            sub["type"] = t
            if t != "array":
                sub.pop("items", None)
            variants.append((pascal(t), self.ty(sub, ctx + pascal(t))))
        self.write_enum_untagged(name, variants, s)
        return name

    # --- items -----------------------------------------------------------------------------
    def emit(self, name, s, releases_attr=None):
        name = pascal(name)
        if "const" in s or "enum" in s:
            values = [s["const"]] if "const" in s else s["enum"]
            self.write_unit_enum(name, values, s)
            return name
        alts = s.get("oneOf") or s.get("anyOf")
        if alts and not s.get("properties"):
            self.write_variants(name, s, alts)
            return name
        self.write_struct(name, s)
        return name

    def attrs_for_releases(self, rels):
        if rels and len(rels) < len(self.labels):
            return [f'#[schemars(extend("x-agw-releases" = [{", ".join(json.dumps(r) for r in rels)}]))]']
        return []

    def write_unit_enum(self, name, values, s):
        lines = ["#[derive(JsonSchema)]", "pub enum " + name + " {"]
        seen = set()
        for v in values:
            if v is None:
                continue
            vn = pascal(str(v))
            while vn in seen:
                vn += "X"
            seen.add(vn)
            lines.extend(self.release_attrs(v))
            lines.append(f"    #[serde(rename = {json.dumps(str(v))})]")
            lines.append(f"    {vn},")
        lines.append("}")
        self.out.append("\n".join(lines))

    def tag_of(self, alts):
        """The internal tag of a oneOf (a property every variant requires as a constant), if any."""
        objs = [self.resolve(a) for a in alts]
        if not all(isinstance(o, dict) and o.get("type") == "object" for o in objs):
            return None
        common = None
        for o in objs:
            consts = {k for k, v in o.get("properties", {}).items()
                      if isinstance(v, dict) and "const" in v and k in o.get("required", [])}
            common = consts if common is None else common & consts
        return next(iter(sorted(common))) if common else None

    def resolve(self, s):
        if isinstance(s, dict) and "$ref" in s and len(s) <= 3:
            n = s["$ref"].split("/")[-1]
            if n in OVERRIDES:
                return s
            return self.newest["$defs"].get(n, s)
        return s

    def external(self, a):
        """(key, schema) when `a` is an externally tagged variant: one required property."""
        if isinstance(a, dict) and a.get("type") == "object" and len(a.get("properties", {})) == 1 \
                and a.get("required") == list(a["properties"]) and not a.get("oneOf") and not a.get("anyOf"):
            k = a["required"][0]
            return k, a["properties"][k]
        return None

    def write_variants(self, name, s, alts, untagged_ok=True):
        kind = "oneOf" if "oneOf" in s else "anyOf"
        tag = self.tag_of(alts) if kind == "oneOf" else None
        lines = ["#[derive(JsonSchema)]"]
        variants = []
        seen = set()

        def vname(base):
            v = pascal(base)
            while v in seen:
                v += "X"
            seen.add(v)
            return v

        if tag:
            lines.append(f"#[serde(tag = {json.dumps(tag)})]")
            lines.append(f"pub enum {name} {{")
            for a in alts:
                o = self.resolve(a)
                tv = o["properties"][tag]["const"]
                rest = dict(o)
                rest["properties"] = {k: v for k, v in o["properties"].items() if k != tag}
                rest["required"] = [r for r in o.get("required", []) if r != tag]
                vn = vname(str(tv))
                lines.extend(self.release_attrs(tv))
                lines.append(f"    #[serde(rename = {json.dumps(tv)})]")
                if rest["properties"] or rest.get("oneOf") or rest.get("allOf"):
                    inner = self.emit(name + vn, rest)
                    lines.append(f"    {vn}({inner}),")
                else:
                    lines.append(f"    {vn},")
            lines.append("}")
            self.out.append("\n".join(lines))
            return
        ext = [self.external(a) or (("const", a["const"]) if isinstance(a, dict) and "const" in a else None) for a in alts]
        if kind == "oneOf" and all(ext):
            lines.append(f"pub enum {name} {{")
            for a, e in zip(alts, ext):
                lines.extend(self.release_attrs(e[1] if e[0] == "const" else e[0]))
                if e[0] == "const":
                    vn = vname(str(e[1]))
                    lines.append(f"    #[serde(rename = {json.dumps(e[1])})]")
                    lines.append(f"    {vn},")
                else:
                    k, sub = e
                    vn = vname(k)
                    lines.append(f"    #[serde(rename = {json.dumps(k)})]")
                    t = self.ty(sub, name + vn)
                    lines.append(f"    {vn}({t})," if t != "()" else f"    {vn}(Null),")
            lines.append("}")
            self.out.append("\n".join(lines))
            return
        # the rest: untagged
        variants = []
        for i, a in enumerate(alts):
            e = self.external(a)
            base = e[0] if e else (str(a.get("const")) if isinstance(a, dict) and "const" in a else f"Variant{i}")
            if isinstance(a, dict) and "$ref" in a:
                base = a["$ref"].split("/")[-1]
            vn = vname(base)
            variants.append((vn, self.ty(a, name + vn)))
        self.write_enum_untagged(name, variants, s, done_names=True)

    def write_enum_untagged(self, name, variants, s, done_names=False):
        lines = ["#[derive(JsonSchema)]", "#[serde(untagged)]", f"pub enum {name} {{"]
        for vn, t in variants:
            lines.append(f"    {vn}({t}),")
        lines.append("}")
        self.out.append("\n".join(lines))

    def write_struct(self, name, s, def_name=None):
        props = s.get("properties", {})
        required = set(s.get("required", []))
        strict = s.get("additionalProperties") is False or s.get("unevaluatedProperties") is False
        lines = ["#[derive(JsonSchema)]"]
        lines.append("#[serde(deny_unknown_fields)]" if strict else "")
        lines.append(f"pub struct {name} {{")
        used = set()
        for key, sub in props.items():
            fname = snake(key)
            while fname in used:
                fname += "_"
            used.add(fname)
            t = self.ty(sub, name + pascal(key))
            if t == "()":
                t = "Null"
            opt = key not in required
            attrs = [f'rename = {json.dumps(key)}']
            if opt:
                attrs.append("default")
                if not t.startswith("Option<") and not t.startswith("Vec<") and "Map<" not in t:
                    t = f"Option<{t}>"
            rels = self.key_releases(def_name, [], key) if def_name else self.rels_for(key)
            lines.extend("    " + a for a in self.attrs_for_releases(rels))
            lines.append(f"    #[serde({', '.join(attrs)})]")
            lines.append(f"    pub {fname}: {t},")
        for i, part in enumerate(s.get("allOf", [])):
            if "$ref" in part:
                t, _ = self.ref(part["$ref"])
                lines.append("    #[serde(flatten)]")
                lines.append(f"    pub flattened_{i}: {t},")
        # a form that is not an object (the gateway lists the string `copilot` among the forms of
        # an object here) can never match one
        alts = [a for a in (s.get("oneOf") or s.get("anyOf") or [])
                if not (isinstance(a, dict) and ("const" in a or a.get("type") in ("string", "integer", "boolean")))]
        if alts:
            kind_name = self.emit(name + "Kind", {("oneOf" if "oneOf" in s else "anyOf"): alts})
            lines.append("    #[serde(flatten)]")
            lines.append(f"    pub kind: {kind_name},")
        lines.append("}")
        self.out.append("\n".join(l for l in lines if l != ""))

    def run(self, roots):
        by_rust_name = {pascal(n): n for n in self.defs}
        for r in roots:
            if r not in by_rust_name:
                sys.exit(f"no gateway definition is named {r}")
            self.ref("#/$defs/" + by_rust_name[r])
        while self.queue:
            n = self.queue.pop(0)
            per = self.defs[n]
            s, _ = self.merged(per)
            self.current = n
            self.gen_def(n, s)

    def gen_def(self, n, s):
        name = pascal(n)
        if "$ref" in s and len(s) <= 2:
            t, _ = self.ref(s["$ref"])
            self.out.append(f"pub type {name} = {t};")
            return
        if s.get("type") == "object" and (s.get("properties") or s.get("additionalProperties") is False) and not (s.get("oneOf") or s.get("anyOf")):
            self.write_struct(name, s, def_name=n)
            return
        t = self.ty(s, n)
        if t != name:
            self.out.append(f"pub type {name} = {t};")


HEADER = """// @generated by tools/gen_surface.py from the gateway's published configuration schema
// (agentgateway, Apache License 2.0). Do not edit: change OVERRIDES in the script or agw's own
// types, and run it again.
//
// Schema-only types: they are never built, only described (`JsonSchema`), so that agw's schema
// knows every key the gateway accepts. The file's values are kept as written (`Surface`).
#![allow(dead_code, clippy::enum_variant_names, clippy::large_enum_variant, clippy::upper_case_acronyms)]

use schemars::JsonSchema;

/// A JSON null, the value of the gateway's unit variants (`invalid: null`).
#[derive(JsonSchema)]
pub struct Null;
"""

def roots_in_source(src):
    """The definitions agw's own types refer to as `Surface<surface::NAME>`."""
    found = []
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if f.endswith(".rs") and f != "generated.rs":
                for m in re.finditer(r"Surface<surface::(\w+)>", open(os.path.join(dirpath, f)).read()):
                    if m.group(1) not in found:
                        found.append(m.group(1))
    return sorted(found)


def main():
    upstream = sys.argv[1]
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    roots = sys.argv[2:] or roots_in_source(src)
    g = Gen(releases(upstream))
    g.run(roots)
    print(HEADER)
    print("\n\n".join(g.out))

if __name__ == "__main__":
    main()
