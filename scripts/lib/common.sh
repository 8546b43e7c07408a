# Shared set-up for scripts/run and scripts/test. Source it; do not run it.
# Every step is idempotent and quick when nothing changed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VAR="${CSP_ATLAS_VAR:-$ROOT/var}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
RUN_PACKAGES=(postgresql postgis python3-venv nodejs npm)
TEST_PACKAGES=("${RUN_PACKAGES[@]}" chromium fonts-dejavu-core poppler-utils)

say() { printf '\033[1m[csp-atlas]\033[0m %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

is_root() { [ "$(id -u)" = "0" ]; }

pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && echo "$dir"
}

postgis_available() {
  local bindir ver
  bindir=$(pg_bindir) || return 1
  ver=$(basename "$(dirname "$bindir")")
  [ -f "/usr/share/postgresql/$ver/extension/postgis.control" ]
}

# has_package NAME: is the Debian package, or an equivalent install of what it provides, present?
has_package() {
  case "$1" in
    postgresql) pg_bindir >/dev/null ;;
    postgis) postgis_available ;;
    nodejs) command -v node >/dev/null ;;
    npm) command -v npm >/dev/null ;;
    chromium) command -v chromium >/dev/null ;;
    python3-venv) python3 -c 'import ensurepip' 2>/dev/null ;;
    *) dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" ;;
  esac
}

missing_packages() {
  local pkg missing=()
  for pkg in "$@"; do has_package "$pkg" || missing+=("$pkg"); done
  echo "${missing[@]:-}"
}

# ensure_system_packages PKG…: install the missing Debian packages, or say exactly how.
ensure_system_packages() {
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  local cmd="apt-get update && apt-get install -y $missing"
  if is_root; then
    say "installing Debian packages: $missing"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null \
      || die "could not install Debian packages; run: $cmd"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    say "installing Debian packages with sudo: $missing"
    sudo apt-get update -qq >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null \
      || die "could not install Debian packages; run: sudo sh -c '$cmd'"
  else
    postgis_available || die "PostgreSQL/PostGIS are missing. Run: sudo sh -c '$cmd'"
    say "some optional Debian packages are missing ($missing); to install them run: sudo sh -c '$cmd'"
  fi
}

# Re-installs the virtual environment only when a requirements file changed.
ensure_venv() {
  local reqs="$1" stamp="$VENV/.installed-$(basename "$1")"
  [ -x "$PY" ] || { say "creating virtual environment in .venv"; python3 -m venv "$VENV" || die "python3 -m venv failed"; }
  local want
  want=$(cat "$ROOT/requirements.txt" "$reqs" | sha1sum | cut -c1-40)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages from $(basename "$reqs")"
    "$PY" -m pip install -q --disable-pip-version-check -r "$reqs" || die "pip install -r $reqs failed"
    echo "$want" > "$stamp"
  fi
}

ensure_client_modules() {
  local client="$ROOT/client" stamp="$ROOT/client/node_modules/.installed"
  local want
  want=$(sha1sum "$client/package-lock.json" | cut -c1-40)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    command -v npm >/dev/null || die "npm is missing: install the Debian package npm"
    say "installing front-end libraries with npm ci"
    (cd "$client" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed in client/"
    echo "$want" > "$stamp"
  fi
}

# --- private PostgreSQL cluster -------------------------------------------
# PostgreSQL refuses to run as root, so as root the cluster runs as the
# unprivileged 'postgres' account that the Debian package creates.

pg_user() { if is_root; then echo postgres; else id -un; fi; }

as_pg_user() {
  if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Prints a data directory the cluster user can write: DIR itself when the
# cluster user can reach it, otherwise a private folder under /var/tmp.
usable_data_dir() {
  local dir="$1"
  mkdir -p "$dir"
  if is_root; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir" 2>/dev/null; then
      local fallback
      fallback="/var/tmp/csp-atlas-$(echo "$dir" | sha1sum | cut -c1-12)"
      mkdir -p "$fallback" && chown postgres: "$fallback" && chmod 700 "$fallback"
      say "the postgres account cannot reach $dir; keeping the cluster in $fallback"
      echo "$fallback"
      return
    fi
  fi
  echo "$dir"
}

# The cluster's roles, each with a generated password (SECURITY.md, "Least privilege in the database"):
#   postgres     superuser: creates the roles, the database and PostGIS (scripts/lib/database_roles.sql), nothing else
#   atlas_owner  owns the schema and runs the migrations: CSP_ATLAS_OWNER_DATABASE_URL
#   atlas_app    what the app connects as, DML only (server/store/roles.py): DATABASE_URL
PG_SUPERUSER=postgres
PG_OWNER=atlas_owner
PG_APP=atlas_app
PG_DATABASE=atlas
LEGACY_SUPERUSER=atlas  # the only role of clusters initialised before passwords, with trust authentication

# secret FILE: the password kept in FILE, generated (readable by this account only) the first time.
secret() {
  local file="$1"
  (umask 077; mkdir -p "$(dirname "$file")")
  chmod 700 "$(dirname "$file")"
  [ -s "$file" ] || (umask 077; python3 -c 'import secrets; print(secrets.token_hex(24))' > "$file")
  chmod 600 "$file"
  cat "$file"
}

# psql_as ROLE PORT SECRETS_DIR ARGS…: psql over 127.0.0.1 as ROLE, its password in the environment (not argv).
psql_as() {
  local role="$1" port="$2" secrets="$3"; shift 3
  PGPASSWORD="$(secret "$secrets/$role")" "$(pg_bindir)/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
    -U "$role" "$@"
}

# Passwords (scram-sha-256) only, and only from this machine: the socket in the data folder and 127.0.0.1.
write_hba() {
  printf '%s\n' "# CSP Atlas private cluster (scripts/lib/common.sh): passwords only, from this machine only." \
    "local  all  all                 scram-sha-256" \
    "host   all  all  127.0.0.1/32   scram-sha-256" | as_pg_user tee "$1/pg_hba.conf" >/dev/null
}

trusts_connections() {
  grep -Eq '^[[:space:]]*(local|host)[^#]*[[:space:]]trust([[:space:]]|$)' "$1/pg_hba.conf"
}

init_cluster() {
  local bindir="$1" data="$2" secrets="$3" pwfile
  pwfile=$(mktemp)  # initdb runs as the cluster's account, which cannot read $secrets
  secret "$secrets/$PG_SUPERUSER" > "$pwfile"
  is_root && chown postgres: "$pwfile"
  as_pg_user "$bindir/initdb" -D "$data" -U "$PG_SUPERUSER" --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 \
    --locale=C.UTF-8 >/dev/null || { rm -f "$pwfile"; die "initdb failed for $data"; }
  rm -f "$pwfile"
  write_hba "$data"
}

# A cluster from before passwords lets anyone on this machine in as its superuser 'atlas': while it still does,
# give the superuser 'postgres' a password, then allow passwords only. database_roles.sql hands the tables over.
require_passwords() {
  local bindir="$1" data="$2" port="$3" secrets="$4"
  say "the cluster in $data lets anyone on this machine in without a password: switching it to passwords"
  printf '%s\n' "\\set name $PG_SUPERUSER" "\\set password $(secret "$secrets/$PG_SUPERUSER")" \
    "SELECT format('CREATE ROLE %I', :'name') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \\gexec" \
    "ALTER ROLE :\"name\" WITH SUPERUSER LOGIN PASSWORD :'password';" \
    | PGPASSWORD='' "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$LEGACY_SUPERUSER" \
      -d postgres >/dev/null \
    || die "could not set a password in the cluster in $data (SECURITY.md, \"Least privilege in the database\")"
  write_hba "$data"
  as_pg_user "$bindir/pg_ctl" -D "$data" reload >/dev/null || die "PostgreSQL did not reload $data/pg_hba.conf"
}

# The database, the owner and app roles with their passwords, and PostGIS: scripts/lib/database_roles.sql.
provision_roles() {
  local port="$1" secrets="$2"
  printf '%s\n' "\\set owner_password $(secret "$secrets/$PG_OWNER")" \
    "\\set app_password $(secret "$secrets/$PG_APP")" "\\i $ROOT/scripts/lib/database_roles.sql" \
    | psql_as "$PG_SUPERUSER" "$port" "$secrets" -d postgres -v db="$PG_DATABASE" -v owner="$PG_OWNER" \
      -v app="$PG_APP" >/dev/null \
    || die "could not set up the database and its roles as $PG_SUPERUSER (password in $secrets/$PG_SUPERUSER)"
}

# start_cluster DATA_DIR PORT SECRETS_DIR [SERVER_OPTIONS]: initialise (first time) and start a cluster
# listening on 127.0.0.1:PORT with database 'atlas' and the roles above, their passwords in SECRETS_DIR.
start_cluster() {
  local data="$1" port="$2" secrets="$3" extra="${4:-}" bindir log
  bindir=$(pg_bindir) || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
  postgis_available || die "PostGIS is not installed (Debian package: postgis)"
  log="$data.log"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "initialising a private PostgreSQL cluster in $data"
    init_cluster "$bindir" "$data" "$secrets"
  fi
  touch "$log"; is_root && chown postgres: "$log"
  if ! as_pg_user "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg_user "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $data $extra" start >/dev/null \
      || die "PostgreSQL did not start; see $log"
  fi
  if trusts_connections "$data"; then require_passwords "$bindir" "$data" "$port" "$secrets"; fi
  provision_roles "$port" "$secrets"
}

# cluster_urls PORT SECRETS_DIR: sets APP_URL (for DATABASE_URL) and OWNER_URL (CSP_ATLAS_OWNER_DATABASE_URL).
cluster_urls() {
  local port="$1" secrets="$2"
  APP_URL="postgresql://$PG_APP:$(secret "$secrets/$PG_APP")@127.0.0.1:$port/$PG_DATABASE"
  OWNER_URL="postgresql://$PG_OWNER:$(secret "$secrets/$PG_OWNER")@127.0.0.1:$port/$PG_DATABASE"
}

stop_cluster() {
  local data="$1" bindir
  bindir=$(pg_bindir) || return 0
  [ -f "$data/postmaster.pid" ] && as_pg_user "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1
  return 0
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
