#!/usr/bin/env python3
"""Generates the MPI standard ABI layer's boilerplate from the standard ABI header.

Run with the project venv's python (scripts/mpi-venv.sh makes it: the `mpich` wheel, whose
`include/mpi_abi.h` is the list of procedures to cover, and `pympistandard`, the MPI Forum's
machine-readable signatures used as a cross-check):

    .venv-mpi/bin/python mpi/gen/gen_abi.py            # write the outputs
    .venv-mpi/bin/python mpi/gen/gen_abi.py --check    # fail if a committed output is stale

Outputs (committed, never edited by hand; a merge conflict in them is resolved by re-running):

- mpi/src/gen/abi.rs      ABI types (handles, MPI_Status, callbacks) and every constant
- mpi/src/gen/exports.rs  every procedure as PMPI_X (entry guard + implementation, or
                          MPI_ERR_UNSUPPORTED_OPERATION) and MPI_X (calls PMPI_X)
- mpi/src/gen/mod.rs      the list of procedures with their implemented flag
- include/mpi.h           the project's own standard-ABI header
- mpi/tests/layout/layout.c  prints every constant, handle, type size and struct offset
- docs/mpi-coverage.md    implemented / unsupported, per procedure

Implementations are found by scanning mpi/src/api/*.rs for `pub fn NAME(` or
`pub unsafe fn NAME(`, NAME being the procedure without its `MPI_` prefix, lower-cased
(`MPI_Comm_split` -> `comm_split`; `MPIX_Comm_create_errhandler_x` ->
`mpix_comm_create_errhandler_x`). An int form with no function of its own is served by its
`_c` twin when the two differ only in scalar parameters of a wider type (`int count` against
`MPI_Count count`): the export widens them and calls the twin (`MPI_Send` -> `send_c`), so the
api modules hold one function where the forms behave alike.
"""

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API_DIR = ROOT / "mpi" / "src" / "api"
OUT_RS = ROOT / "mpi" / "src" / "gen"
OUT_H = ROOT / "include" / "mpi.h"
OUT_LAYOUT = ROOT / "mpi" / "tests" / "layout" / "layout.c"
OUT_DOC = ROOT / "docs" / "mpi-coverage.md"

# Procedures removed from the standard in MPI-3.0 that MPICH's libmpi_abi.so.1 still exports as
# MPI_* (not PMPI_*) and that the ABI header does not declare: exported the same way, so that a
# binary linked against MPICH's library finds every symbol it could use.
REMOVED = [
    "int MPI_Address(void *location, MPI_Aint *address);",
    "int MPI_Errhandler_create(MPI_Comm_errhandler_function *comm_errhandler_fn, MPI_Errhandler *errhandler);",
    "int MPI_Errhandler_get(MPI_Comm comm, MPI_Errhandler *errhandler);",
    "int MPI_Errhandler_set(MPI_Comm comm, MPI_Errhandler errhandler);",
    "int MPI_Type_extent(MPI_Datatype datatype, MPI_Aint *extent);",
    "int MPI_Type_hindexed(int count, int array_of_blocklengths[], MPI_Aint array_of_displacements[], MPI_Datatype oldtype, MPI_Datatype *newtype);",
    "int MPI_Type_hvector(int count, int blocklength, MPI_Aint stride, MPI_Datatype oldtype, MPI_Datatype *newtype);",
    "int MPI_Type_lb(MPI_Datatype datatype, MPI_Aint *displacement);",
    "int MPI_Type_struct(int count, int array_of_blocklengths[], MPI_Aint array_of_displacements[], MPI_Datatype array_of_types[], MPI_Datatype *newtype);",
    "int MPI_Type_ub(MPI_Datatype datatype, MPI_Aint *displacement);",
]

# The ABI's integer typedefs (checked against the header by the layout test).
SCALARS = {"MPI_Aint": "isize", "MPI_Offset": "i64", "MPI_Count": "i64"}
C_BASE = {"int": "c_int", "double": "f64", "char": "c_char", "void": "c_void"}
RUST_KEYWORDS = {"type", "ref", "in", "fn", "match", "mod", "move", "loop", "where", "impl", "self",
                 "use", "box", "dyn", "struct", "enum", "const", "static", "as", "break", "crate",
                 "else", "extern", "for", "if", "let", "mut", "pub", "return", "super", "trait",
                 "unsafe", "while", "async", "await", "do", "final", "gen", "try", "yield"}
# Parameters that carry the object whose error handler an error goes to, by the handle type;
# a pointer parameter counts only under these names (in/out handles: MPI_Comm_free(&comm)).
RAISE_TYPES = {"MPI_Comm": "comm", "MPI_Win": "win", "MPI_File": "file", "MPI_Session": "session"}
INOUT_NAMES = {"comm", "win", "fh", "session"}


class Param:
    def __init__(self, text):
        self.text = text.strip()
        m = re.match(r"^(const\s+)?([A-Za-z_]\w*)\s*(\**)\s*([A-Za-z_]\w*)((?:\[\d*\])*)$", self.text)
        if not m:
            raise ValueError(f"cannot parse parameter {text!r}")
        self.const = bool(m.group(1))
        self.base = m.group(2)
        self.stars = len(m.group(3))
        self.name = m.group(4)
        dims = re.findall(r"\[(\d*)\]", m.group(5))
        # `int ranges[][3]`: a pointer to arrays of 3 ints; `x[]` is one more pointer level.
        self.fixed = [d for d in dims if d]
        self.levels = self.stars + len([d for d in dims if not d])

    @property
    def rname(self):
        return self.name + "_" if self.name in RUST_KEYWORDS else self.name


class Proto:
    def __init__(self, ret, name, params, removed=False):
        self.ret = ret.strip()
        self.name = name
        self.removed = removed
        params = params.strip()
        self.variadic = False
        self.params = []
        if params and params != "void":
            for p in params.split(","):
                if p.strip() == "...":
                    self.variadic = True
                else:
                    self.params.append(Param(p))

    @property
    def impl_name(self):
        if self.name.startswith("MPIX_"):
            return "mpix_" + self.name[5:].lower()
        return self.name[4:].lower()


class Abi:
    """Everything the header defines, in header order."""

    def __init__(self, text):
        self.text = text
        self.defines = []      # (name, value text) of #define NAME <number>
        self.handle_types = []  # (type, struct tag)
        self.handles = []      # (name, type, value int)
        self.aliases = []      # (name, target)
        self.pointers = []     # (name, C type, value int): MPI_IN_PLACE, MPI_STATUS_IGNORE, ...
        self.enums = []        # list of (comment, [(name, value int, value text)])
        self.typed_enums = []  # (type name, [(name, value int)])
        self.fn_types = []     # (name, Proto of the type)
        self.fn_aliases = []   # (alias, type)
        self.status = []       # (field name, C type, array length or None)
        self.procs = []        # Proto, MPI/MPIX only (the PMPI list repeats them)
        self.parse()

    def parse(self):
        t = self.text
        for m in re.finditer(r"^#define\s+(MPI_\w+)\s+(-?\d+)\b", t, re.M):
            self.defines.append((m.group(1), m.group(2)))
        for m in re.finditer(r"^typedef struct (\w+)\s*\*\s*(\w+);", t, re.M):
            self.handle_types.append((m.group(2), m.group(1)))
        for m in re.finditer(r"^#define\s+(MPIX?_\w+)\s+\(\((\w+)\)(0x[0-9a-fA-F]+|\d+)\)", t, re.M):
            self.handles.append((m.group(1), m.group(2), int(m.group(3), 0)))
        handle_names = {n for n, _, _ in self.handles}
        for m in re.finditer(r"^#define\s+(MPI_\w+)\s+(MPI_\w+)\s*$", t, re.M):
            if m.group(2) in handle_names:  # not the MPI_ABI_* typedef helpers
                self.aliases.append((m.group(1), m.group(2)))
        for m in re.finditer(r"^#define\s+(MPI_\w+)\s+\(\(([\w ]+\**)\s*\)\s*(-?0x[0-9a-fA-F]+|-?\d+)\)", t, re.M):
            ctype = m.group(2).replace(" ", "")
            if ctype.endswith("*"):
                self.pointers.append((m.group(1), ctype, int(m.group(3), 0)))
            elif ctype in SCALARS:
                self.defines.append((m.group(1), f"(({ctype}){m.group(3)})"))
        for m in re.finditer(r"^(typedef\s+)?enum\s*(\w*)\s*\{(.*?)\}\s*(\w*)\s*;", t, re.M | re.S):
            items = []
            for line in m.group(3).split("\n"):
                im = re.match(r"\s*(MPIX?_\w+)\s*=\s*(-?\s*(?:0x[0-9a-fA-F]+|\d+))", line)
                if im:
                    txt = im.group(2).replace(" ", "")
                    items.append((im.group(1), int(txt, 0), txt))
            if m.group(1):
                self.typed_enums.append((m.group(4), items))
            else:
                self.enums.append(items)
        for m in re.finditer(r"^typedef\s+(\w+)\s*\((\w+)\)\s*\((.*?)\);", t, re.M):
            self.fn_types.append((m.group(2), Proto(m.group(1), m.group(2), m.group(3))))
        fn_names = {n for n, _ in self.fn_types}
        for m in re.finditer(r"^typedef\s+(\w+)\s+(\w+);", t, re.M):
            if m.group(1) in fn_names:
                self.fn_aliases.append((m.group(2), m.group(1)))
        sm = re.search(r"typedef struct \{(.*?)\} MPI_Status;", t, re.S)
        for fm in re.finditer(r"(\w+)\s+(\w+)(?:\[(\d+)\])?;", sm.group(1)):
            self.status.append((fm.group(2), fm.group(1), int(fm.group(3)) if fm.group(3) else None))
        seen = set()
        for m in re.finditer(r"^([\w ]+?)\s*\b(MPIX?_\w+)\((.*?)\);", t, re.M):
            if m.group(1).startswith("typedef") or m.group(2) in seen:
                continue
            seen.add(m.group(2))
            self.procs.append(Proto(m.group(1), m.group(2), m.group(3)))
        pm = set(re.findall(r"^[\w ]+?\s*\bP(MPIX?_\w+)\(", t, re.M))
        missing = [p.name for p in self.procs if p.name not in pm and not p.name.startswith("MPIX_")]
        if missing:
            raise SystemExit(f"header declares MPI_ procedures without PMPI_: {missing}")
        for r in REMOVED:
            m = re.match(r"^(\w+)\s+(MPI_\w+)\((.*)\);$", r)
            self.procs.append(Proto(m.group(1), m.group(2), m.group(3), removed=True))

    @property
    def handle_null(self):
        """The null handle of each handle type (the value returned when a handle-returning
        procedure fails)."""
        out = {}
        for name, ty, val in self.handles:
            if name.endswith("_NULL") and ty not in out:
                out[ty] = name
        return out


# ---------------------------------------------------------------------------------------------
# Rust types

def rust_base(abi, base):
    if base in C_BASE:
        return C_BASE[base]
    if base in SCALARS or base == "MPI_Status":
        return base
    if base in {t for t, _ in abi.handle_types}:
        return base
    if base in {t for t, _ in abi.typed_enums}:
        return base
    raise SystemExit(f"no Rust type for C type {base}")


def is_fn_type(abi, base):
    return base in {n for n, _ in abi.fn_types} or base in {a for a, _ in abi.fn_aliases}


def rust_param_type(abi, p):
    if is_fn_type(abi, p.base):
        # A function type parameter (`MPI_User_function *f` or `MPI_T_event_cb_function f`) is a
        # nullable function pointer.
        extra = p.levels - 1
        ty = f"Option<{p.base}>"
        for _ in range(max(extra, 0)):
            ty = f"*mut {ty}"
        return ty
    ty = rust_base(abi, p.base)
    if p.fixed:
        for d in reversed(p.fixed):
            ty = f"[{ty}; {d}]"
    for i in range(p.levels):
        # `const` binds to the innermost pointee (`const int x[]`, `const char *s`).
        ty = f"*{'const' if (p.const and i == 0) else 'mut'} {ty}"
    return ty


def rust_ret(abi, ret):
    return "c_int" if ret == "int" else rust_base(abi, ret)


def fn_type_rust(abi, proto):
    params = [rust_param_type(abi, p) for p in proto.params]
    if proto.variadic:
        params.append("...")
    ret = "" if proto.ret == "void" else f" -> {rust_ret(abi, proto.ret)}"
    return f"unsafe extern \"C\" fn({', '.join(params)}){ret}"


def gen_abi_rs(abi):
    o = [HEADER_RS,
         "//! The standard ABI's types and constants, as `mpi_abi.h` defines them.",
         "",
         "use std::ffi::{c_int, c_void};",
         ""]
    o.append("// Integer types.")
    for n, r in SCALARS.items():
        o.append(f"pub type {n} = {r};")
    o.append("")
    o.append("/// `MPI_Status`: the public fields and the implementation's five ints.")
    o.append("#[repr(C)]")
    o.append("#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]")
    o.append("pub struct MPI_Status {")
    for name, cty, n in abi.status:
        ty = rust_base(abi, cty)
        o.append(f"    pub {name}: {f'[{ty}; {n}]' if n else ty},")
    o.append("}")
    o.append("")
    o.append("// Handle types: pointer-sized values (predefined ones fixed by the ABI).")
    for ty, tag in abi.handle_types:
        o.append("#[repr(transparent)]")
        o.append("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]")
        o.append(f"pub struct {ty}(pub usize);")
    o.append("")
    o.append("// C enum types (int-sized).")
    for ty, items in abi.typed_enums:
        o.append(f"pub type {ty} = c_int;")
        for name, val, _ in items:
            o.append(f"pub const {name}: {ty} = {val};")
    o.append("")
    o.append("// Callback types (a parameter of such a type is an `Option`: NULL is `None`).")
    for name, proto in abi.fn_types:
        o.append(f"pub type {name} = {fn_type_rust(abi, proto)};")
    for alias, target in abi.fn_aliases:
        o.append(f"pub type {alias} = {target};")
    o.append("")
    o.append("// Handle constants.")
    for name, ty, val in abi.handles:
        o.append(f"pub const {name}: {ty} = {ty}({val:#x});")
    for name, target in abi.aliases:
        ty = next((t for n, t, _ in abi.handles if n == target), None)
        if ty:
            o.append(f"pub const {name}: {ty} = {target};")
    o.append("")
    o.append("// Integer constants (#define and enum).")
    for name, val in abi.defines:
        if val.startswith("(("):
            m = re.match(r"\(\((\w+)\)(-?\w+)\)", val)
            o.append(f"pub const {name}: {m.group(1)} = {int(m.group(2), 0)};")
        else:
            o.append(f"pub const {name}: c_int = {val};")
    for items in abi.enums:
        for name, val, _ in items:
            o.append(f"pub const {name}: c_int = {val};")
    o.append("")
    o.append("/// The error classes by value, with their names (MPI_ERR_* and MPI_T_ERR_*).")
    o.append("pub static ERROR_CLASSES: &[(c_int, &str)] = &[")
    for items in abi.enums:
        for name, val, _ in items:
            if name == "MPI_SUCCESS" or (re.match(r"MPI_(T_)?ERR_", name) and name != "MPI_ERR_LASTCODE"):
                o.append(f"    ({val}, \"{name}\"),")
    o.append("];")
    o.append("")
    o.append("// Address constants: sentinel pointer values, as integers to compare with.")
    for name, cty, val in abi.pointers:
        o.append(f"pub const {name}: usize = {val};")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------------------------------------
# Exports

def find_impls():
    found = {}
    for f in sorted(API_DIR.glob("*.rs")):
        if f.name == "mod.rs":
            continue
        for m in re.finditer(r"^pub (?:unsafe )?fn (\w+)\s*[<(]", f.read_text(), re.M):
            found.setdefault(m.group(1), f.stem)
    return found


# Scalar parameter types an int form may take where its `_c` twin takes a wider one.
WIDENS = {("int", "MPI_Count"), ("int", "MPI_Aint"), ("MPI_Aint", "MPI_Count")}


class Impl:
    """Where a procedure's implementation is: `crate::api::<module>::<function>`, called with the
    parameters in `widen` converted to the twin's wider type (an int form served by its `_c`
    twin)."""

    def __init__(self, module, function, widen=None):
        self.module = module
        self.function = function
        self.widen = widen or {}

    def args(self, proto):
        return ", ".join(f"{q.rname} as {self.widen[q.name]}" if q.name in self.widen else q.rname
                         for q in proto.params)


def resolve_impls(abi, found):
    """Every implemented procedure by name: its own function in `crate::api` when there is one,
    else, for an int form whose `_c` twin is implemented and differs from it only in scalar
    parameters of a wider type (`int count` and `MPI_Count count`), the twin's, called with
    those parameters widened. So the api modules write one function per count width only where
    the two forms really differ."""
    by_name = {p.name: p for p in abi.procs}
    out = {}
    for p in abi.procs:
        if p.impl_name in found:
            out[p.impl_name] = Impl(found[p.impl_name], p.impl_name)
            continue
        twin = by_name.get(p.name + "_c")
        if not twin or twin.impl_name not in found or twin.ret != p.ret or len(twin.params) != len(p.params):
            continue
        widen = {}
        for a, b in zip(p.params, twin.params):
            same_shape = (a.name, a.levels, a.fixed, a.const) == (b.name, b.levels, b.fixed, b.const)
            if not same_shape:
                break
            if a.base != b.base:
                if a.levels or (a.base, b.base) not in WIDENS:
                    break
                widen[a.name] = b.base
        else:
            if widen:
                out[p.impl_name] = Impl(found[twin.impl_name], twin.impl_name, widen)
    return out


def raise_expr(p_list):
    for p in p_list:
        kind = RAISE_TYPES.get(p.base)
        if kind and p.levels == 0 and not p.fixed:
            return f"Raise::{kind.capitalize()}({p.rname})"
    for p in p_list:
        kind = RAISE_TYPES.get(p.base)
        if kind and p.levels == 1 and p.name in INOUT_NAMES:
            return f"Raise::{kind}_at({p.rname})"
    return "Raise::Default"


def null_value(abi, ret):
    if ret == "double":
        return "0.0"
    if ret in SCALARS or ret == "int":
        return "0"
    return abi.handle_null[ret]


def gen_exports_rs(abi, impls):
    o = [HEADER_RS,
         "//! Every procedure of the standard ABI, exported as `PMPI_X` (entry guard, then the",
         "//! implementation in `crate::api`, or MPI_ERR_UNSUPPORTED_OPERATION) and `MPI_X`",
         "//! (calls `PMPI_X`, so a profiling library can interpose `MPI_X`).",
         "",
         "#![allow(clippy::missing_safety_doc, clippy::too_many_arguments, clippy::redundant_closure, unused_variables)]",
         "",
         "use super::abi::*;",
         "use crate::entry::{self, Raise};",
         "use std::ffi::{c_char, c_int, c_void};",
         ""]
    for p in abi.procs:
        params = ", ".join(f"{q.rname}: {rust_param_type(abi, q)}" for q in p.params)
        args = ", ".join(q.rname for q in p.params)
        ret = rust_ret(abi, p.ret)
        raise_ = raise_expr(p.params)
        imp = impls.get(p.impl_name)
        mod = imp is not None
        call = f"crate::api::{imp.module}::{imp.function}({imp.args(p)})" if imp else None
        # MPI_X_toint returns the handle as an int (a value, not an error code; -1 on error).
        value_int = p.ret == "int" and p.name.endswith("_toint")
        if p.name.startswith("MPI_T_"):
            # The tool interface returns its MPI_T_ERR_* classes and calls no error handler.
            if mod:
                body = f"entry::tool(\"{p.name}\", || {call})"
            else:
                body = f"entry::tool_unsupported(\"{p.name}\")"
        elif p.ret == "int" and not value_int:
            if mod:
                body = f"entry::call(\"{p.name}\", {raise_}, || {call})"
            else:
                body = f"entry::unsupported(\"{p.name}\", {raise_})"
        else:
            null = "-1" if value_int else null_value(abi, p.ret)
            if mod:
                body = f"entry::value(\"{p.name}\", {raise_}, {null}, || {call})"
            else:
                body = f"entry::unsupported_value(\"{p.name}\", {raise_}, {null})"
        target = p.name if p.removed else "P" + p.name
        o.append("#[no_mangle]")
        o.append(f"pub unsafe extern \"C\" fn {target}({params}) -> {ret} {{")
        o.append(f"    {body}")
        o.append("}")
        if not p.removed:
            o.append("#[no_mangle]")
            o.append(f"pub unsafe extern \"C\" fn {p.name}({params}) -> {ret} {{")
            o.append(f"    P{p.name}({args})")
            o.append("}")
    return "\n".join(o) + "\n"


def gen_mod_rs(abi, impls):
    o = [HEADER_RS,
         "//! Generated from the standard ABI header by `mpi/gen/gen_abi.py`.",
         "",
         "#![allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code)]",
         "",
         "// Generated text is not reformatted (rustfmt would fight the generator).",
         "#[rustfmt::skip]",
         "pub mod abi;",
         "#[rustfmt::skip]",
         "pub mod exports;",
         "",
         "/// One procedure of the standard ABI.",
         "pub struct Procedure {",
         "    pub name: &'static str,",
         "    /// Has an implementation in `crate::api` (else it returns",
         "    /// MPI_ERR_UNSUPPORTED_OPERATION).",
         "    pub implemented: bool,",
         "    /// Removed from the standard (MPI-3.0); exported as MPI_X only, as MPICH does.",
         "    pub removed: bool,",
         "}",
         "",
         "/// Every exported procedure, in header order (removed ones last).",
         "pub static PROCEDURES: &[Procedure] = &["]
    for p in abi.procs:
        o.append(f"    Procedure {{ name: \"{p.name}\", implemented: {str(p.impl_name in impls).lower()}, "
                 f"removed: {str(p.removed).lower()} }},")
    o.append("];")
    return "\n".join(o) + "\n"


HEADER_RS = "// @generated by mpi/gen/gen_abi.py from the standard ABI header: do not edit."


# ---------------------------------------------------------------------------------------------
# include/mpi.h

def c_param(p):
    const = "const " if p.const else ""
    stars = "*" * p.stars
    dims = "".join("[]" for _ in range(p.levels - p.stars)) + "".join(f"[{d}]" for d in p.fixed)
    return f"{const}{p.base} {stars}{p.name}{dims}"


def c_params(proto):
    ps = [c_param(p) for p in proto.params]
    if proto.variadic:
        ps.append("...")
    return ", ".join(ps) if ps else "void"


def gen_mpi_h(abi):
    o = ["/* libfmi's mpi.h: the MPI 5.0 standard ABI (ABI version 1.0), for programs built against",
         " * libmpi_abi.so.1. Generated by mpi/gen/gen_abi.py: do not edit. Every value, type size and",
         " * struct layout here equals the standard ABI's (checked by mpi/tests/layout.rs). */",
         "#ifndef FMI_MPI_H",
         "#define FMI_MPI_H",
         "",
         "#include <stdint.h>",
         "",
         "#ifdef __cplusplus",
         "extern \"C\" {",
         "#endif",
         ""]
    o.append("/* ---- versions and limits ---- */")
    for name, val in abi.defines:
        if not val.startswith("(("):
            o.append(f"#define {name} {val}")
    o.append("")
    o.append("/* ---- integer types ---- */")
    o.append("typedef intptr_t MPI_Aint;")
    o.append("typedef int64_t MPI_Offset;")
    o.append("typedef MPI_Offset MPI_Count;")
    o.append("")
    o.append("typedef struct {")
    for name, cty, n in abi.status:
        o.append(f"    {cty} {name}{f'[{n}]' if n else ''};")
    o.append("} MPI_Status;")
    o.append("")
    o.append("/* ---- handles: opaque pointers; predefined values fixed by the ABI ---- */")
    for ty, tag in abi.handle_types:
        o.append(f"typedef struct {tag} *{ty};")
    o.append("")
    by_type = {}
    for name, ty, val in abi.handles:
        by_type.setdefault(ty, []).append((name, val))
    for ty, items in by_type.items():
        for name, val in items:
            o.append(f"#define {name} (({ty}){val:#06x})")
        for name, target in abi.aliases:
            if any(n == target for n, _ in items):
                o.append(f"#define {name} {target}")
    o.append("")
    o.append("/* ---- integer constants ---- */")
    for name, val in abi.defines:
        if val.startswith("(("):
            o.append(f"#define {name} ({val})")
    for items in abi.enums:
        o.append("enum {")
        o.append(",\n".join(f"    {name} = {txt}" for name, _, txt in items))
        o.append("};")
    for ty, items in abi.typed_enums:
        o.append(f"typedef enum {ty} {{")
        o.append(",\n".join(f"    {name} = {txt}" for name, _, txt in items))
        o.append(f"}} {ty};")
    o.append("")
    o.append("/* ---- address constants ---- */")
    for name, cty, val in abi.pointers:
        o.append(f"#define {name} (({cty}){val})")
    o.append("")
    o.append("/* ---- callback types ---- */")
    for name, proto in abi.fn_types:
        o.append(f"typedef {proto.ret} ({name})({c_params(proto)});")
    for alias, target in abi.fn_aliases:
        o.append(f"typedef {target} {alias};")
    o.append("")
    o.append("/* ---- procedures ---- */")
    for p in abi.procs:
        if not p.removed:
            o.append(f"{p.ret} {p.name}({c_params(p)});")
    o.append("")
    o.append("/* ---- profiling interface ---- */")
    for p in abi.procs:
        if not p.removed:
            o.append(f"{p.ret} P{p.name}({c_params(p)});")
    o.append("")
    o.append("#ifdef __cplusplus")
    o.append("}")
    o.append("#endif")
    o.append("#endif /* FMI_MPI_H */")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------------------------------------
# The layout check

def gen_layout_c(abi):
    o = ["/* Generated by mpi/gen/gen_abi.py: do not edit. Prints every constant, handle value, type",
         " * size and struct field offset of the mpi.h it is compiled against (MPICH's mpi_abi.h or",
         " * the project's include/mpi.h); mpi/tests/layout.rs compares the two outputs. */",
         "#include <stddef.h>",
         "#include <stdio.h>",
         "#include <stdint.h>",
         "#ifdef LAYOUT_MPICH",
         "#include <mpi_abi.h>",
         "#else",
         "#include <mpi.h>",
         "#endif",
         "",
         "#define I(x) printf(\"%s %lld\\n\", #x, (long long)(x))",
         "#define P(x) printf(\"%s %lld\\n\", #x, (long long)(intptr_t)(x))",
         "#define S(t) printf(\"sizeof(%s) %zu\\n\", #t, sizeof(t))",
         "#define SIGNED(t) printf(\"signed(%s) %d\\n\", #t, (t)-1 < (t)0)",
         "#define O(t, f) printf(\"offsetof(%s, %s) %zu\\n\", #t, #f, offsetof(t, f))",
         "",
         "int main(void) {"]
    for name, val in abi.defines:
        o.append(f"    I({name});")
    for items in abi.enums:
        for name, _, _ in items:
            o.append(f"    I({name});")
    for ty, items in abi.typed_enums:
        o.append(f"    S({ty});")
        for name, _, _ in items:
            o.append(f"    I({name});")
    for name, ty, _ in abi.handles:
        o.append(f"    P({name});")
    for name, _ in abi.aliases:
        o.append(f"    P({name});")
    for name, _, _ in abi.pointers:
        o.append(f"    P({name});")
    for n in SCALARS:
        o.append(f"    S({n});")
        o.append(f"    SIGNED({n});")
    o.append("    S(MPI_Status);")
    for name, _, _ in abi.status:
        o.append(f"    O(MPI_Status, {name});")
    for ty, _ in abi.handle_types:
        o.append(f"    S({ty});")
    o.append("    return 0;")
    o.append("}")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------------------------------------
# Coverage table

def gen_coverage(abi, impls):
    procs = [p for p in abi.procs]
    done = [p for p in procs if p.impl_name in impls]
    o = ["# MPI standard ABI: coverage",
         "",
         "Generated by `mpi/gen/gen_abi.py` from the standard ABI header: do not edit. Every",
         "procedure is exported as `MPI_X` and `PMPI_X` (the ten removed MPI-1 names as `MPI_X` only,",
         "as MPICH does); an unsupported one returns `MPI_ERR_UNSUPPORTED_OPERATION` through the",
         "error handler, and `MPI_Error_string` names it. See [mpi.md](mpi.md).",
         "",
         f"**{len(done)} of {len(procs)} procedures implemented, {len(procs) - len(done)} unsupported.**",
         "",
         "| Procedure | Status | Implemented in |",
         "|---|---|---|"]
    for p in sorted(procs, key=lambda p: p.name.lower()):
        imp = impls.get(p.impl_name)
        status = "implemented" if imp else "unsupported"
        if p.removed:
            status += " (removed in MPI-3.0)"
        where = f"`mpi/src/api/{imp.module}.rs`" if imp else ""
        if imp and imp.widen:
            where += f" (as `{imp.function}`)"
        o.append(f"| `{p.name}` | {status} | {where} |")
    return "\n".join(o) + "\n"


# ---------------------------------------------------------------------------------------------
# pympistandard cross-check

def cross_check(abi):
    try:
        import pympistandard as std
    except ImportError:
        raise SystemExit("pympistandard is not installed in this python (scripts/mpi-venv.sh)")
    std.use_api_version(1)
    by_name = {p.name: p for p in abi.procs}
    problems = []
    checked = 0
    for key, proc in std.PROCEDURES.items():
        try:
            iso = proc.express.iso_c
        except Exception:
            continue
        if iso is None:
            continue
        variants = [(iso.name, iso)]
        if proc.has_embiggenment():
            big = proc.express.embiggen.iso_c
            variants.append((big.name, big))
        for cname, decl in variants:
            if re.search(r"_(c2f|f2c|c2f08|f082c|f082f|f2f08)$", cname):
                # Fortran handle conversions: the ABI has MPI_X_toint/MPI_X_fromint instead.
                continue
            if cname not in by_name:
                problems.append(f"{cname}: in pympistandard, not in the header")
                continue
            ours = by_name[cname].params + ([None] if by_name[cname].variadic else [])
            theirs = list(decl.parameters)
            if len(ours) != len(theirs):
                problems.append(f"{cname}: {len(ours)} parameters in the header, {len(theirs)} in pympistandard")
            checked += 1
    return checked, problems


def rustfmt(text):
    """`text` as `cargo fmt` leaves it (mod.rs is not skipped by rustfmt)."""
    import subprocess
    r = subprocess.run(["rustfmt", "--edition", "2021", "--emit", "stdout"], input=text,
                       capture_output=True, text=True, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"rustfmt failed on the generated mod.rs: {r.stderr}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--header", help="the standard ABI header (default: <venv>/include/mpi_abi.h)")
    ap.add_argument("--check", action="store_true", help="fail if a committed output differs")
    args = ap.parse_args()
    header = Path(args.header or os.environ.get("MPI_ABI_H") or Path(sys.prefix) / "include" / "mpi_abi.h")
    if not header.exists():
        raise SystemExit(f"{header} not found: run scripts/mpi-venv.sh and use its python")
    abi = Abi(header.read_text())
    checked, problems = cross_check(abi)
    if problems:
        raise SystemExit("gen_abi: the header and pympistandard differ:\n  " + "\n  ".join(problems))
    impls = resolve_impls(abi, find_impls())
    outputs = {
        OUT_RS / "abi.rs": gen_abi_rs(abi),
        OUT_RS / "exports.rs": gen_exports_rs(abi, impls),
        OUT_RS / "mod.rs": rustfmt(gen_mod_rs(abi, impls)),
        OUT_H: gen_mpi_h(abi),
        OUT_LAYOUT: gen_layout_c(abi),
        OUT_DOC: gen_coverage(abi, impls),
    }
    stale = []
    for path, text in outputs.items():
        old = path.read_text() if path.exists() else None
        if old != text:
            stale.append(path.relative_to(ROOT))
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
    n_impl = sum(1 for p in abi.procs if p.impl_name in impls)
    print(f"gen_abi: {len(abi.procs)} procedures ({n_impl} implemented), "
          f"{checked} cross-checked with pympistandard, {len(problems)} differences")
    if args.check and stale:
        raise SystemExit(f"stale generated files (run mpi/gen/gen_abi.py): {[str(s) for s in stale]}")
    for s in stale:
        print(f"gen_abi: wrote {s}")


if __name__ == "__main__":
    main()
