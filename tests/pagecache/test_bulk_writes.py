"""The project's own bulk writes to registered models retire the pages they change.

``QuerySet.update()``, ``bulk_create()`` and ``bulk_update()`` send no ``post_save``, so the
page cache's ``watch`` never sees them (docs/caching.md, "Bulk writes"); a queryset's
``delete()`` does send ``post_delete`` for every row of a watched model. Every bulk write
to a watched model in the source either sits in a function that retires pages itself (it
calls ``invalidate`` or ``bump``, or sends ``tools_changed``, which retires the catalog),
or is listed in ``NO_RETIREMENT_NEEDED`` with the reason. Read from the source, so a new
bulk write fails here until its author decides which.
"""

from __future__ import annotations

import ast
from pathlib import Path

import toolverdict
from toolverdict.pagecache.registry import watched_models

PACKAGE = Path(toolverdict.__file__).parent
BULK = {"update", "bulk_create", "bulk_update"}
RETIRING_CALLS = {"invalidate", "bump"}
RETIRING_SIGNALS = {"tools_changed"}  # catalog/pagecache_hooks.py: retires the catalog

# (module, function) → why its bulk writes to watched models need no retirement of their
# own. The test fails when an entry no longer matches a write, so the list stays true.
NO_RETIREMENT_NEEDED: dict[tuple[str, str], str] = {
    ("catalog/importer.py", "upsert_tool"): (
        "saves the tool itself (post_save), and every caller (import_path, the ingest's "
        "candidates and approved submissions) sends tools_changed on commit"
    ),
    ("digest/admin.py", "IssueAdmin.approve_and_send"): (
        "draft to approved: pages show sent issues only; sending bumps digest when sent"
    ),
    ("digest/compose.py", "compose_issue"): (
        "the issue's create() in the same transaction bumps digest; a new issue is not sent"
    ),
    ("digest/sending.py", "start_sending"): "approved to sending: pages show sent issues only",
    ("digest/sending.py", "enqueue_send"): "the task id: no page shows it",
    ("digest/sending.py", "resume_if_stalled"): "the time of the last enqueue: no page shows it",
    ("digest/sending.py", "claim_issue"): "which sender holds the issue: no page shows it",
    ("digest/sending.py", "release_issue"): "which sender holds the issue: no page shows it",
    ("digest/tasks.py", "release_send"): "which sender holds the issue: no page shows it",
    ("digest/sending.py", "_begin_sending"): "approved to sending: pages show sent issues only",
    ("panel/store.py", "store_review"): (
        "retires the tool's previous review, then saves the new one in the same "
        "transaction, whose post_save bumps the same scopes"
    ),
    ("panel/store.py", "make_current"): (
        "hides the tool's other review and saves this one as current in the same "
        "transaction (post_save); a review already current leaves nothing to hide"
    ),
    ("panel/evaluation.py", "shuffle_evidence"): (
        "the panel evaluation's own database of fictional tools (ensure_safe_database)"
    ),
}


def _accessors() -> dict[str, str]:
    """Names that reach a watched model's rows: ``Model.objects`` and related managers
    (``tool.price_points``) → the model's name."""
    names: dict[str, str] = {}
    for model in watched_models():
        for field in model._meta.get_fields():
            if field.concrete and (field.many_to_one or field.one_to_one):
                names[field.remote_field.get_accessor_name()] = model.__name__
    return names


def _chain(node: ast.AST) -> tuple[list[str], ast.AST]:
    """Attribute names along ``a.b(...).c(...)``, innermost first, and the root node."""
    names: list[str] = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return names[::-1], node


def _model_of(node: ast.AST, local: dict[str, ast.AST], models: set[str], accessors, depth=0):
    """The watched model whose rows ``node`` (a queryset or manager expression) holds."""
    names, root = _chain(node)
    if isinstance(root, ast.Name):
        if names[:1] == ["objects"] and root.id in models:
            return root.id
        bound = local.get(root.id)
        if names[:1] == ["objects"] and isinstance(bound, ast.Tuple | ast.List):
            # ``for model in (PricePoint, Fact): model.objects…``
            among = [e.id for e in bound.elts if isinstance(e, ast.Name) and e.id in models]
            if among:
                return among[0]
        for name in names:
            if name in accessors:
                return accessors[name]
        if not names and root.id in local and depth < 5:
            return _model_of(local[root.id], local, models, accessors, depth + 1)
        if names and root.id in local and depth < 5:
            base = _model_of(local[root.id], local, models, accessors, depth + 1)
            if base is not None:
                return base
    return None


def _retires(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in RETIRING_CALLS:
            return True
        if isinstance(func, ast.Attribute) and func.attr in RETIRING_CALLS:
            return True
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "send"
            and isinstance(func.value, ast.Name)
            and func.value.id in RETIRING_SIGNALS
        ):
            return True
    return False


def _functions(tree: ast.Module):
    """(qualified name, node) of every top-level function and method; nested functions
    and lambdas belong to the one they sit in."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node.name, node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield f"{node.name}.{item.name}", item


def bulk_writes(source: str, models: set[str], accessors: dict[str, str]) -> dict:
    """(function, model, method) → does the function retire pages itself?"""
    found = {}
    for name, function in _functions(ast.parse(source)):
        local: dict[str, ast.AST] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        local[target.id] = node.value
            elif isinstance(node, ast.With | ast.AsyncWith):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        local[item.optional_vars.id] = item.context_expr
            elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
                local.setdefault(node.target.id, node.iter)
        retires = _retires(function)
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in BULK
            ):
                model = _model_of(node.func.value, local, models, accessors)
                if model is not None:
                    found[(name, model, node.func.attr)] = retires
    return found


def project_bulk_writes() -> dict[tuple[str, str, str, str], bool]:
    models = {m.__name__ for m in watched_models()}
    accessors = _accessors()
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = str(path.relative_to(PACKAGE))
        for (function, model, method), retires in bulk_writes(
            path.read_text(), models, accessors
        ).items():
            found[(module, function, model, method)] = retires
    return found


def test_every_bulk_write_to_a_watched_model_retires_pages_or_says_why_not():
    unexplained = {
        f"{module}: {function} ({model}.{method})"
        for (module, function, model, method), retires in project_bulk_writes().items()
        if not retires and (module, function) not in NO_RETIREMENT_NEEDED
    }
    assert unexplained == set(), "retire the pages there (invalidate), or say why not above"


def test_every_listed_exception_is_still_a_bulk_write_that_retires_nothing():
    silent = {(m, f) for (m, f, _model, _method), r in project_bulk_writes().items() if not r}
    assert set(NO_RETIREMENT_NEEDED) - silent == set(), "remove these: they changed"


def test_the_reader_finds_the_bulk_writes_it_must():
    found = project_bulk_writes()
    # The vote upserts and set_published retire pages themselves.
    assert found[("community/votes.py", "cast_tool_vote", "ToolVote", "bulk_create")] is True
    assert found[("community/votes.py", "cast_pair_vote", "PairVote", "bulk_create")] is True
    assert found[("catalog/services.py", "set_published", "Tool", "update")] is True
    assert found[("digest/sending.py", "_finish", "Issue", "update")] is True


def test_the_reader_follows_managers_related_managers_and_local_names():
    source = """
def write(tool):
    Tool.objects.filter(pk=1).update(name="x")
    tool.price_points.filter(origin="e").update(amount=1)
    rows = Fact.objects.filter(tool=tool)
    rows.update(value="v")
    {}.update(a=1)
    Other.objects.update(x=1)
    for model in (Other, Fact):
        model.objects.bulk_update([], ["position"])

def announced(ids):
    Tool.objects.bulk_update([], ["name"])
    transaction.on_commit(lambda: tools_changed.send(sender=Tool, tool_ids=ids))

class Admin:
    def action(self, queryset):
        for member in queryset:
            pass
        Member.objects.filter(pk=1).update(votes_excluded=True)
        invalidate("votes")
"""
    found = bulk_writes(
        source, {"Tool", "Fact", "Member", "PricePoint"}, {"price_points": "PricePoint"}
    )
    assert found == {
        ("write", "Tool", "update"): False,
        ("write", "PricePoint", "update"): False,
        ("write", "Fact", "update"): False,
        ("write", "Fact", "bulk_update"): False,
        ("announced", "Tool", "bulk_update"): True,
        ("Admin.action", "Member", "update"): True,
    }


def test_the_registered_models_are_known_to_the_reader():
    names = {m.__name__ for m in watched_models()}
    assert {"Tool", "PricePoint", "Fact", "ToolVote", "PairVote", "Review", "Issue"} <= names
