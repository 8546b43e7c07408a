"""Command line of CSP Atlas: `scripts/atlas --help` lists every command."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from server.config import load_settings
from server.domain import (
    accounts,
    hotspot_input,
    hotspot_records,
    interpolation,
    police_api,
    police_fetch,
    police_import,
)
from server.domain.accounts import ROLE_ORDER, AccountError
from server.domain.accuracy import COMPARED, compare_interpolation
from server.domain.boundary_files import BoundaryFileError, read_boundary_file, store_boundary_set
from server.domain.crime_provenance import origin_of
from server.domain.errors import DomainError
from server.domain.figure_pack import build_figure_pack
from server.domain.partnership_setup import DistrictFile, checked_setup, create_partnership
from server.domain.periods import PeriodError, parse_period
from server.domain.population import PopulationFileError, read_population_csv
from server.domain.reference import load_reference_data
from server.store import boundaries as boundary_store
from server.store import crime as crime_store
from server.store import hotspots as hotspot_store
from server.store import partnerships as partnership_store
from server.store import patrols as patrol_store
from server.store import police_api as police_api_store
from server.store import scope
from server.store import statistics as statistics_store
from server.store.db import engine_for, transaction, upgrade_schema
from server.store.models import BOUNDARY_KINDS
from server.store.roles import RoleSetupError


def _engine():
    return engine_for(load_settings().database_url)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--partnership", "partnership", metavar="SLUG", envvar="CSP_ATLAS_PARTNERSHIP",
              help="act for this partnership (accounts, tokens, layers, audits); default: the default partnership")
def cli(partnership: str | None) -> None:
    """CSP Atlas administration. Uses the database named by DATABASE_URL."""
    if partnership:
        with transaction(_engine()) as session:
            if not partnership_store.exists(session, partnership):
                raise click.UsageError(f"no partnership '{partnership[:40]}'; see GET /api/partnerships")
        scope.act_for(partnership)


@cli.group()
def db() -> None:
    """Database schema."""


def _owner_url() -> str:
    """The schema owner's URL; an installation with one URL keeps working, with a warning."""
    settings = load_settings()
    if settings.owner_database_url:
        return settings.owner_database_url
    click.echo("warning: CSP_ATLAS_OWNER_DATABASE_URL is not set, so the schema is changed as DATABASE_URL's role "
               "(README, \"Database roles\")", err=True)
    return settings.database_url


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations as the schema's owner (CSP_ATLAS_OWNER_DATABASE_URL), then grant the app's role
    (DATABASE_URL) what it needs: DML, and only INSERT and SELECT on the audit tables."""
    try:
        report = upgrade_schema(_owner_url(), load_settings().database_url, log=lambda msg: click.echo(msg, err=True))
    except RoleSetupError as error:
        raise click.ClickException(str(error)) from error
    click.echo("database schema is up to date")
    if report:
        click.echo(f"{report.app_role} may use {report.tables} tables and {report.sequences} sequences; append-only: "
                   f"{', '.join(report.append_only)}; no deleting from: {', '.join(report.undeletable) or '-'}")


@cli.group()
def reference() -> None:
    """The partnerships described in geodata/partnerships/ (boundaries, clusters, IMD, crime) from ../shared/geodata."""


@reference.command("load")
@click.option("--geodata", type=click.Path(path_type=Path), default=None,
              help="folder with the reference files (default: $SHARED_DIR/geodata, i.e. ../shared/geodata)")
def reference_load(geodata: Path | None) -> None:
    """Load what changed since the last run; a second run does nothing."""
    folder = geodata or load_settings().shared_dir / "geodata"
    load_reference_data(_engine(), folder, log=click.echo)


@cli.group()
def boundaries() -> None:
    """Boundary sets: load files, list sets."""


def _refuse(heading: str, problems: list[str], more: int) -> None:
    """Say why a file was refused, one problem a line, and exit 1."""
    click.echo(heading, err=True)
    for problem in problems:
        click.echo(f"  - {problem}", err=True)
    if more:
        click.echo(f"  … and {more} more", err=True)
    sys.exit(1)


def _iso_date(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date like 2024-05-02") from None


@boundaries.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--set", "set_id", required=True, help="boundary set id, e.g. wards-2024")
@click.option("--kind", type=click.Choice(BOUNDARY_KINDS), default="other", show_default=True)
@click.option("--code-field", required=True, help="field with the ONS code, e.g. WD24CD")
@click.option("--name-field", required=True, help="field with the area name, e.g. WD24NM")
@click.option("--title", default=None, help="human title (default: the set id)")
@click.option("--valid-from", callback=_iso_date, help="first day the boundaries apply (YYYY-MM-DD)")
@click.option("--valid-to", callback=_iso_date, help="day they were replaced (YYYY-MM-DD)")
@click.option("--crs", default=None, help="CRS for a file that declares none, e.g. EPSG:27700")
@click.option("--layer", default=None, help="layer name inside a GeoPackage with several layers")
@click.option("--source", default="", help="where the file came from")
@click.option("--licence", default="", help="licence and attribution text")
def boundaries_load(file: Path, set_id: str, kind: str, code_field: str, name_field: str, title: str | None,
                    valid_from: date | None, valid_to: date | None, crs: str | None, layer: str | None,
                    source: str, licence: str) -> None:
    """Load FILE (zipped Shapefile, GeoPackage or GeoJSON) as a boundary set, replacing it atomically.

    Example: boundaries load Wards_May_2024.zip --set wards-2024 --kind ward
    --code-field WD24CD --name-field WD24NM --valid-from 2024-05-02
    """
    meta = boundary_store.BoundarySetMeta(
        id=set_id, kind=kind, title=title or set_id, valid_from=valid_from, valid_to=valid_to,
        source=source, licence=licence, code_field=code_field, name_field=name_field)
    try:
        data = read_boundary_file(file, code_field=code_field, name_field=name_field, crs=crs, layer=layer)
        with transaction(_engine()) as session:
            report = store_boundary_set(session, meta, data)
    except BoundaryFileError as error:
        _refuse(f"not loaded: {error.file}", error.problems, error.more)
    verb = "replaced" if report.replaced else "created"
    click.echo(f"{verb} {set_id}: {report.features} areas from {report.file} "
               f"(CRS {report.source_crs}, {report.repaired} invalid polygons repaired)")
    if report.orphaned_cluster_members:
        click.echo(f"warning: cluster members no longer in {set_id}: "
                   f"{', '.join(report.orphaned_cluster_members)}", err=True)


@boundaries.command("list")
def boundaries_list() -> None:
    """List boundary sets with their validity dates and feature counts."""
    with transaction(_engine()) as session:
        for row in boundary_store.list_boundary_sets(session, every_partnership=True):
            click.echo(f"{row['id']:<16} {row['kind']:<6} {row['feature_count']:>5} areas  "
                       f"{row['valid_from'] or '…'} to {row['valid_to'] or '…'}  {row['title']}")


@cli.group()
def partnership() -> None:
    """Community Safety Partnerships: set one up from national or county files, list them, show one."""


def _district_file(path: Path | None, lad_field: str, code_field: str, name_field: str,
                   valid_from: date | None = None, valid_to: date | None = None) -> DistrictFile | None:
    return DistrictFile(path, lad_field, code_field, name_field, valid_from, valid_to) if path else None


_FILE = click.Path(dir_okay=False, path_type=Path)


@partnership.command("create")
@click.argument("slug")
@click.option("--lad", "lad", required=True, help="district code(s), comma-separated, e.g. E07000113")
@click.option("--name", required=True, help="e.g. 'Swale Community Safety Partnership'")
@click.option("--parent", default=None, help="the slug of a county partnership that owns this one")
@click.option("--wards", type=_FILE, default=None, help="ward boundaries of many districts (GeoJSON, GeoPackage, "
              "zipped Shapefile or .geojson.gz)")
@click.option("--ward-lad-field", default="LAD_CODE", show_default=True, help="field with each ward's district code")
@click.option("--ward-code-field", default="WD13CD", show_default=True, help="field with the ward code")
@click.option("--ward-name-field", default="WD13NM", show_default=True, help="field with the ward name")
@click.option("--wards-valid-from", callback=_iso_date, help="first day the wards apply (YYYY-MM-DD)")
@click.option("--wards-valid-to", callback=_iso_date, help="day the wards were replaced (YYYY-MM-DD)")
@click.option("--lsoas", type=_FILE, default=None, help="LSOA boundaries of many districts, e.g. England's")
@click.option("--lsoa-lad-field", default="LAD_CODE", show_default=True, help="field with each LSOA's district code")
@click.option("--lsoa-code-field", default="LSOA11CD", show_default=True, help="field with the LSOA code")
@click.option("--lsoa-name-field", default="LSOA11NM", show_default=True, help="field with the LSOA name")
@click.option("--imd", type=_FILE, default=None,
              help="IMD 2019 CSV (lsoa11cd, IMDRank, IMDDecil); the rows of the partnership's LSOAs are kept")
def partnership_create(slug: str, lad: str, name: str, parent: str | None, wards: Path | None, ward_lad_field: str,
                       ward_code_field: str, ward_name_field: str, wards_valid_from: date | None,
                       wards_valid_to: date | None, lsoas: Path | None, lsoa_lad_field: str, lsoa_code_field: str,
                       lsoa_name_field: str, imd: Path | None) -> None:
    """Set up the partnership SLUG for the districts --lad from national or county files: the features whose
    district-code field holds one of the codes become its boundary sets SLUG-wards-YYYY and SLUG-lsoa-YYYY (the year
    from the code field, e.g. WD13CD), with the crime records already imported placed in them. All or nothing;
    running it again with the same files changes nothing.

    \b
    Example:
      partnership create swale --lad E07000113 --name "Swale Community Safety Partnership" \\
        --wards ../shared/bench-data/kent_wards_2013.geojson \\
        --lsoas ../shared/bench-data/england_lsoa_2011.geojson.gz --imd ../shared/bench-data/imd2019_lsoa.csv
    """
    try:
        setup = checked_setup(
            slug, name, [code.strip() for code in lad.split(",") if code.strip()], parent,
            wards=_district_file(wards, ward_lad_field, ward_code_field, ward_name_field, wards_valid_from,
                                 wards_valid_to),
            lsoas=_district_file(lsoas, lsoa_lad_field, lsoa_code_field, lsoa_name_field), imd=imd)
        report = create_partnership(_engine(), setup, log=lambda message: click.echo(message, err=True))
    except BoundaryFileError as error:
        _refuse(f"partnership '{slug}' not created: {error.file} (nothing was kept)", error.problems, error.more)
    except DomainError as error:
        raise click.ClickException(f"partnership '{slug}' not created: {error}") from None
    click.echo(f"{'created' if report.created else 'updated'} partnership {report.slug} in {report.seconds:.1f} s: "
               + "; ".join(f"{set_id} {outcome}" for set_id, outcome in report.sets)
               + (f"; deprivation {report.deprivation}" if report.deprivation else ""))


@partnership.command("list")
def partnership_list() -> None:
    """List the partnerships: slug, districts, default set, parent and name (the default one first, marked *)."""
    with transaction(_engine()) as session:
        rows = partnership_store.list_partnerships(session)
    for row in rows:
        click.echo(f"{row['slug']:<24}{'*' if row['is_default'] else ' '} {','.join(row['lad_codes']):<12} "
                   f"{row['default_set'] or '-':<24} parent {row['parent_slug'] or '-':<16} {row['name']}")
    if not rows:
        click.echo("no partnerships; 'reference load' sets up the default one, 'partnership create' others")


@partnership.command("show")
@click.argument("slug")
def partnership_show(slug: str) -> None:
    """Show the partnership SLUG: districts, area, parent, and its boundary sets with their number of areas."""
    with transaction(_engine()) as session:
        found = partnership_store.get_partnership(session, slug)
        if found is None:
            raise click.ClickException(f"no partnership '{slug[:60]}'; 'partnership list' shows them")
        sets = partnership_store.partnership_set_rows(session, slug)
        km2 = partnership_store.area_km2(session, slug)
    click.echo(f"{found['name']} ({found['slug']}{', the default' if found['is_default'] else ''})")
    click.echo(f"districts: {', '.join(found['lad_codes'])}; parent: {found['parent_slug'] or '-'}; "
               f"area: {f'{km2:,.1f} km²' if km2 is not None else 'none yet'}")
    for row in sets:
        marker = "*" if row["id"] == found["default_set"] else " "
        click.echo(f"  {marker}{row['id']:<24} {row['kind']:<6} {row['feature_count']:>5} areas  "
                   f"{row['valid_from'] or '…'} to {row['valid_to'] or '…'}  {row['title']}")


@cli.group()
def clusters() -> None:
    """Ward clusters."""


@clusters.command("assign")
@click.option("--set", "set_id", required=True, help="ward set, e.g. wards-2024")
@click.option("--ward", required=True, help="ward code, e.g. E05015603")
@click.option("--cluster", "number", required=True, type=int, help="cluster number")
def clusters_assign(set_id: str, ward: str, number: int) -> None:
    """Put a ward into a cluster (a decision by GIS staff; no longer marked derived)."""
    try:
        with transaction(_engine()) as session:
            boundary_store.assign_ward_to_cluster(session, set_id, ward, number)
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{ward} is now in cluster {number} of {set_id}")


@cli.group()
def users() -> None:
    """Accounts (roles: viewer, officer, gis, admin), their sessions and the security audit."""


def _password(prompt: bool) -> str:
    from_env = os.environ.get("CSP_ATLAS_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    if prompt:
        return click.prompt("password", hide_input=True, confirmation_prompt=True)
    raise click.ClickException("no password given")


def _cli_actor() -> accounts.Actor:
    """The security audit names the operating-system user behind a command."""
    return accounts.Actor(_cli_caller().username)


@contextmanager
def _account_errors() -> Iterator[None]:
    try:
        yield
    except AccountError as error:
        raise click.ClickException(str(error)) from None


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLE_ORDER), required=True)
def users_create(username: str, role: str) -> None:
    """Create USERNAME (3-64 characters: a-z, 0-9, '.', '_', '-'). The password (12 characters or more, not easy
    to guess) comes from $CSP_ATLAS_PASSWORD, standard input, or a prompt."""
    with _account_errors():
        accounts.check_username(username)  # before asking for a password
        password = _password(prompt=True)
        with transaction(_engine()) as session:
            accounts.create_user(session, username, password, role, _cli_actor())
    click.echo(f"created {role} '{username}'")


@users.command("password")
@click.argument("username")
def users_password(username: str) -> None:
    """Set USERNAME's password (from $CSP_ATLAS_PASSWORD, standard input, or a prompt); ends their sessions."""
    with _account_errors(), transaction(_engine()) as session:
        accounts.set_password(session, username, _password(prompt=True), _cli_actor())
    click.echo(f"password of '{username}' changed; their browser sessions have ended")


@users.command("team")
@click.argument("username")
@click.argument("team", required=False)
def users_team(username: str, team: str | None) -> None:
    """Put USERNAME in TEAM (patrol areas are shared within a team); without TEAM, take them out of any team."""
    with transaction(_engine()) as session:
        if not patrol_store.set_user_team(session, username, team):
            raise click.ClickException(f"no user '{username}'")
    click.echo(f"'{username}' is in team {team!r}" if team else f"'{username}' is in no team")


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


@users.command("list")
def users_list() -> None:
    """List every user: role, active or inactive, team, open browser sessions, usable tokens, last sign-in."""
    settings = load_settings()
    with transaction(_engine()) as session:
        rows = accounts.list_users(session, settings.session_idle_hours, settings.session_max_hours)
    for row in rows:
        state = "active" if row["active"] else "inactive"
        click.echo(f"{row['username']:<32} {row['role']:<8} {state:<8} sessions {row['sessions']:<3} "
                   f"tokens {row['tokens']:<3} last sign-in {_when(row['last_sign_in_at']):<16} "
                   f"team {row['team'] or '-'}")


@users.command("deactivate")
@click.argument("username")
def users_deactivate(username: str) -> None:
    """Stop USERNAME signing in: ends their sessions and revokes their API tokens (reactivating restores neither)."""
    with _account_errors(), transaction(_engine()) as session:
        accounts.set_active(session, username, False, _cli_actor())
    click.echo(f"'{username}' is deactivated; their sessions have ended and their tokens are revoked")


@users.command("activate")
@click.argument("username")
def users_activate(username: str) -> None:
    """Let a deactivated USERNAME sign in again (with new tokens: the old ones stay revoked)."""
    with _account_errors(), transaction(_engine()) as session:
        accounts.set_active(session, username, True, _cli_actor())
    click.echo(f"'{username}' is active")


@users.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLE_ORDER))
def users_role(username: str, role: str) -> None:
    """Give USERNAME the ROLE; their browser sessions end, so the new role applies from their next sign-in."""
    with _account_errors(), transaction(_engine()) as session:
        accounts.set_role(session, username, role, _cli_actor())
    click.echo(f"'{username}' is now {role}; their browser sessions have ended")


@users.command("revoke-sessions")
@click.argument("username")
def users_revoke_sessions(username: str) -> None:
    """Sign USERNAME out everywhere: end all their browser sessions (API tokens are revoked with `tokens revoke`)."""
    with _account_errors(), transaction(_engine()) as session:
        ended = accounts.revoke_sessions(session, username, _cli_actor())
    click.echo(f"ended {ended} session(s) of '{username}'")


@users.command("audit")
@click.option("--user", "username", default=None, help="only this username (as typed, for failed sign-ins)")
@click.option("--event", default=None, help="only this event, e.g. sign-in-failed")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def users_audit(username: str | None, event: str | None, limit: int) -> None:
    """The security audit, newest first: sign-ins (failed and throttled too), sign-outs and account changes."""
    with transaction(_engine()) as session:
        entries = accounts.audit_entries(session, username=username, event=event, limit=limit)
    for entry in entries:
        click.echo(f"{entry['at']:%Y-%m-%d %H:%M:%S} {entry['event']:<18} {entry['username']:<24} "
                   f"by {entry['actor']:<24} {entry['client_address'] or '-':<16} {entry['detail']}")


@cli.group()
def tokens() -> None:
    """Bearer API tokens for scripts: they expire (90 days unless --days says otherwise)."""


@tokens.command("issue")
@click.argument("username")
@click.option("--label", default="", help="what the token is for")
@click.option("--days", default=accounts.TOKEN_DAYS, show_default=True,
              type=click.IntRange(1, accounts.MAX_TOKEN_DAYS), help="days until it expires")
def tokens_issue(username: str, label: str, days: int) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is stored)."""
    with _account_errors(), transaction(_engine()) as session:
        token = accounts.issue_token(session, username, label, days, _cli_actor())
    click.echo(token)


@tokens.command("list")
@click.argument("username", required=False)
def tokens_list(username: str | None) -> None:
    """List the API tokens (of USERNAME, or everyone's): id, user, state, expiry, last use and label."""
    with _account_errors(), transaction(_engine()) as session:
        rows = accounts.list_tokens(session, username)
    for row in rows:
        click.echo(f"{row['id']:>6}  {row['username']:<32} {row['status']:<8} expires {_when(row['expires_at'])}  "
                   f"last used {_when(row['last_used_at']):<16}  {row['label']}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke the token TOKEN_ID (the id `tokens list` shows); scripts using it get 401 at once."""
    with _account_errors(), transaction(_engine()) as session:
        token = accounts.revoke_token(session, token_id, _cli_actor())
    click.echo(f"token {token_id} of '{token['username']}' is {token['status']}")


@cli.group()
def crime() -> None:
    """Police recorded crime and anti-social behaviour (data.police.uk street-level files)."""


def _crime_table(rows: list[list[object]], header: list[str]) -> None:
    """Print rows under header; columns of numbers are right-aligned."""
    columns = list(zip(header, *rows, strict=True))
    widths = [max(len(str(cell)) for cell in column) for column in columns]
    numeric = [all(isinstance(cell, int) for cell in column[1:]) for column in columns]
    for line in [header, *rows]:
        cells = [str(cell).rjust(width) if is_number else str(cell).ljust(width)
                 for cell, width, is_number in zip(line, widths, numeric, strict=True)]
        click.echo("  ".join(cells).rstrip())


def _print_import_summary(summary: police_import.ImportSummary) -> None:
    total = summary.total
    set_ids = sorted(total.unplaced)
    header = ["file", "rows read", "inserted", "duplicates", "no location",
              *[f"unplaced {set_id}" for set_id in set_ids]]
    rows = [[part.file, part.rows_read, part.inserted, part.duplicates, part.no_location,
             *[part.unplaced.get(set_id, 0) for set_id in set_ids]] for part in [*summary.files, total]]
    _crime_table(rows, header)
    click.echo("")
    _crime_table([[month, counts["rows_read"], counts["inserted"]]
                  for month, counts in sorted(total.per_month.items())], ["month", "rows read", "inserted"])


@crime.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", "imported_by", default=None, help="username to record as the importer")
def crime_import(files: tuple[Path, ...], imported_by: str | None) -> None:
    """Import police.uk street-level crime FILES (.csv or .csv.gz) in one transaction.

    Every row of every file is checked first; one bad row anywhere refuses the whole import and
    changes nothing. Re-importing a file inserts nothing twice: its rows are counted as duplicates.
    New records are placed in every boundary set; those outside all areas are kept and counted.

    Example: crime import ../shared/geodata/crime/2022-*-kent-street.csv
    """
    engine = _engine()
    with transaction(engine) as session:
        set_count = len(crime_store.boundary_set_ids(session))
    try:
        opened = police_import.open_police_files([(path, path.name) for path in files])
        with tqdm(desc="reading", unit=" rows", disable=None) as reading, \
                tqdm(desc="placing", total=set_count * len(crime_store.PLACEMENT_STEPS), unit=" steps",
                     disable=None, delay=0.5) as placing:
            summary = police_import.import_police_files(
                engine, opened, imported_by, on_rows=reading.update,
                on_placed=lambda set_id, step: placing.update(1))
    except police_import.CrimeFileError as error:
        _refuse(f"not imported: {error.file} (nothing from this import was kept)", error.problems, error.more)
    _print_import_summary(summary)


def _month_option(_ctx, _param, value: str | None) -> str | None:
    if value is not None and not police_api.MONTH.match(value):
        raise click.BadParameter(f"'{value}' is not a month like 2024-05")
    return value


@crime.command("fetch")
@click.option("--from", "month_from", callback=_month_option, help="first month to fetch (YYYY-MM)")
@click.option("--to", "month_to", callback=_month_option, help="last month to fetch (YYYY-MM)")
@click.option("--refresh", is_flag=True, help="fetch every month the API has again, loaded or not")
@click.option("--by", "imported_by", default=None, help="username to record as the importer")
def crime_fetch(month_from: str | None, month_to: str | None, refresh: bool, imported_by: str | None) -> None:
    """Fetch street-level crime and ASB in the partnership's area from the police.uk API ($CSP_ATLAS_POLICE_API).

    Without options: every month the API has that is not loaded yet. With --from/--to: those months, loaded or
    not. Records go through the same idempotent import as `crime import`, so a month loaded from its CSV file and
    fetched again inserts nothing. An interrupted fetch goes on where it stopped when run again.

    Example: crime fetch            (the newest months)
    """
    if month_from and month_to and month_from > month_to:
        raise click.BadParameter(f"--from {month_from} is after --to {month_to}")
    settings = load_settings()
    api = police_api.PoliceApi(settings.police_api)
    request = police_fetch.FetchRequest(month_from=month_from, month_to=month_to, refresh=refresh,
                                        force=settings.police_force, imported_by=imported_by)
    with tqdm(desc="police.uk API", unit=" months", disable=None) as bar:
        def advance(done: int, total: int, message: str) -> None:
            bar.total = total
            bar.set_postfix_str(message)
            bar.update(done - bar.n)

        try:
            report = police_fetch.fetch_police_months(_engine(), api, request, advance)
        except (police_fetch.FetchError, police_api.PoliceApiError) as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"police.uk last updated {report.api_last_updated}; it has {len(report.available)} months"
               + (f" ({report.available[0]} to {report.available[-1]})" if report.available else ""))
    if not report.months:
        click.echo("nothing to fetch: every month it has is loaded (use --refresh to fetch them again)")
        return
    _crime_table([[m.month, m.records, m.inserted, m.records - m.inserted, m.outside_area, m.pieces, m.requests]
                  for m in report.months],
                 ["month", "records", "inserted", "already loaded", "outside the area", "pieces", "requests"])
    click.echo(f"{report.requests} requests, {report.throttled} answered 429 (backed off), {report.retried} retried")


@crime.command("summary")
def crime_summary() -> None:
    """Months loaded with their record counts, and the crime types."""
    with transaction(_engine()) as session:
        months = crime_store.month_summary(session)
        types = crime_store.crime_types(session)
        fetched = {row["month"]: row for row in police_api_store.api_months(session)}
    if not months:
        click.echo("no crime records loaded; use 'crime import FILE …' or 'crime fetch'")
        return
    rows = [[m["month"].strftime("%Y-%m"), m["records"], m["asb"], m["no_location"],
             origin_of(fetched.get(m["month"]))]
            for m in months]
    rows.append(["total", *(sum(m[key] for m in months) for key in ("records", "asb", "no_location")), ""])
    _crime_table(rows, ["month", "records", "of which ASB", "no location", "from"])
    click.echo("")
    _crime_table([[slug, name, count] for slug, name, count in types], ["type", "as published", "records"])


@cli.group()
def population() -> None:
    """Populations for rates per 1,000 residents."""


@population.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--set", "set_id", required=True, help="boundary set, e.g. wards-2024")
def population_load(file: Path, set_id: str) -> None:
    """Replace the population of a boundary set with FILE (CSV: code,population,year,source; every area once)."""
    with transaction(_engine()) as session:
        if boundary_store.get_boundary_set(session, set_id) is None:
            raise click.ClickException(f"no boundary set '{set_id}'")
        try:
            table = read_population_csv(file.read_bytes(), file.name, boundary_store.area_codes(session, set_id))
        except PopulationFileError as error:
            raise click.ClickException(str(error)) from None
        count = statistics_store.replace_populations(session, set_id, table.values, table.year, table.source,
                                                     derived=False)
    click.echo(f"{set_id}: population of {count} areas for {table.year} from {file.name}")


@crime.command("interpolation-accuracy")
@click.option("--counted", default="2022-07/2022-11", show_default=True, help="period whose counts are interpolated")
@click.option("--weights", default="2022-01/2022-06", show_default=True,
              help="period of the crime points used as weights (then the two swap: both held-out directions)")
@click.option("--strengths", default="", help="also try the shrunk method with these strengths, e.g. 0.5,10,80")
@click.option("--from-set", "source_set", default=None,
              help="ward set interpolated from (default: the one the partnership's published tables are for)")
@click.option("--to-set", "target_set", default=None,
              help="ward set interpolated to (default: the default partnership's default set)")
def crime_interpolation_accuracy(counted: str, weights: str, strengths: str, source_set: str | None,
                                 target_set: str | None) -> None:
    """Interpolate police.uk counts from one ward set to another (for Maidstone: 2013 to 2024 wards) and compare
    with the direct counts, every method side by side, in both held-out directions."""
    try:
        counted_period, weights_period = parse_period(counted), parse_period(weights)
    except PeriodError as error:
        raise click.BadParameter(str(error)) from None
    try:
        sweep = tuple(f"shrunk k={float(each):g}" for each in strengths.split(",") if each.strip())
    except ValueError:
        raise click.BadParameter(f"--strengths must be numbers separated by commas, not {strengths!r}") from None
    methods = COMPARED + sweep
    with transaction(_engine()) as session:
        try:
            results = [compare_interpolation(session, first, second, source_set, target_set, methods)
                       for first, second in ((counted_period, weights_period), (weights_period, counted_period))]
        except DomainError as error:
            raise click.ClickException(str(error)) from None
        names = boundary_store.area_names(session, results[0].target_set)
    click.echo(f"{results[0].source_set} -> {results[0].target_set}, all crime (no ASB); "
               f"absolute % error of each {results[0].target_set} area against its direct count")
    heads = [f"counted {r.counted_period}, weights {r.weights_period}" for r in results]
    click.echo(f"{'':<24}" + "".join(f"{head:<52}" for head in heads))
    click.echo(f"{'method':<24}" + f"{'median':>8}{'worst':>8}  {'worst area':<34}" * len(results))
    for index, report in enumerate(results[0].reports):
        cells = ""
        for result in results:
            each = result.reports[index]
            area = names.get(each.worst_area, each.worst_area)[:32]
            cells += f"{each.median_abs_pct_error:>8.1f}{each.worst_abs_pct_error:>8.1f}  {area:<34}"
        click.echo(f"{report.method:<24}{cells}")
    click.echo(f"totals conserved: {results[0].reports[0].total_estimated:.0f}/{results[0].reports[0].total_actual:.0f}"
               f" and {results[1].reports[0].total_estimated:.0f}/{results[1].reports[0].total_actual:.0f}; "
               f"the map uses '{interpolation.BEST_METHOD}'")


@cli.group()
def figures() -> None:
    """Report figures."""


@figures.command("build")
@click.option("--year", type=int, required=True, help="the assessment year, e.g. 2023")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="folder to write the maps (PNG, SVG), CSV tables and figure-pack.pdf into")
@click.option("--annotations", is_flag=True, help="outline the assessment's statements about places on the maps")
def figures_build(year: int, out_dir: Path, annotations: bool) -> None:
    """Build the figure pack of a strategic assessment for YEAR, for the wards before and after May 2024."""
    with transaction(_engine()) as session, tqdm(total=1, unit="step", desc=f"figures {year}") as bar:
        def advance(done: int, total: int, message: str) -> None:
            bar.total = total
            bar.set_postfix_str(message)
            bar.update(done - bar.n)

        pack = build_figure_pack(session, year, progress=advance, annotations=annotations)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(pack.files.items()):
        (out_dir / name).write_bytes(content)
    click.echo(f"{len(pack.produced)} figures in {out_dir}; not produced: {len(pack.not_produced)}")
    for item in pack.not_produced:
        click.echo(f"  - {item['figure']}: {item['reasons']}")


@cli.group()
def hotspots() -> None:
    """Hotspot layers (needle finds, DCSM locations): grants, imports and the audit log."""


def _cli_caller() -> hotspot_records.Caller:
    """The command line acts as an admin; the audit log names the operating-system user."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return hotspot_records.Caller(f"cli:{who}", "admin")


def _hotspot_user(session, username: str):
    user = accounts.find_user(session, username)
    if user is None:
        raise click.ClickException(f"no user '{username}'")
    return user


@hotspots.command("layers")
def hotspots_layers() -> None:
    """List the hotspot layers with their sensitivity, owner team and retention."""
    with transaction(_engine()) as session:
        for layer in hotspot_store.list_layers(session):
            grants = len(hotspot_store.layer_grants(session, layer["id"]))
            access = f"{grants} grant(s)" if layer["sensitivity"] == "restricted" else "signed-in users"
            click.echo(f"{layer['id']:<16} {layer['sensitivity']:<10} {access:<16} "
                       f"retention {layer['retention_months']} months  {layer['title']} ({layer['owner_team']})")


@hotspots.command("grant")
@click.argument("username")
@click.argument("layer")
@click.option("--read-only", is_flag=True, help="read the layer but not change it (default: read and write)")
def hotspots_grant(username: str, layer: str, read_only: bool) -> None:
    """Let USERNAME see (and by default edit) the restricted LAYER, e.g. dcsm-locations."""
    try:
        with transaction(_engine()) as session:
            result = hotspot_records.grant(session, _cli_caller(), layer, _hotspot_user(session, username),
                                           "read" if read_only else "write")
    except (hotspot_records.NotFound, hotspot_records.RecordError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{username} may now {'read' if read_only else 'read and change'} {layer}"
               + (f" (was {result['previous']})" if result["previous"] else ""))


@hotspots.command("revoke")
@click.argument("username")
@click.argument("layer")
def hotspots_revoke(username: str, layer: str) -> None:
    """Take USERNAME's grant on LAYER away."""
    try:
        with transaction(_engine()) as session:
            removed = hotspot_records.revoke(session, _cli_caller(), layer, _hotspot_user(session, username))
    except hotspot_records.NotFound as error:
        raise click.ClickException(str(error)) from None
    if not removed:
        raise click.ClickException(f"{username} has no grant on {layer}")
    click.echo(f"{username} no longer has access to {layer}")


@hotspots.command("grants")
@click.argument("layer", default="dcsm-locations")
def hotspots_grants(layer: str) -> None:
    """List who is granted LAYER (default dcsm-locations)."""
    with transaction(_engine()) as session:
        rows = hotspot_store.layer_grants(session, layer)
    for row in rows:
        click.echo(f"{row['username']:<24} {row['role']:<8} {row['access']:<6} granted by {row['granted_by']} "
                   f"on {row['granted_at']:%Y-%m-%d}{'' if row['active'] else '  (account inactive)'}")
    if not rows:
        click.echo(f"nobody is granted {layer}")


@hotspots.command("import")
@click.argument("layer")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", "username", required=True, help="the user recording the points (needs write access)")
def hotspots_import(layer: str, file: Path, username: str) -> None:
    """Import a CSV (lon/lat, easting/northing or place columns) or GeoJSON FILE of points into LAYER.

    One bad row refuses the whole file; every problem is listed with its row.
    """
    try:
        parsed = hotspot_input.read_import_file(file.name, file.read_bytes())
        with transaction(_engine()) as session:
            caller = hotspot_records.caller_for(session, _hotspot_user(session, username))
            target = hotspot_records.require_layer(session, layer, caller, hotspot_records.WRITE, "import")
            summary = hotspot_records.import_points(session, target, caller, parsed,
                                                    load_settings().record_buffer_metres)
    except hotspot_input.ImportFileError as error:
        _refuse(f"not imported: {error.file} (nothing was kept)",
                [f"row {problem['row']}: {problem['reason']}" for problem in error.problems], error.more)
    except (hotspot_records.AccessDenied, hotspot_records.NotFound) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"imported {summary['imported']} records into {layer} ({summary['located']} on the map, "
               f"{summary['unplaced']} at places without a point)")
    if summary["new_places"]:
        click.echo(f"new places (unplaced): {', '.join(summary['new_places'])}")


@hotspots.command("audit")
@click.option("--layer", default=None, help="only this layer")
@click.option("--user", "username", default=None, help="only this user")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def hotspots_audit(layer: str | None, username: str | None, limit: int) -> None:
    """The audit log, newest first: reads of restricted layers and every write."""
    with transaction(_engine()) as session:
        entries = hotspot_store.audit_entries(session, layer_id=layer, username=username, limit=limit)
    for entry in entries:
        click.echo(f"{entry['at']:%Y-%m-%d %H:%M:%S} {entry['username']:<24} {entry['action']:<18} "
                   f"{entry['layer_id'] or '-':<16} {entry['feature_count']:>6}")


@cli.group()
def jobs() -> None:
    """The job queue for heavy work (figure packs, large maps and exports, heavy Gi*)."""


@jobs.command("worker")
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 16),
              help="jobs run at once by this worker")
@click.option("--once", is_flag=True, help="work until the queue is empty, then stop (default: until Ctrl-C)")
def jobs_worker(concurrency: int, once: bool) -> None:
    """Run a job worker against the same PostgreSQL as the app; start as many as you like, on any machine."""
    from server.jobs import run_worker

    settings = load_settings()
    run_worker(settings.database_url, concurrency, once, settings.job_niceness)


def main() -> None:
    """Run the CLI; failures print one clear line instead of a stack trace."""
    try:
        cli(prog_name="atlas")
    except BoundaryFileError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(1)
    except (SQLAlchemyError, RuntimeError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        click.echo(f"error: {reason}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
