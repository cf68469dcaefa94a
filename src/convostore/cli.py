"""The `convostore` command line."""

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
import uvicorn
from bson import ObjectId
from pydantic import SecretStr, ValidationError
from pymongo.errors import DuplicateKeyError, PyMongoError
from tqdm import tqdm

from convostore.analysts import AnalystExists, analyst_uri, create_analyst
from convostore.auth import issue_token, load_jwt_secret
from convostore.config import Settings, get_settings, redact_uri
from convostore.database import Connection, connect, start_embedded
from convostore.embedded import EmbeddedServerUnavailable
from convostore.exporting import export_chunks
from convostore.importing import ImportReport, import_conversations, read_chitchat, read_jsonl
from convostore.migrations.backfill import BackfillSummary, backfill_timestamps
from convostore.migrations.indexes import (
    CollectionPlan,
    DuplicateKeys,
    apply_index_plan,
    plan_indexes,
)
from convostore.migrations.run import migrate
from convostore.migrations.validators import apply_validators, validator_for
from convostore.models import DOCUMENT_MODELS, User

app = typer.Typer(help="convostore: a MongoDB document service for a chatbot.",
                  no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(users_app, name="users")
indexes_app = typer.Typer(help="Compare and apply the indexes the models declare.",
                          no_args_is_help=True)
app.add_typer(indexes_app, name="indexes")
schema_app = typer.Typer(help="The $jsonSchema validators derived from the models.",
                         no_args_is_help=True)
app.add_typer(schema_app, name="schema")
migrate_app = typer.Typer(help="Bring the database in step with the models.")
app.add_typer(migrate_app, name="migrate")
analyst_app = typer.Typer(help="Read-only database access for data scientists.",
                          no_args_is_help=True)
app.add_typer(analyst_app, name="analyst")

ResultT = TypeVar("ResultT")


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as error:
        raise _fail(f"bad configuration: {error}") from None


def _user_id(value: str) -> ObjectId:
    if not ObjectId.is_valid(value):
        raise _fail(f"{value!r} is not a user id (24 hex digits)")
    return ObjectId(value)


def _with_database(
    work: Callable[[Connection], Awaitable[ResultT]], *, manage_schema: bool | None = None
) -> ResultT:
    """Run `work` against the configured database (attaching to or starting the embedded one)."""

    async def run() -> ResultT:
        async with connect(_settings(), manage_schema=manage_schema) as connection:
            return await work(connection)

    try:
        return asyncio.run(run())
    except EmbeddedServerUnavailable as error:
        raise _fail(str(error)) from None
    except PyMongoError as error:
        raise _fail(f"database error: {error}") from None


async def _require_user(user_id: ObjectId) -> None:
    if await User.get(user_id) is None:
        raise _fail(f"no user with id {user_id}")


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API (and, without CONVOSTORE_MONGODB_URI, the embedded database)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = _settings()

    embedded = None
    if settings.mongodb_uri is None:
        try:
            embedded = start_embedded(settings)
        except EmbeddedServerUnavailable as error:
            raise _fail(str(error)) from None
        embedded.supervise()
        settings = settings.model_copy(update={"mongodb_uri": SecretStr(embedded.uri)})

    # uvicorn shuts down gracefully on Ctrl-C or SIGTERM and then re-raises the signal; these
    # handlers turn that into a normal exit, so `finally` below still stops the embedded database.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_cleanly)
    try:
        from convostore.api.app import create_app

        api_url = f"http://{host}:{port}"
        database_uri = redact_uri(settings.mongodb_uri.get_secret_value())  # type: ignore[union-attr]
        typer.echo(f"API:      {api_url}/v1")
        typer.echo(f"Docs:     {api_url}/docs")
        typer.echo(f"MongoDB:  {database_uri.rstrip('/')}/{settings.database}")
        app_ = create_app(settings, manage_schema=embedded is not None or None)
        uvicorn.run(app_, host=host, port=port, log_level="info")
    finally:
        if embedded is not None:
            embedded.stop()


@users_app.command("create")
def create_user(
    email: Annotated[str, typer.Option(help="The user's email address (unique).")],
    name: Annotated[str, typer.Option(help="The user's display name.")] = "",
) -> None:
    """Create a user and print its id."""

    async def work(_: Connection) -> str:
        try:
            user = User(email=email, name=name)
        except ValidationError as error:
            raise _fail(error.errors(include_url=False)[0]["msg"]) from None
        try:
            await user.insert()
        except DuplicateKeyError:
            raise _fail(f"a user with email {user.email} exists") from None
        return str(user.id)

    typer.echo(_with_database(work))


@app.command()
def token(
    user_id: Annotated[str, typer.Argument(help="The user the token speaks for.")],
    admin: Annotated[bool, typer.Option(help="Grant the admin scope.")] = False,
    ttl: Annotated[int, typer.Option(min=1, help="Seconds until the token expires.")] = 3600,
) -> None:
    """Print a bearer token for a user."""
    settings = _settings()
    subject = _user_id(user_id)
    _with_database(lambda _: _require_user(subject))
    typer.echo(issue_token(load_jwt_secret(settings), subject, admin=admin, ttl_seconds=ttl))


@app.command("import")
def import_(
    user: Annotated[str, typer.Option(help="The user who will own the conversations.")],
    path: Annotated[Path | None, typer.Argument(
        exists=True, dir_okay=False, help="A JSONL file, a conversation a line."
    )] = None,
    chitchat: Annotated[bool, typer.Option(help="Import the chitchat dataset.")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N.")] = None,
) -> None:
    """Import conversations from a JSONL file or the chitchat dataset."""
    if (path is None) == (not chitchat):
        raise _fail("give either a PATH or --chitchat")
    owner = _user_id(user)
    report = ImportReport()

    async def work(_: Connection) -> ImportReport:
        await _require_user(owner)
        try:
            source = read_chitchat() if chitchat else read_jsonl(path, report)  # type: ignore[arg-type]
        except RuntimeError as error:
            raise _fail(str(error)) from None
        if limit is not None:
            source = (draft for _, draft in zip(range(limit), source, strict=False))
        # Known gap: the bar shows no total or time left; the source is read as it goes, so
        # its size is not known up front.
        with tqdm(unit=" messages", file=sys.stderr, desc="importing") as progress:
            return await import_conversations(owner, source, report, progress.update)

    _with_database(work)
    for problem in report.skipped:
        typer.secho(f"skipped {problem}", err=True, fg=typer.colors.YELLOW)
    typer.echo(f"imported {report.conversations} conversations, {report.messages} messages"
               + (f"; skipped {len(report.skipped)} lines" if report.skipped else ""))


@app.command()
def export(
    user: Annotated[str, typer.Option(help="Whose conversations to export.")],
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Export a user's conversations as JSONL (the format `import` reads)."""
    owner = _user_id(user)

    async def work(_: Connection) -> None:
        await _require_user(owner)
        target = out.open("w", encoding="utf-8") if out else sys.stdout
        try:
            async for chunk in export_chunks(owner):
                target.write(chunk)
        finally:
            if out:
                target.close()

    _with_database(work)


def _print_index_plan(plans: list[CollectionPlan]) -> None:
    for plan in plans:
        if plan.in_sync:
            typer.echo(f"{plan.collection}: in sync")
            continue
        typer.echo(f"{plan.collection}:")
        for spec in plan.missing:
            typer.echo(f"  + missing   {spec.name} {spec.describe()}")
        for declared, found in plan.differing:
            typer.echo(f"  ~ differs   {declared.name}: declared {declared.describe()}, "
                       f"found {found.describe()}")
        for spec in plan.extra:
            typer.echo(f"  - extra     {spec.name} {spec.describe()} "
                       "(not declared; `apply --drop-extra` drops it)")


def _fail_on_duplicates(error: DuplicateKeys) -> typer.Exit:
    for duplicate in error.duplicates:
        typer.secho(
            f"duplicate in {duplicate['collection']} for unique index {duplicate['index']}: "
            f"{duplicate['value']} held by {', '.join(duplicate['ids'])}",
            err=True, fg=typer.colors.RED,
        )
    return _fail("nothing was built: remove the duplicates, then apply again")


def _apply(work: Callable[[Connection], Awaitable[list[str]]], in_step: str) -> None:
    """Run a migration and print what it did, one line each (or that nothing was needed)."""
    try:
        done = _with_database(work, manage_schema=False)
    except DuplicateKeys as error:
        raise _fail_on_duplicates(error) from None
    typer.echo("\n".join(done) if done else in_step)


@indexes_app.command("plan")
def indexes_plan(
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show how each collection's indexes differ from the models. Exit 1 on drift."""

    async def work(connection: Connection) -> list[CollectionPlan]:
        return await plan_indexes(connection.database)

    plans = _with_database(work, manage_schema=False)
    if as_json:
        typer.echo(json.dumps([plan.describe() for plan in plans], indent=2, default=str))
    else:
        _print_index_plan(plans)
    if not all(plan.in_sync for plan in plans):
        raise typer.Exit(code=1)


@indexes_app.command("apply")
def indexes_apply(
    drop_extra: Annotated[bool, typer.Option(help="Also drop undeclared indexes.")] = False,
) -> None:
    """Create missing indexes and replace differing ones, keeping queries indexed."""

    async def work(connection: Connection) -> list[str]:
        plans = await plan_indexes(connection.database)
        return await apply_index_plan(connection.database, plans, drop_extra=drop_extra)

    _apply(work, "indexes already in step with the models")


@schema_app.command("show")
def schema_show() -> None:
    """Print the validator each collection gets, as JSON."""
    validators = {model.Settings.name: validator_for(model) for model in DOCUMENT_MODELS}
    typer.echo(json.dumps(validators, indent=2))


@schema_app.command("apply")
def schema_apply() -> None:
    """Set each collection's $jsonSchema validator (level moderate, action error)."""

    async def work(connection: Connection) -> list[str]:
        return await apply_validators(connection.database)

    _apply(work, "validators already in step with the models")


@migrate_app.callback(invoke_without_command=True)
def migrate_all(
    context: typer.Context,
    drop_extra: Annotated[bool, typer.Option(help="Also drop undeclared indexes.")] = False,
) -> None:
    """Without a subcommand: apply the indexes, then the validators."""
    if context.invoked_subcommand is not None:
        return

    async def work(connection: Connection) -> list[str]:
        return await migrate(connection.database, drop_extra=drop_extra)

    _apply(work, "database already in step with the models")


@migrate_app.command("backfill-timestamps")
def migrate_backfill_timestamps(
    dry_run: Annotated[bool, typer.Option(help="Only count what needs repair.")] = False,
) -> None:
    """Repair missing, string or non-UTC created_at/updated_at in every collection."""

    async def work(connection: Connection) -> list[BackfillSummary]:
        with tqdm(unit=" documents", file=sys.stderr, desc="backfilling",
                  disable=dry_run) as progress:
            return await backfill_timestamps(connection.database, dry_run=dry_run,
                                             on_progress=progress.update)

    summaries = _with_database(work, manage_schema=False)
    for summary in summaries:
        verb = "would repair" if dry_run else "repaired"
        count = summary.needing_repair if dry_run else summary.repaired
        typer.echo(f"{summary.collection}: {verb} {count} of {summary.needing_repair} "
                   "documents needing it")


@analyst_app.command("create-user")
def analyst_create_user(
    name: Annotated[str, typer.Argument(help="The database user's name.")],
) -> None:
    """Create a read-only database user and print a connection string for it."""
    settings = _settings()

    async def work(connection: Connection) -> str:
        password = await create_analyst(connection.database, name)
        return analyst_uri(connection.uri, settings.database, name, password)

    try:
        uri = _with_database(work, manage_schema=False)
    except AnalystExists as error:
        raise _fail(str(error)) from None
    if settings.mongodb_uri is None:
        typer.secho(
            "note: the embedded server runs without authentication unless started with "
            "--auth (see README, 'Access for data scientists'); until then anyone on this "
            "machine can connect without this password",
            err=True, fg=typer.colors.YELLOW,
        )
    typer.echo(uri)
