"""Walk the public surface of the installed openpit and find where openpit_shm differs.

The surface is every public module of openpit (found with ``pkgutil``, no part
starting with ``_``), every public name in each, and for each class its
constructor, public methods, properties, class constants, dataclass fields,
enum members, hashability and the standard-library classes it derives from
(``ValueError``, ``str``, ``enum.Enum``...). Signatures come from
``inspect.signature``; where openpit's native code gives none, from the
``.pyi`` stubs shipped in its wheel (parsed with ``ast``).

Names that are plain imports of the standard library (``typing``,
``dataclasses``, ``suppress``, ``Iterable``, ``annotations``...) are not part
of the surface: that is decided by what the object is (a stdlib module, or an
object whose ``__module__`` is a stdlib module), never by a list of names.
Members a class inherits from a standard-library base (``str.upper``,
``Exception.args``) are likewise not walked: the base-class check covers them.

``surface_problems()`` returns ``{key: [problem, ...]}`` for every surface
entry, the key being the path below the package (``"core.Order"``,
``"param.Leverage.__init__"``, ``"Engine.start_pre_trade"``); an empty list
means openpit_shm matches. The first path a class is found under (its own
``__module__`` when that is public) carries its member checks; other paths
only check that openpit_shm exposes the same object there as well.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import importlib
import inspect
import pathlib
import pkgutil
import sys
import types
import typing
from typing import Any

import openpit

import openpit_shm

STDLIB = frozenset(sys.stdlib_module_names)
ANY_DEFAULT = "<stub default>"


def is_stdlib_module_name(name: str | None) -> bool:
    return bool(name) and name.split(".")[0] in STDLIB


def is_stdlib_import(obj: Any) -> bool:
    """Whether ``obj`` is something a module imported from the standard library."""
    if inspect.ismodule(obj):
        return is_stdlib_module_name(obj.__name__)
    if isinstance(obj, type) or inspect.isroutine(obj):
        return is_stdlib_module_name(getattr(obj, "__module__", None))
    # An instance: a constant like ``DEFAULT_POLICY_GROUP_ID = 0`` is surface,
    # ``from __future__ import annotations`` (a ``__future__._Feature``) is not.
    module = type(obj).__module__
    return module != "builtins" and is_stdlib_module_name(module)


def public_modules() -> list[str]:
    """Dotted names below ``openpit`` ('' for the package) of its public modules."""
    names = [""]
    for info in pkgutil.walk_packages(openpit.__path__, "openpit."):
        parts = info.name.split(".")[1:]
        if not any(part.startswith("_") for part in parts):
            names.append(".".join(parts))
    return names


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


# --------------------------------------------------------------------------- stubs


@functools.cache
def stub_index() -> dict[str, dict[str, ast.FunctionDef]]:
    """``{class name or '': {member name: FunctionDef}}`` from openpit's ``.pyi`` files."""
    index: dict[str, dict[str, ast.FunctionDef]] = {}
    root = pathlib.Path(openpit.__file__).parent
    for path in sorted(root.rglob("*.pyi")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                index.setdefault("", {})[node.name] = node
            elif isinstance(node, ast.ClassDef):
                members = index.setdefault(node.name, {})
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        # Overloads and property setters repeat a name: keep the first.
                        members.setdefault(item.name, item)
    return index


def _stub_default(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    text = ast.unparse(node)
    if text == "...":
        return ANY_DEFAULT
    if isinstance(node, ast.Attribute):  # param.Side.BUY -> Side.BUY
        return ".".join(text.split(".")[-2:])
    return text


def stub_signature(owner: str, name: str, drop_first: bool) -> tuple | None:
    node = stub_index().get(owner, {}).get(name)
    if node is None:
        return None
    args = node.args
    params: list[tuple[str, str, str | None]] = []
    positional = [(a, "POSITIONAL_ONLY") for a in args.posonlyargs]
    positional += [(a, "POSITIONAL_OR_KEYWORD") for a in args.args]
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    for (arg, kind), default in zip(positional, defaults, strict=True):
        params.append((arg.arg, kind, _stub_default(default)))
    if args.vararg:
        params.append((args.vararg.arg, "VAR_POSITIONAL", None))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append((arg.arg, "KEYWORD_ONLY", _stub_default(default)))
    if args.kwarg:
        params.append((args.kwarg.arg, "VAR_KEYWORD", None))
    if drop_first and params:
        params = params[1:]
    return tuple(params)


# ----------------------------------------------------------------------- signatures


def normalize_default(value: Any) -> str | None:
    if value is inspect.Parameter.empty:
        return None
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return repr(value)
    if isinstance(value, (tuple, list, frozenset)) and not value:
        return repr(value)
    return f"{type(value).__name__}:{value!r}"


def runtime_signature(func: Any, drop_first: bool) -> tuple | None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params = [
        (p.name, p.kind.name, normalize_default(p.default)) for p in signature.parameters.values()
    ]
    if drop_first and params:
        params = params[1:]
    return tuple(params)


def same_signature(ours: tuple, theirs: tuple) -> bool:
    if len(ours) != len(theirs):
        return False
    for (o_name, o_kind, o_def), (t_name, t_kind, t_def) in zip(ours, theirs, strict=True):
        if o_name != t_name or o_kind != t_kind:
            return False
        if ANY_DEFAULT in (o_def, t_def):
            if (o_def is None) != (t_def is None):
                return False
        elif o_def != t_def:
            return False
    return True


def render(signature: tuple | None) -> str:
    if signature is None:
        return "<no signature>"
    parts = []
    for name, kind, default in signature:
        prefix = {"VAR_POSITIONAL": "*", "VAR_KEYWORD": "**"}.get(kind, "")
        tag = {"POSITIONAL_ONLY": "/", "KEYWORD_ONLY": "kw:"}.get(kind, "")
        parts.append(f"{tag}{prefix}{name}" + ("" if default is None else f"={default}"))
    return "(" + ", ".join(parts) + ")"


# ---------------------------------------------------------------------- class walk


def defining_class(cls: type, name: str) -> type | None:
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def member_kind(raw: Any) -> str:
    if isinstance(raw, staticmethod):
        return "staticmethod"
    if isinstance(raw, (classmethod, types.ClassMethodDescriptorType)):
        return "classmethod"
    if isinstance(
        raw,
        (
            property,
            functools.cached_property,
            types.GetSetDescriptorType,
            types.MemberDescriptorType,
        ),
    ):
        return "property"
    if isinstance(raw, type):
        return "class"
    if inspect.isroutine(raw):
        return "method"
    return "constant"


def constructor_signature(cls: type) -> tuple | None:
    """Constructor parameters: a class ``__signature__``, a Python ``__init__``/``__new__``,
    a native text signature, a stub."""
    if isinstance(getattr(cls, "__signature__", None), inspect.Signature):
        return runtime_signature(cls, drop_first=False)
    for klass in cls.__mro__:
        if klass is object or is_stdlib_module_name(klass.__module__):
            break
        for hook in ("__init__", "__new__"):
            raw = vars(klass).get(hook)
            if isinstance(raw, staticmethod):
                raw = raw.__func__
            if isinstance(raw, types.FunctionType):
                signature = runtime_signature(raw, drop_first=True)
                kinds = {kind for _name, kind, _default in signature}
                if hook == "__new__" and kinds <= {"VAR_POSITIONAL", "VAR_KEYWORD"}:
                    continue  # a pass-through __new__ says nothing about the arguments
                return signature
    if getattr(cls, "__text_signature__", None):
        return runtime_signature(cls, drop_first=False)
    for hook in ("__init__", "__new__"):
        signature = stub_signature(cls.__name__, hook, drop_first=True)
        if signature is not None:
            return signature
    return None


def stdlib_bases(cls: type) -> set[str]:
    return {
        f"{klass.__module__}.{klass.__qualname__}"
        for klass in cls.__mro__
        if klass is not object and is_stdlib_module_name(klass.__module__)
    }


def public_members(cls: type, allow: typing.Mapping[str, str]) -> dict[str, Any]:
    """Public names a class defines itself or inherits from a non-stdlib base."""
    members = {}
    enum_names = set(cls.__members__) if issubclass(cls, enum.Enum) else set()
    for name in dir(cls):
        if name.startswith("_") or name in enum_names:
            continue
        owner = defining_class(cls, name)
        if owner is None:  # metaclass attribute
            continue
        if is_stdlib_module_name(owner.__module__) or owner.__module__ in allow:
            continue
        members[name] = vars(owner)[name]
    return members


def member_signature(cls: type, name: str, kind: str) -> tuple | None:
    value = getattr(cls, name)
    drop_first = kind == "method"
    signature = runtime_signature(value, drop_first)
    if signature is None:
        signature = stub_signature(cls.__name__, name, drop_first=kind in ("method", "classmethod"))
    return signature


def is_hashable(cls: type) -> bool:
    """Whether instances hash: ``__hash__`` is not None and does not raise "unhashable type".

    openpit_shm's stand-ins for native classes raise the ``TypeError`` themselves
    (to print openpit's class name); a bare instance is enough to ask them.
    """
    if cls.__hash__ is None:
        return False
    if getattr(cls, "__del__", None) is not None:
        return True  # a bare instance would run a finalizer on state it never had
    try:
        bare = object.__new__(cls)
    except TypeError:  # a native or builtin-derived class: its __hash__ is real
        return True
    try:
        cls.__hash__(bare)
    except TypeError as error:
        return "unhashable" not in str(error)
    except Exception:
        return True
    return True


def alias_names(alias: Any) -> list[str]:
    """The member names of a ``typing`` alias or ``X | Y`` union."""
    return sorted(getattr(arg, "__name__", repr(arg)) for arg in typing.get_args(alias))


def enum_value(member: enum.Enum) -> Any:
    value = member.value
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)


def constant_value(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    return f"{type(value).__name__}:{value!r}".replace("openpit_shm", "openpit")


class SurfaceWalk:
    """Collects ``{key: [problems]}`` for the whole openpit surface."""

    def __init__(self, allow: typing.Mapping[str, str]) -> None:
        self.allow = allow
        self.problems: dict[str, list[str]] = {}
        self.first_path: dict[int, str] = {}

    def record(self, key: str, problem: str | None = None) -> None:
        entry = self.problems.setdefault(key, [])
        if problem:
            entry.append(problem)

    def run(self) -> dict[str, list[str]]:
        modules = public_modules()
        # A class's member checks go under its own module when that is public.
        for module_name in modules:
            theirs = importlib.import_module(_join("openpit", module_name))
            for name in dir(theirs):
                value = getattr(theirs, name)
                if isinstance(value, type) and value.__module__ == theirs.__name__:
                    self.first_path.setdefault(id(value), _join(module_name, name))
        for module_name in modules:
            self.walk_module(module_name)
        return self.problems

    def walk_module(self, module_name: str) -> None:
        key = module_name or "openpit"
        try:
            ours = importlib.import_module(_join("openpit_shm", module_name))
        except ImportError as error:
            self.record(key, f"module missing: {error}")
            return
        self.record(key)
        theirs = importlib.import_module(_join("openpit", module_name))
        for name in dir(theirs):
            if name.startswith("_"):
                continue
            value = getattr(theirs, name)
            if is_stdlib_import(value) and not self.is_alias(value):
                continue
            path = _join(module_name, name)
            if not hasattr(ours, name):
                self.record(path, f"missing: openpit_shm.{path}")
                continue
            self.compare(path, value, getattr(ours, name))

    @staticmethod
    def is_alias(value: Any) -> bool:
        return isinstance(value, types.UnionType) or typing.get_origin(value) is not None

    def compare(self, path: str, theirs: Any, ours: Any) -> None:
        if inspect.ismodule(theirs):
            expected = theirs.__name__.replace("openpit", "openpit_shm", 1)
            if not inspect.ismodule(ours) or ours.__name__ != expected:
                self.record(path, f"expected module {expected}, found {ours!r}")
            else:
                self.record(path)
        elif self.is_alias(theirs):
            if not self.is_alias(ours) or alias_names(theirs) != alias_names(ours):
                self.record(path, f"alias of {alias_names(theirs)}, found {ours!r}")
            else:
                self.record(path)
        elif isinstance(theirs, type):
            self.compare_class_at(path, theirs, ours)
        elif callable(theirs):
            self.compare_callable(path, theirs, ours, "function", None)
        else:
            self.record(path)
            if constant_value(theirs) != constant_value(ours):
                self.record(path, f"value {constant_value(theirs)}, found {constant_value(ours)}")

    def compare_callable(
        self, path: str, theirs: Any, ours: Any, kind: str, owner: type | None
    ) -> None:
        self.record(path)
        if not callable(ours):
            self.record(path, f"expected a {kind}, found {ours!r}")
            return
        drop = kind == "method"
        their_sig = (
            member_signature(owner, path.rsplit(".", 1)[1], kind)
            if owner is not None
            else runtime_signature(theirs, False) or stub_signature("", theirs.__name__, False)
        )
        our_sig = runtime_signature(ours, drop)
        if their_sig is None:
            return
        if our_sig is None or not same_signature(their_sig, our_sig):
            self.record(path, f"signature {render(their_sig)}, found {render(our_sig)}")

    def compare_class_at(self, path: str, theirs: type, ours: Any) -> None:
        first = self.first_path.setdefault(id(theirs), path)
        self.record(path)
        if not isinstance(ours, type):
            self.record(path, f"expected a class, found {ours!r}")
            return
        if first != path:
            # A re-export: openpit_shm must re-export the very same class.
            module_name, _, name = first.rpartition(".")
            try:
                canonical = getattr(
                    importlib.import_module(_join("openpit_shm", module_name)), name
                )
            except (ImportError, AttributeError):
                return  # reported under the first path
            if canonical is not ours:
                self.record(path, f"not the same object as openpit_shm.{first}")
            return
        self.compare_class(path, theirs, ours)

    def compare_class(self, path: str, theirs: type, ours: type) -> None:
        missing_bases = stdlib_bases(theirs) - stdlib_bases(ours)
        if missing_bases:
            self.record(path, f"does not derive from {sorted(missing_bases)}")
        their_ctor = constructor_signature(theirs)
        if their_ctor is not None and not issubclass(theirs, enum.Enum):
            key = f"{path}.__init__"
            self.record(key)
            our_ctor = constructor_signature(ours)
            if our_ctor is None or not same_signature(their_ctor, our_ctor):
                self.record(key, f"constructor {render(their_ctor)}, found {render(our_ctor)}")
        self.compare_hashability(path, theirs, ours)
        if issubclass(theirs, enum.Enum):
            self.compare_enum(path, theirs, ours)
        if dataclasses.is_dataclass(theirs):
            for field in dataclasses.fields(theirs):
                key = f"{path}.{field.name}"
                self.record(key)
                our_fields = (
                    {f.name for f in dataclasses.fields(ours)}
                    if dataclasses.is_dataclass(ours)
                    else set()
                )
                if (
                    field.name not in our_fields
                    and member_kind(inspect.getattr_static(ours, field.name, None)) != "property"
                ):
                    self.record(key, "dataclass field missing")
        ours_members = public_members(ours, {})
        for name, raw in public_members(theirs, self.allow).items():
            key = f"{path}.{name}"
            kind = member_kind(raw)
            if name not in ours_members:
                if not hasattr(ours, name):
                    self.record(key, f"missing {kind}")
                    continue
                our_raw = inspect.getattr_static(ours, name)
            else:
                our_raw = ours_members[name]
            our_kind = member_kind(our_raw)
            if our_kind != kind:
                self.record(key, f"a {kind} in openpit, a {our_kind} here")
                continue
            if kind in ("method", "staticmethod", "classmethod"):
                self.compare_callable(key, getattr(theirs, name), getattr(ours, name), kind, theirs)
            elif kind == "constant":
                self.record(key)
                their_value, our_value = (
                    constant_value(getattr(theirs, name)),
                    constant_value(getattr(ours, name)),
                )
                if their_value != our_value:
                    self.record(key, f"value {their_value}, found {our_value}")
            else:
                self.record(key)

    def compare_hashability(self, path: str, theirs: type, ours: type) -> None:
        key = f"{path}.__hash__"
        self.record(key)
        their_hashable, our_hashable = is_hashable(theirs), is_hashable(ours)
        if their_hashable != our_hashable:
            words = {True: "hashable", False: "unhashable"}
            self.record(key, f"{words[their_hashable]} in openpit, {words[our_hashable]} here")

    def compare_enum(self, path: str, theirs: type[enum.Enum], ours: type) -> None:
        our_members = getattr(ours, "__members__", {})
        for name, member in theirs.__members__.items():
            key = f"{path}.{name}"
            self.record(key)
            if name not in our_members:
                self.record(key, "enum member missing")
            elif enum_value(member) != enum_value(our_members[name]):
                self.record(
                    key, f"value {enum_value(member)!r}, found {enum_value(our_members[name])!r}"
                )
        extra = sorted(set(our_members) - set(theirs.__members__))
        if extra:
            self.record(f"{path}.__members__", f"members openpit does not have: {extra}")


def surface_problems(allow: typing.Mapping[str, str]) -> dict[str, list[str]]:
    assert openpit.__name__ == "openpit" and openpit_shm.__name__ == "openpit_shm"
    return SurfaceWalk(allow).run()
