"""Which queries a process sends, and whether an index can answer each of them.

Used by the index-use test and by `scripts/bench.py`: a PyMongo command listener records
the filter, sort and hint of every query-bearing command; `unindexed` names the ones whose
filter seeks on no declared index's leading field, and `plan_stages` lists the stages of
the plan the server's `explain` reports.
"""

from typing import Any

from pymongo import monitoring
from pymongo.asynchronous.database import AsyncDatabase

_QUERY_COMMANDS = {"find", "findAndModify", "aggregate", "delete", "update"}
_SEEKABLE_OPERATORS = {"$eq", "$in", "$gt", "$gte", "$lt", "$lte"}
Query = tuple[str, dict[str, Any], Any, Any]  # collection, filter, sort, hint


class QueryRecorder(monitoring.CommandListener):
    """Records (collection, filter, sort, hint) of every query-bearing command."""

    def __init__(self) -> None:
        self.recording = False
        self.queries: list[tuple[str, dict[str, Any], Any, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.recording or event.command_name not in _QUERY_COMMANDS:
            return
        command = event.command
        collection = command[event.command_name]
        if event.command_name == "find":
            statements = [(command.get("filter", {}), command.get("sort"), command.get("hint"))]
        elif event.command_name == "findAndModify":
            statements = [(command.get("query", {}), command.get("sort"), command.get("hint"))]
        elif event.command_name == "aggregate":
            match = command["pipeline"][0].get("$match", {}) if command["pipeline"] else {}
            statements = [(match, None, command.get("hint"))]
        else:
            key = "updates" if event.command_name == "update" else "deletes"
            statements = [(s.get("q", {}), None, s.get("hint")) for s in command.get(key, [])]
        for query_filter, sort, hint in statements:
            self.queries.append((collection, query_filter, sort, hint))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass



def register_recorder() -> QueryRecorder:
    """A recorder for every client created from now on in this process."""
    recorder = QueryRecorder()
    monitoring.register(recorder)
    return recorder


def _stages(plan: dict) -> list[str]:
    stages = [plan.get("stage", "")]
    for key in ("inputStage", "outerStage", "innerStage"):
        if key in plan:
            stages += _stages(plan[key])
    for child in plan.get("inputStages", []):
        stages += _stages(child)
    return stages


async def plan_stages(database: AsyncDatabase, query: Query) -> list[str]:
    """The stages of the winning plan `explain` reports for a recorded query."""
    collection, query_filter, sort, hint = query
    command: dict[str, Any] = {"find": collection, "filter": query_filter}
    if sort:
        command["sort"] = sort
    if hint:
        command["hint"] = hint
    explained = await database.command({"explain": command, "verbosity": "queryPlanner"})
    return _stages(explained["queryPlanner"]["winningPlan"])


def _constrained_fields(query_filter: dict[str, Any]) -> set[str]:
    """Top-level fields the filter pins to a value or a range (what an index can seek on)."""
    fields = set()
    for field, condition in query_filter.items():
        if field.startswith("$"):
            continue
        if isinstance(condition, dict) and not set(condition) <= _SEEKABLE_OPERATORS:
            continue
        fields.add(field)
    return fields


async def unindexed(database: AsyncDatabase, queries: list[Query]) -> list[Query]:
    """The queries whose filter constrains no declared index's leading field."""
    leading_fields = {}
    for name in await database.list_collection_names():
        indexes = await database[name].index_information()
        leading_fields[name] = {spec["key"][0][0] for spec in indexes.values()}
    return [query for query in queries
            if not _constrained_fields(query[1]) & leading_fields.get(query[0], set())]
