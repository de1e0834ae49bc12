#!/usr/bin/env bash
# Fetch (once) the Kafka broker's jars from Maven Central and build FerretDB from the Go module
# proxy. Everything lands in $AFTERSALE_CACHE (default ~/.cache/aftersale), outside the work tree.
source "$(dirname "$0")/common.sh"

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"; }

fetch_kafka() {
  if [ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$KAFKA_LIBS/.complete" ]; then return 0; fi
  need java "install a JDK 17 or newer (Debian: apt-get install openjdk-17-jdk-headless)"
  need mvn "install Maven (Debian: apt-get install maven)"
  local jv; jv=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  [ "${jv:-0}" -ge 17 ] || die "Kafka $KAFKA_VERSION needs Java 17+, found '${jv:-none}' (set JAVA_HOME or PATH to a newer JDK)"
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS.tmp" && mkdir -p "$KAFKA_LIBS.tmp"
  if ! mvn -B -q -f "$INFRA_DIR/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp" >"$AFTERSALE_CACHE/mvn-fetch.log" 2>&1; then
    tail -n 20 "$AFTERSALE_CACHE/mvn-fetch.log" >&2
    die "downloading Kafka from Maven Central failed (log: $AFTERSALE_CACHE/mvn-fetch.log); check that Maven Central is reachable"
  fi
  touch "$KAFKA_LIBS.tmp/.complete"
  rm -rf "$KAFKA_LIBS" && mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
}

fetch_ferretdb() {
  if [ -x "$FERRETDB_BIN" ]; then return 0; fi
  need go "install Go 1.22+ (https://go.dev/doc/install or Debian: apt-get install golang)"
  say "building FerretDB $FERRETDB_VERSION from the Go module proxy"
  local dir src
  # `go install pkg@version` builds it too, but FerretDB refuses to start without the version
  # file its release process generates; so we download the module, add that file, and build it.
  dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" 2>"$AFTERSALE_CACHE/go-fetch.log" \
        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p') || true
  [ -n "$dir" ] && [ -d "$dir" ] || { cat "$AFTERSALE_CACHE/go-fetch.log" >&2; die "downloading FerretDB from the Go module proxy failed"; }
  src="$AFTERSALE_CACHE/src/ferretdb-$FERRETDB_VERSION"
  rm -rf "$src" && mkdir -p "$(dirname "$src")" && cp -r "$dir" "$src" && chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" > "$src/build/version/version.txt"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  if ! (cd "$src" && go build -trimpath -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb) >"$AFTERSALE_CACHE/go-build.log" 2>&1; then
    tail -n 20 "$AFTERSALE_CACHE/go-build.log" >&2
    die "building FerretDB failed (log: $AFTERSALE_CACHE/go-build.log)"
  fi
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
}

fetch_postgres() {
  [ "$FERRETDB_BACKEND" = postgresql ] || return 0
  [ -n "$(pg_bin)" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing PostgreSQL from Debian's packages (FerretDB's backend)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; } >"$AFTERSALE_CACHE/apt.log" 2>&1 \
      || { tail -n 20 "$AFTERSALE_CACHE/apt.log" >&2; die "installing postgresql failed (log: $AFTERSALE_CACHE/apt.log)"; }
  else
    die "PostgreSQL is missing: install Debian's postgresql package, or use AFTERSALE_FERRETDB_BACKEND=sqlite"
  fi
}

mkdir -p "$AFTERSALE_CACHE"
fetch_kafka
fetch_ferretdb
fetch_postgres
say "Kafka $KAFKA_VERSION and FerretDB $FERRETDB_VERSION are in $AFTERSALE_CACHE (backend: $FERRETDB_BACKEND)"
