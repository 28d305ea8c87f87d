"""The ``mapservice`` command: serve, check, coverage, import, gazetteer, token, survey, history, settings."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .catalog.layers import CatalogError, load_catalog
from .catalog.validation import ValidationError
from .config import ConfigError, Settings, load_settings, setting_help
from .store.base import Reclaimed, Store, StoreError

if TYPE_CHECKING:
    from .catalog.layers import Catalog
    from .services import Services

# Errors a user can fix: print the message (it names file, key, feature, field), no trace.
USER_ERRORS = (CatalogError, ConfigError, ValidationError, StoreError)


def _fail(exc: Exception) -> NoReturn:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


@click.group()
@click.version_option(package_name="mapservice")
def main() -> None:
    """District Safety Map: kommunale Kriminalprävention auf der Karte."""
    import logging

    # psycopg logs a warning when it abandons a failed pipeline; the CLI reports that error
    # itself, in one line, so the library's note would only be noise in front of it.
    logging.getLogger("psycopg").addHandler(logging.NullHandler())


def _default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def _count_option(
    flag: str, default: int | None, most: int, text: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A whole-number option from 1 to ``most``; its default is shown where it has one."""
    return click.option(
        flag, default=default, show_default=default is not None, type=click.IntRange(1, most), help=text
    )


DATA_HELP = "Geodata folder to check [default: the configured one]."
OUTPUT_HELP = "Write to this file (written whole or not at all) [default: standard output]."


def _path_option(*decls: str, folder: bool, text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An optional path option: a folder, or a file."""
    kind = click.Path(file_okay=not folder, dir_okay=folder, path_type=Path)
    return click.option(*decls, type=kind, default=None, help=text)


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 for every interface).",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@_count_option("--workers", None, 64, "gunicorn worker processes [default: 2 × cores + 1, at most 8].")
@_count_option("--threads", 4, 64, "Threads per worker that answer whole requests.")
@_count_option("--timeout", 30, 3600, "Seconds before a hung worker is restarted.")
def serve(host: str, port: int, workers: int | None, threads: int, timeout: int) -> None:
    """Start the service with gunicorn (the store is created on first start)."""
    try:
        # A lost or damaged store file stops start-up first, in one line (every page read).
        _check_store()
    except USER_ERRORS as exc:
        _fail(exc)
    import gunicorn.http.wsgi
    from gunicorn.app.base import BaseApplication

    from . import create_app
    from .http import server
    from .http.access_log import AccessLogger

    # Every response said "Server: gunicorn": no need to tell a scanner the stack. gunicorn
    # has no setting for it; its responses take the name from this module global.
    gunicorn.http.wsgi.SERVER = "mapservice"
    # gunicorn's own 400/414/431 answers were HTML; the API's errors are JSON.
    server.install()

    try:
        # Built before forking: a broken catalog stops start-up here, with its message,
        # and the workers share the read-only parts of the loaded app.
        app = create_app()
    except USER_ERRORS as exc:
        _fail(exc)
    services = app.extensions["mapservice"]
    try:
        services.warm()
    except USER_ERRORS as exc:
        _fail(exc)
    # No database connection may be carried into the forked workers (SQLite forbids it).
    services.close()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers or _default_workers(),
                "threads": threads,
                # A thread gets a request only once it has arrived whole: slow and idle
                # clients hold none (mapservice/http/server.py).
                "worker_class": server.BufferingWorker,
                "worker_connections": server.connection_limit(),
                # gunicorn 27 opened one control socket per user (~/.gunicorn/gunicorn.ctl),
                # shared by every instance; nothing here uses it.
                "control_socket_disable": True,
                "timeout": timeout,
                "accesslog": "-",
                "logger_class": AccessLogger,  # the same lines, built at a fraction of the cost
                "preload_app": True,
                "post_fork": _import_in_background,
                # Heartbeat files in memory: a slow disk must not make workers look hung.
                "worker_tmp_dir": "/dev/shm" if Path("/dev/shm").is_dir() else None,  # noqa: S108
            }
            for key, value in options.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    click.echo(f"District Safety Map on http://{host}:{port}/ (API: /api)", err=True)
    Server().run()


def _import_in_background(server: Any, worker: Any) -> None:
    """In a new worker: import what only map pages and the planner need (Folium, geopandas:
    two seconds together) in a thread, so the worker answers at once (gunicorn's post_fork)."""
    import threading

    def load() -> None:
        # Both under one import lock (mapservice/lazy.py): a request that needs either module
        # meanwhile waits for the finished import, never gets a half-imported one.
        from .maps import render
        from .planner import metrics

        render.preload()
        metrics.preload()

    threading.Thread(target=load, name="mapservice-preload", daemon=True).start()


@main.command()
@_path_option("--data", "data_dir", folder=True, text=DATA_HELP)
def check(data_dir: Path | None) -> None:
    """Validate settings, layer catalog and data; exit code 0 when all is well, else 1."""
    from .catalog.geodata import load_geodata
    from .catalog.validation import Limits

    try:
        settings: Settings = load_settings()
        layers_path = settings.resolved_layers_path()
        catalog = load_catalog(layers_path)
        click.echo(f"catalog {layers_path}: {len(catalog.ids())} layers")
        directory = data_dir or settings.resolved_geodata_path()
        data = load_geodata(catalog, directory, Limits.of(settings))
    except USER_ERRORS as exc:
        _fail(exc)
    for layer_id, features in data.items():
        located = sum(1 for _, geom in features if geom is not None)
        click.echo(f"  {layer_id}: {len(features)} features ({located} with a location)")
    click.echo(f"data {directory}: OK")
    try:
        click.echo(_check_store())
    except USER_ERRORS as exc:
        _fail(exc)


def _store_location() -> str:
    """The store the service would open (a GeoPackage path or a postgresql:// URL); opens nothing."""
    from flask import Flask

    from .store.open import store_location

    settings = load_settings()
    # The instance folder create_app uses: the setting, else Flask's default for the package.
    instance = (
        Path(settings.instance_path).resolve()
        if settings.instance_path
        else Path(Flask("mapservice").instance_path)
    )
    return store_location(settings, instance)


def _check_store() -> str:
    """The store's integrity in one line; raises StoreError saying what is wrong and how to restore."""
    from .store import gpkg_file

    location = _store_location()
    if "://" in location:
        from .store.open import check_postgis

        return check_postgis(location)
    path = Path(location)
    if not path.exists():
        gpkg_file.refuse_if_lost(path)
        return f"store {path}: not made yet; the first start builds it from the data"
    summary = gpkg_file.check_file(path)
    return f"store {path}: OK ({summary.layers} layers, {summary.features} features, {summary.size:,} bytes)"


def _pg_advice() -> str:
    """How to back up or restore a PostGIS store: its tools know the database best."""
    return (
        "the store is a PostGIS database; back it up with `pg_dump --format=custom --schema=mapservice "
        '--file=FILE "$MAPSERVICE_STORE"` and restore with `pg_restore --clean --if-exists '
        '--dbname="$MAPSERVICE_STORE" FILE` (see README, Backup and restore)'
    )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Copy the GeoPackage store to FILE while the service may run.

    The copy is one consistent snapshot (SQLite's online backup), checked (quick_check and
    tables) and moved into place whole: FILE is the old backup or the new one, never half.
    """
    from .store import gpkg_file

    try:
        location = _store_location()
        if "://" in location:
            _fail(StoreError(_pg_advice()))
        summary = gpkg_file.backup(Path(location), file)
    except USER_ERRORS as exc:
        _fail(exc)
    except OSError as exc:
        _fail(StoreError(f"backup to {file} failed, nothing was written: {exc}"))
    click.echo(
        f"backup {file}: {summary.layers} layers, {summary.features} features, {summary.size:,} bytes, "
        "quick_check ok"
    )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(file: Path) -> None:
    """Replace the GeoPackage store by the backup FILE; the current file is kept aside.

    FILE must be a complete mapservice store (quick_check and tables); the store is replaced
    in one step. Restart the service afterwards: running workers refuse every request on the
    replaced file until then.
    """
    from .store import gpkg_file

    try:
        location = _store_location()
        if "://" in location:
            _fail(StoreError(_pg_advice()))
        store = Path(location)
        summary, aside = gpkg_file.restore(file, store)
    except USER_ERRORS as exc:
        _fail(exc)
    except OSError as exc:
        _fail(StoreError(f"restoring {file} failed, the store is unchanged: {exc}"))
    kept = f"; the previous file is kept as {aside}" if aside else ""
    click.echo(f"restored {store} from {file}: {summary.layers} layers, {summary.features} features{kept}")
    click.echo("Restart the service now: running workers refuse requests until they are restarted.", err=True)


@main.command()
@click.option("--city", default=None, help="City whose districts to rank, e.g. jena.")
@click.option(
    "--land",
    type=click.Choice(["14", "16"]),
    default=None,
    help="Rank the municipalities of a Land instead: 16 Thüringen, 14 Sachsen.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "geojson", "json"]), default="csv", show_default=True
)
@click.option(
    "--lang",
    type=click.Choice(["de", "en"]),
    default="de",
    show_default=True,
    help="Language of the reasons in CSV.",
)
@click.option(
    "--dialect",
    type=click.Choice(["rfc4180", "excel-de"]),
    default="rfc4180",
    show_default=True,
    help="CSV variant: rfc4180 (comma, codes: for programs) or excel-de (semicolon, decimal comma, "
    "labels in --lang: for German Excel).",
)
@_path_option(
    "--output",
    "-o",
    folder=False,
    text=OUTPUT_HELP,
)
def coverage(
    city: str | None, land: str | None, fmt: str, lang: str, dialect: str, output: Path | None
) -> None:
    """Coverage metrics and gap ranking: per district of a city, or per municipality."""
    from .planner import export

    if (city is None) == (land is None):
        _fail(click.UsageError("give either --city (e.g. --city jena) or --land (14 or 16)"))
    services = _services()
    planning = services.planning
    # An operator's command may take as long as it takes: the time budget guards the server.
    planning.budget_s = None
    columns: tuple[str, ...]
    if city is not None:
        found = planning.city(city)
        if found is None:
            known = ", ".join(c.key for c in planning.cities())
            _fail(
                click.UsageError(
                    f"--city: no districts of '{city}' are stored; cities with districts: {known}"
                )
            )
        rows = planning.districts(found)
        key, columns, id_field = "districts", export.DISTRICT_COLUMNS, "id"
        extra: dict[str, Any] = {"city": {"key": found.key, "name": found.name, "ags": found.ags}}
    else:
        rows = planning.municipalities(land)
        key, columns, id_field = "municipalities", export.MUNICIPALITY_COLUMNS, "ags"
        extra = {"land": land}
    extra["thresholds"] = export.thresholds_json(planning.thresholds)
    if fmt == "csv":
        text = export.csv_text(rows, columns, lang, dialect)
    elif fmt == "geojson":
        text = export.geojson_text(rows, id_field, extra) + "\n"
    else:
        text = export.json_text(key, rows, extra) + "\n"
    services.close()
    if output is None:
        sys.stdout.write(text)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="")
        tmp.replace(output)  # a reader never sees half a file
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _fail(exc)
    click.echo(f"{output}: {len(rows)} rows", err=True)


@main.command("import")
@click.argument("collection")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--crs",
    default=None,
    help="CRS of the coordinates, e.g. EPSG:25832; required for CSV x/y columns and "
    "for files that do not name their CRS.",
)
@click.option("--x-column", default=None, help="CSV column of the easting (with --crs).")
@click.option("--y-column", default=None, help="CSV column of the northing (with --crs).")
@click.option("--lon-column", default=None, help="CSV column of the longitude [lon, longitude].")
@click.option("--lat-column", default=None, help="CSV column of the latitude [lat, latitude].")
@click.option(
    "--address-columns",
    default=None,
    help="CSV columns of the address, looked up in the offline gazetteer: "
    "street,housenumber,postcode,place or role=column pairs, or one column "
    "with the whole address.",
)
@click.option("--delimiter", default=None, help="CSV delimiter [detected: ; , or tab].")
@click.option("--encoding", default="utf-8", show_default=True, help="CSV text encoding.")
@click.option(
    "--layer",
    "source_layer",
    default=None,
    help="Layer of a GeoPackage (or shapefile of a zip) holding several.",
)
@click.option(
    "--ignore-columns",
    is_flag=True,
    help="Skip columns that are not fields of the collection instead of refusing.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be added, changed and removed; write nothing.")
@click.option(
    "--drop-z",
    is_flag=True,
    help="Drop heights (Z coordinates) instead of refusing them; the stores keep 2D positions.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on standard error [default: when it is a terminal].",
)
@click.option(
    "--by", "actor", default=None, help="Who imports, for the change log [default: the login name]."
)
def import_(
    collection: str,
    file: Path,
    crs: str | None,
    x_column: str | None,
    y_column: str | None,
    lon_column: str | None,
    lat_column: str | None,
    address_columns: str | None,
    delimiter: str | None,
    encoding: str,
    source_layer: str | None,
    ignore_columns: bool,
    dry_run: bool,
    drop_z: bool,
    progress: bool | None,
    actor: str | None,
) -> None:
    """Replace a collection's content with a file (GeoJSON, GeoPackage, zipped shapefile, CSV).

    Every feature is checked against the collection's catalog definition; any problem stops
    the import with all problems listed and nothing written. Otherwise the whole collection
    is replaced in one transaction.
    """
    from . import imports
    from .finder.geocode.adapters import GazetteerGeocoder

    services = _services()
    store = services.store
    try:
        catalog = services.catalog
        if collection not in catalog:
            _fail(
                click.UsageError(
                    f"unknown collection '{collection}'; collections: {', '.join(catalog.ids())}"
                )
            )
        options = imports.Options(
            crs=crs,
            x_column=x_column,
            y_column=y_column,
            lon_column=lon_column,
            lat_column=lat_column,
            address_columns=address_columns,
            delimiter=delimiter,
            encoding=encoding,
            layer=source_layer,
            drop_z=drop_z,
        )
        show = sys.stderr.isatty() if progress is None else progress

        def bar(records: Any) -> Any:
            if not show or (progress is None and len(records) < 1000):
                return records
            return _progress(records)

        try:
            plan = imports.prepare(
                catalog,
                store,
                collection,
                file,
                options,
                ignore_columns,
                bar,
                geocoder=lambda: GazetteerGeocoder(services.geocoder()[0]),
                limits=imports.Limits.of(services.settings),
            )
            if not dry_run:
                if show:
                    click.echo(f"writing {len(plan.features)} features", err=True)
                imports.apply(store, plan, actor or _login_name())
        except imports.ImportOptionError as exc:
            _fail(click.UsageError(str(exc)))
        except USER_ERRORS as exc:
            _fail(exc)
        for line in imports.report(plan, dry_run):
            click.echo(line)
        days = services.settings.history_keep_days
        if not dry_run and days > 0:  # the import is in; a failed prune only warns
            try:
                _prune_history(store, dt.datetime.now(dt.UTC) - dt.timedelta(days=days), None)
            except StoreError as exc:
                click.echo(
                    f"warning: the history was not pruned (setting history_keep_days): {exc}", err=True
                )
    finally:
        store.close()


def _services() -> Services:
    """The app's services for a command (the same settings and store as the server)."""
    from . import create_app

    try:
        services: Services = create_app().extensions["mapservice"]
    except USER_ERRORS as exc:
        _fail(exc)
    return services


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (e.g. in a container)
        return f"uid {os.getuid()}"


def _progress(records: Any) -> Any:
    with click.progressbar(records, label="checking", file=sys.stderr) as bar:
        yield from bar


@main.group()
def token() -> None:
    """Write tokens for the API: create, list, revoke."""


def _admin_store() -> tuple[Store, Catalog]:
    services = _services()
    return services.store, services.catalog


@contextlib.contextmanager
def _admin_session(*usage_errors: type[Exception]) -> Iterator[tuple[Store, Catalog]]:
    """The store and catalog for a command: a store failure ends it with its message, one of
    ``usage_errors`` as a usage error, and the store is closed however the command ends."""
    store, catalog = _admin_store()
    try:
        yield store, catalog
    except usage_errors as exc:
        _fail(click.UsageError(str(exc)))
    except StoreError as exc:
        _fail(exc)
    finally:
        store.close()


@token.command("create")
@click.option("--name", required=True, help="Who uses it: a person or an office (logged).")
@click.option(
    "--collection", "collections", multiple=True, help="A collection it may write; repeat for several."
)
@click.option("--all", "all_collections", is_flag=True, help="May write every collection.")
def token_create(name: str, collections: tuple[str, ...], all_collections: bool) -> None:
    """Create a token and print it once: only its hash is stored."""
    from .store.tokens import ALL, TokenError, new_token

    with _admin_session(TokenError) as (store, catalog):
        record, plain = new_token(store, catalog, name, [ALL] if all_collections else list(collections))
    scope = "all collections" if ALL in record.collections else ", ".join(record.collections)
    click.echo(f"token {record.id} for {record.name!r} may write: {scope}", err=True)
    click.echo("It is shown only now; send it as 'Authorization: Bearer <token>':", err=True)
    click.echo(plain)


@token.command("list")
def token_list() -> None:
    """List tokens (id, name, collections, created, revoked); secrets are never shown."""
    with _admin_session() as (store, _):
        for t in store.tokens():
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            click.echo(f"{t.id}  {state:<24} {t.created_at:%Y-%m-%d}  {t.name}  [{', '.join(t.collections)}]")


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token at once (on every instance sharing the store)."""
    with _admin_session() as (store, _):
        revoked = store.revoke_token(token_id)
    if not revoked:
        _fail(click.UsageError(f"no active token with id '{token_id}' (see 'mapservice token list')"))
    click.echo(f"token {token_id} revoked")


@main.group()
def survey() -> None:
    """Surveys of municipalities on their prevention bodies: create, list, status, close, export, review."""


def _survey_or_fail(store: Store, survey_id: str) -> Any:
    found = store.survey(survey_id)
    if found is None:
        known = ", ".join(s.id for s in store.surveys()) or "none yet"
        _fail(click.UsageError(f"no survey '{survey_id}' (surveys: {known}; see 'mapservice survey list')"))
    return found


def _figures_line(figures: dict[str, Any]) -> str:
    share = figures["active_share"]
    active = f"{figures['with_active_body']} with an active body" + (
        f" ({share:.0%} of those asked)" if share is not None else ""
    )
    return (
        f"{figures['asked']} asked, {figures['opened']} opened, {figures['answered']} answered "
        f"({figures['pending']} pending, {figures['approved']} approved, {figures['rejected']} rejected), "
        f"{active}, {figures['with_planned_body']} planned, {figures['without_body']} without a body"
    )


@survey.command("create")
@click.option("--title", required=True, help="Shown on the form and named as the source of the answers.")
@click.option(
    "--closes",
    "closes",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day answers are taken (YYYY-MM-DD).",
)
@click.option(
    "--land", default=None, help="Land code: every municipality of the Land (16 Thüringen, 14 Sachsen)."
)
@click.option("--kreis", "kreise", multiple=True, help="A Kreis (5-digit key or name); repeat for several.")
@click.option(
    "--min-population",
    type=click.IntRange(0),
    default=None,
    help="Only municipalities with at least this many residents.",
)
@click.option(
    "--ags", "ags", multiple=True, help="A municipality key (AGS, 8 digits); repeat or give a comma list."
)
@click.option(
    "--base-url",
    required=True,
    help="The service's public address, e.g. https://karte.example.de (for the links).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV for the mail merge (municipality, AGS, link, closing date).",
)
def survey_create(
    title: str,
    closes: dt.datetime,
    land: str | None,
    kreise: tuple[str, ...],
    min_population: int | None,
    ags: tuple[str, ...],
    base_url: str,
    out: Path,
) -> None:
    """Create a survey with one personal link per municipality; the links are written once, to --out."""
    from .survey import service

    if not base_url.startswith(("https://", "http://")):
        _fail(click.UsageError("--base-url: give the address with https://, e.g. https://karte.example.de"))
    if out.exists():
        _fail(click.UsageError(f"--out: {out} exists; the links are written once, to a new file"))
    keys = [a.strip() for chunk in ags for a in chunk.split(",") if a.strip()]
    with _admin_session(service.SurveyError) as (store, _):
        rows = [f.properties for f in store.all_features("municipalities")]
        chosen = service.select_municipalities(rows, land, kreise, min_population, keys)
        lands = {a[:2] for a, _ in chosen}
        area = {
            "land": land or (lands.pop() if len(lands) == 1 else None),
            "kreis": list(kreise),
            "min_population": min_population,
            "ags": keys,
        }
        record, links = service.create_survey(store, title, closes.date(), chosen, area, _login_name())
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the links are capabilities
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(service.links_csv(record, links, base_url))
    click.echo(
        f"survey {record.id}: {record.title!r}, {len(links)} municipalities, closes {record.closes_on}"
    )
    click.echo(f"The links are in {out} and are not shown again: only their hashes are stored.", err=True)


@survey.command("list")
def survey_list() -> None:
    """List the surveys with their progress."""
    from .survey import service

    with _admin_session() as (store, _):
        for record in store.surveys():
            figures = service.progress(store, record)
            state = "closed" if figures["closed"] else f"open until {record.closes_on}"
            click.echo(f"{record.id}  {state:<22} {record.title}")
            click.echo(f"        {_figures_line(figures)}")


@survey.command("status")
@click.argument("survey_id")
def survey_status(survey_id: str) -> None:
    """Progress of a survey and the state of each municipality asked."""
    from .survey import service

    with _admin_session() as (store, _):
        record = _survey_or_fail(store, survey_id)
        figures = service.progress(store, record)
    click.echo(
        f"{record.id}: {record.title} (closes {record.closes_on}{', closed' if figures['closed'] else ''})"
    )
    click.echo(_figures_line(figures))
    for row in figures["municipalities"]:
        review = f", {row['review']}" if row["review"] else ""
        opened = "opened" if row["opened"] else "not opened"
        click.echo(f"  {row['ags']}  {row['name']:<28} {row['status']}{review} ({opened})")


@survey.command("close")
@click.argument("survey_id")
def survey_close(survey_id: str) -> None:
    """Close a survey now: its links answer 410 from now on."""
    with _admin_session() as (store, _):
        _survey_or_fail(store, survey_id)
        if not store.close_survey(survey_id, dt.datetime.now(dt.UTC).replace(microsecond=0)):
            _fail(click.UsageError(f"survey {survey_id} is closed already"))
    click.echo(f"survey {survey_id} closed")


@survey.command("export")
@click.argument("survey_id")
def survey_export(survey_id: str) -> None:
    """CSV of each municipality asked: state, review, what its latest answer says (no links)."""
    import csv

    from .survey import service

    with _admin_session() as (store, _):
        record = _survey_or_fail(store, survey_id)
        figures = service.progress(store, record)
        latest = {a.ags: a for a in store.answers(record.id) if a.review != "superseded"}
    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow(
        ["Gemeinde", "AGS", "Link geöffnet", "Stand", "Prüfung", "Geantwortet am", "Kein Gremium", "Gremien"]
    )
    for row in figures["municipalities"]:
        answer = latest.get(row["ags"])
        bodies = "; ".join(
            f"{b.get('name')} ({b.get('type') or '?'}, {b.get('status')})"
            for b in (answer.answer.get("bodies", []) if answer else [])
            if b.get("name")
        )
        writer.writerow(
            [
                row["name"],
                row["ags"],
                "ja" if row["opened"] else "nein",
                {"asked": "gefragt", "answered": "geantwortet", "no_answer": "keine Antwort"}[row["status"]],
                {"pending": "offen", "approved": "freigegeben", "rejected": "abgelehnt"}.get(
                    row["review"] or "", ""
                ),
                row["answered_at"] or "",
                ("ja" if answer.answer.get("no_body") else "nein") if answer else "",
                bodies,
            ]
        )


@survey.command("review")
@click.argument("survey_id")
@click.argument("ags")
@click.option("--approve", "decision", flag_value="approve", help="Publish the answer's bodies.")
@click.option("--reject", "decision", flag_value="reject", help="Drop the answer's drafts; the record stays.")
@click.option("--by", "reviewer", default=None, help="Who reviews (logged) [default: the login name].")
@click.option("--note", default=None, help="Why (kept with the review).")
def survey_review(
    survey_id: str, ags: str, decision: str | None, reviewer: str | None, note: str | None
) -> None:
    """Show an answer against the record, field by field; with --approve or --reject decide it."""
    from .survey import service

    with _admin_session(service.SurveyError) as (store, catalog):
        record = _survey_or_fail(store, survey_id)
        if decision is None:
            answer = service.pending_answer(store, record.id, ags)
            for draft in service.comparison(store, catalog, answer):
                target = f"updates {draft['record']}" if draft["record"] else "new"
                click.echo(f"{draft['draft']} ({target}):")
                for f in draft["fields"]:
                    mark = "*" if f["changed"] else " "
                    click.echo(
                        f"  {mark} {f['field']:<18} on record: {f['on_record']!r:<30} "
                        f"answered: {f['answered']!r}"
                    )
            click.echo("Decide with --approve or --reject.", err=True)
            return
        who = f"{reviewer or _login_name()} (mapservice survey review)"
        reviewed = service.review(store, record, ags, decision, who, note)
    click.echo(f"answer {reviewed.seq} of {ags}: {reviewed.review}")


@main.group()
def gazetteer() -> None:
    """Address points of the offline geocoder: import, list, remove (stored in the store)."""


@gazetteer.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["hauskoordinaten", "osm", "csv"]),
    default=None,
    help="Input format [default: from the extension and first line].",
)
@click.option(
    "--source", default=None, help="Name of the source; a re-import replaces it [default: file name]."
)
@click.option(
    "--columns",
    default=None,
    help="CSV only: role=column pairs, roles street, housenumber, housenumber_suffix, postcode, "
    "place, x, y [default: the setting gazetteer_columns].",
)
@click.option(
    "--crs",
    default=None,
    help="CRS of the coordinates, e.g. EPSG:25832 [CSV default: the setting gazetteer_crs; "
    "house coordinates: the zone in the east value, else by Land].",
)
@click.option(
    "--licence", default=None, help="Licence of the data [house coordinates: dl-de/by-2-0; OSM: ODbL 1.0]."
)
@click.option(
    "--attribution",
    default=None,
    help="Attribution to show [house coordinates: 'Hauskoordinaten <Land>'; "
    "OSM: © OpenStreetMap contributors].",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on standard error [default: when it is a terminal].",
)
def gazetteer_import(
    file: Path,
    fmt: str | None,
    source: str | None,
    columns: str | None,
    crs: str | None,
    licence: str | None,
    attribution: str | None,
    progress: bool | None,
) -> None:
    """Import address points from FILE, replacing the source's points all or nothing.

    A bad row stops the import: every problem is listed with file, row and field, and the
    points stored before stay as they were (exit status 1).
    """
    from .finder.geocode.importer import ImportOptionError, detect_format, import_file, parse_columns
    from .finder.geocode.readers import GazetteerError

    services = _services()
    store = services.store
    try:
        chosen = fmt or detect_format(file)
        spec = (
            columns
            if columns is not None
            else (services.settings.gazetteer_columns if chosen == "csv" else "")
        )
        if chosen == "csv" and crs is None:
            crs = services.settings.gazetteer_crs
        show = sys.stderr.isatty() if progress is None else progress
        bar = _rows_bar(file, chosen) if show else None
        try:
            stored, job = import_file(
                store,
                file,
                chosen,
                source,
                columns=parse_columns(spec),
                crs=crs,
                licence=licence,
                attribution=attribution,
                progress=bar.update if bar is not None else None,
            )
        except ImportOptionError as exc:
            _fail(click.UsageError(str(exc)))
        except GazetteerError as exc:
            click.echo(f"error: {file}: nothing imported, the stored points are unchanged", err=True)
            _fail(exc)
        except USER_ERRORS as exc:
            _fail(exc)
        finally:
            if bar is not None:
                bar.close()
    finally:
        store.close()
    skipped = f"; {job.skipped} elements without a usable location skipped" if job.skipped else ""
    click.echo(
        f"{stored.name}: {stored.row_count} address points ({stored.format}) in "
        f"{len(stored.places)} places{skipped}; licence {stored.licence or 'not given'}"
        f"{'; ' + stored.attribution if stored.attribution else ''}"
    )


def _rows_bar(file: Path, fmt: str) -> Any:
    """A tqdm bar in rows (rows/s, and time left where the row count is known)."""
    from tqdm import tqdm

    from .finder.geocode.importer import count_lines

    total = None if fmt == "osm" else max(count_lines(file) - 1, 0)
    big = total is None or total >= 100_000  # "1.00M/1.00M" then, "812/812" below
    return tqdm(total=total, unit=" rows", unit_scale=big, desc=file.name, file=sys.stderr, mininterval=0.5)


@gazetteer.command("list")
def gazetteer_list() -> None:
    """List the address sources: name, format, points, places, date, licence, file."""
    store, _ = _admin_store()
    try:
        sources = store.address_sources()
    except StoreError as exc:
        _fail(exc)
    finally:
        store.close()
    if not sources:
        click.echo("no address sources imported (see 'mapservice gazetteer import')")
    for s in sources:
        places = ", ".join(p for p, _ in s.places[:5]) + (
            f" and {len(s.places) - 5} more" if len(s.places) > 5 else ""
        )
        click.echo(
            f"{s.name}  {s.format}  {s.row_count} points  {s.imported_at:%Y-%m-%d %H:%M} UTC  "
            f"licence {s.licence or 'not given'}{'  ' + s.attribution if s.attribution else ''}  "
            f"file {s.file_name}  places: {places or '-'}"
        )


@gazetteer.command("remove")
@click.argument("source")
def gazetteer_remove(source: str) -> None:
    """Remove an address source and all its points (on every instance sharing the store)."""
    store, _ = _admin_store()
    try:
        if not store.remove_address_source(source):
            known = ", ".join(s.name for s in store.address_sources()) or "none"
            _fail(click.UsageError(f"no address source '{source}' (sources: {known})"))
    except StoreError as exc:
        _fail(exc)
    finally:
        store.close()
    click.echo(f"address source {source} removed")


@main.group()
def history() -> None:
    """The change history of the collections: prune old entries."""


def _history_date(text: str) -> dt.datetime:
    """A day (midnight UTC) or an RFC 3339 time; a time without offset is UTC."""
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        _fail(
            click.UsageError(f"--before: '{text}' is not a date (2026-01-31) or time (2026-01-31T12:00:00Z)")
        )
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _prune_history(store: Store, before: dt.datetime | None, keep: int | None) -> None:
    done = store.prune_history(before=before, keep=keep)
    which = []
    if before is not None:
        which.append(f"older than {before.astimezone(dt.UTC).isoformat(timespec='seconds')}")
    if keep is not None:
        which.append(f"beyond the last {keep} of each feature")
    click.echo(
        f"history: removed {done.removed:,} of {done.removed + done.kept:,} entries "
        f"({' and '.join(which)}) "
        f"of {done.features:,} features; {done.kept:,} entries kept, {done.folded:,} of them now hold "
        "their whole before state. No feature was changed."
    )


def _space_line(space: Reclaimed) -> str:
    if not space.vacuumed:
        return f"{space.what}: {space.note}"
    note = f"; {space.note}" if space.note else ""
    sizes = f"{space.before_bytes / 1e6:.1f} MB to {space.after_bytes / 1e6:.1f} MB"
    return f"{space.what}: VACUUM: shrank from {sizes}{note}"


@history.command("prune")
@click.option(
    "--before", "before_text", default=None, help="Remove entries older than this day or time (UTC)."
)
@click.option(
    "--keep", type=click.IntRange(0), default=None, help="Keep only the last N entries of each feature."
)
@click.option("--vacuum/--no-vacuum", default=True, show_default=True, help="Give the space back afterwards.")
def history_prune(before_text: str | None, keep: int | None, vacuum: bool) -> None:
    """Remove old change-history entries; never a feature (the collections are the current
    state), and every entry left still reads whole. With --before and --keep, only entries
    both remove go. Without either: entries older than the setting history_keep_days.

    The GeoPackage is then compacted (VACUUM), which needs about the file's size free on disk.
    """
    services = _services()
    store = services.store
    try:
        before = _history_date(before_text) if before_text is not None else None
        if before is None and keep is None:
            days = services.settings.history_keep_days
            if days <= 0:
                _fail(click.UsageError("give --before DATE or --keep N (or set history_keep_days)"))
            before = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        _prune_history(store, before, keep)
        space = store.reclaim_space() if vacuum else None
        if space is not None:
            click.echo(_space_line(space))
    except StoreError as exc:
        _fail(exc)
    finally:
        store.close()


@main.command("settings")
def show_settings() -> None:
    """List every setting with its current value and help."""
    try:
        current = load_settings()
    except ConfigError as exc:
        _fail(exc)
    for name, default, text in setting_help():
        click.echo(
            f"{name} = {getattr(current, name)!r}   (default {default!r}; "
            f"env MAPSERVICE_{name.upper()})\n    {text}"
        )


@main.command()
@click.option("--area", required=True, help="A city (jena, leipzig, …) or a Land (land-16, land-14).")
@click.option(
    "--since", default=None, help="List the changes since this date, YYYY-MM-DD [default: 90 days ago]."
)
@click.option("--lang", type=click.Choice(["de", "en"]), default="de", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf", show_default=True)
@_path_option("--output", "-o", folder=False, text=OUTPUT_HELP)
def report(area: str, since: str | None, lang: str, fmt: str, output: Path | None) -> None:
    """The printable situation report (Lagebild) of a city or a Land, as the planner has it."""
    import datetime as dt

    from . import create_app
    from .planner import report as rp

    today = dt.date.today()
    try:
        since_day = dt.date.fromisoformat(since) if since else rp.default_since(today)
    except ValueError:
        _fail(click.UsageError(f"--since: '{since}' is not a date (YYYY-MM-DD)"))
    try:
        app = create_app()
    except USER_ERRORS as exc:
        _fail(exc)
    services: Services = app.extensions["mapservice"]
    try:
        found = rp.resolve(services.planning, area)
    except rp.UnknownArea as exc:
        _fail(click.UsageError(str(exc).replace("Parameter 'area'", "--area")))
    # The report is the page /planner/report renders; its links are relative to the service.
    with app.test_request_context("/planner/report", query_string={"area": found.key, "lang": lang}):
        html = rp.render(services.planning, found, lang, since_day, today)
        static = Path(str(app.static_folder))
        body = (
            html.encode("utf-8")
            if fmt == "html"
            else rp.pdf(html, "http://localhost/", static, flask_url_for("static", filename=""))
        )
    services.close()
    if output is None:
        sys.stdout.buffer.write(body)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        tmp.write_bytes(body)
        tmp.replace(output)  # a reader never sees half a file
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        _fail(exc)
    click.echo(f"{output}: {fmt.upper()}, {len(body):,} bytes", err=True)


def flask_url_for(endpoint: str, **values: Any) -> str:
    from flask import url_for

    return url_for(endpoint, **values)


if __name__ == "__main__":
    main()
