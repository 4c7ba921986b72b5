#!/usr/bin/env python3
"""Fails when two modules (files) of a crate import each other, directly or around a
cycle, or when protocol code imports administration. A module is one .rs file; an edge
is any `crate::…`, `super::…` or `self::…` path it names (use lines and inline paths),
resolved to the file that defines it, through the crate root's `pub use` re-exports.
Test-only files (`*_tests.rs`, `tests.rs`) and inline test modules are left out, and a
parent's calls into the children it declares are structure, not edges."""
import os, re, sys

def modules(src):
    mods = {}
    for dp, _, fs in os.walk(src):
        for f in fs:
            if not f.endswith('.rs'):
                continue
            rel = os.path.relpath(os.path.join(dp, f), src)[:-3].split(os.sep)
            if rel[-1] in ('lib', 'main', 'mod'):
                rel = rel[:-1]
            mods[tuple(rel)] = os.path.join(dp, f)
    return mods

def expand(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']"""
    tree = tree.strip()
    i = tree.find('{')
    if i < 0:
        return [tree]
    prefix, inner = tree[:i], tree[i + 1:tree.rfind('}')]
    parts, depth, cur = [], 0, ''
    for ch in inner:
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
            continue
        depth += ch == '{'
        depth -= ch == '}'
        cur += ch
    parts.append(cur)
    return [prefix + q for p in parts if p.strip() for q in expand(p)]

def strip_tests(text):
    # Drop inline `#[cfg(test)] mod x { … }` blocks: unit tests may import anything.
    out, i = [], 0
    for m in re.finditer(r'#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod\s+\w+\s*\{', text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while depth and j < len(text):
            depth += text[j] == '{'
            depth -= text[j] == '}'
            j += 1
        i = j
    out.append(text[i:])
    return ''.join(out)

def paths(text):
    text = re.sub(r'//[^\n]*', '', strip_tests(text))
    found = []
    for m in re.finditer(r'\buse\s+([^;]+);', text, re.S):
        found += [re.sub(r'\s+', '', p) for p in expand(m.group(1))]
    found += re.findall(r'(?<![\w:])((?:crate|super|self)(?:::\w+)+)', text)
    return found

def main(crate):
    src = os.path.join(crate, 'src')
    mods = modules(src)
    root_text = open(mods[()]).read()
    reexports = {}
    for m in re.finditer(r'pub\s+use\s+([^;]+);', root_text):
        for p in expand(m.group(1)):
            segs = re.sub(r'\s+', '', p).split('::')
            reexports[segs[-1].split(' as ')[0]] = tuple(segs[:-1])
    def resolve(here, path):
        segs = path.replace(' ', '').split('::')
        base = list(here)
        if segs[0] == 'crate':
            base, segs = [], segs[1:]
        elif segs[0] == 'self':
            segs = segs[1:]
        while segs and segs[0] == 'super':
            base = base[:-1]; segs = segs[1:]
        cur = tuple(base)
        for s in segs:
            s = s.split(' as ')[0]
            if cur + (s,) in mods:
                cur = cur + (s,)
            else:
                if cur == () and s in reexports and reexports[s] in mods:
                    cur = reexports[s]
                break
        return cur
    edges = {}
    for mod, f in mods.items():
        if mod and (mod[-1].endswith('_tests') or mod[-1] == 'tests'):
            continue
        for p in paths(open(f).read()):
            if not p.startswith(('crate', 'super', 'self')):
                continue
            t = resolve(mod, p)
            if t != mod and t != ():
                edges.setdefault(mod, set()).add(t)
    bad = []
    for a, ts in edges.items():
        for b in ts:
            if a in edges.get(b, ()) and a < b:
                bad.append(f"{'::'.join(a)} <-> {'::'.join(b)}")
    # Longer cycles: depth-first search for back edges.
    color, stack = {}, []
    def dfs(u):
        color[u] = 1; stack.append(u)
        for v in sorted(edges.get(u, ())):
            if color.get(v) == 1:
                cyc = stack[stack.index(v):] + [v]
                if len(cyc) > 3:
                    bad.append(' -> '.join('::'.join(x) for x in cyc))
            elif not color.get(v):
                dfs(v)
        stack.pop(); color[u] = 2
    for u in sorted(edges):
        if not color.get(u):
            dfs(u)
    protocol_to_admin = [f"{'::'.join(a)} -> {'::'.join(b)}" for a, ts in edges.items() for b in ts
                         if b[:1] == ('admin',) and a[:1] not in (('admin',), ('console',)) and a != ('provider',)]
    return bad, protocol_to_admin

failed = False
for crate in sys.argv[1:]:
    cycles, up = main(crate)
    for c in cycles:
        print(f"{crate}: import cycle {c}"); failed = True
    for e in up:
        print(f"{crate}: protocol code imports admin: {e}"); failed = True
sys.exit(1 if failed else 0)
