#!/usr/bin/env bash
# Regenerate the rpm parser fixtures in testdata/ from rpms that tests/fixtures/build-rpm-images.sh built.
#
#   bash tests/engine/catalogers/rpm/make_testdata.sh [RPMS_DIR]
#   (default RPMS_DIR: $ASSAY_FIXTURES/rpm/work/rpmbuild/RPMS/x86_64)
#
# - usr/lib/sysimage/rpm/rpmdb.sqlite   written by Debian's rpm 4.18 (--justdb): openssl-libs (epoch 1,
#   subpackage of openssl), bash, libcurl (subpackage of curl), all RHEL 9 versions
# - var/lib/rpm/Packages                the same three el7 packages' headers in a Berkeley DB hash written by
#   db5.3_load (Debian's rpm cannot write BDB), read back by `rpm --define '_db_backend bdb_ro' -qa`
# - var/lib/rpm/Packages.db             NDB: Debian's rpm has no NDB backend ("invalid %_db_backend: ndb"), so
#   ndb_writer.py lays the el9 headers out as rpm's lib/backend/ndb/rpmpkg.c does
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../../.." && pwd)
RPMS=${1:-${ASSAY_FIXTURES:-$REPO/.fixtures}/rpm/work/rpmbuild/RPMS/x86_64}
T=$HERE/testdata
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rm -rf "$T/usr" "$T/var"
mkdir -p "$T/usr/lib/sysimage/rpm" "$T/var/lib/rpm"

register() { # ROOT RPM...
  local root=$1; shift
  rpm --root "$root" --dbpath /db --initdb
  rpm --root "$root" --dbpath /db -i --justdb --nodeps --noscripts --nosignature --ignorearch --ignoreos "$@" \
    2>&1 | grep -v -e 'use Alien' -e 'assuming you know' || true
  rm -f "$root/db"/.rpm.lock "$root/db"/rpmdb.sqlite-shm "$root/db"/rpmdb.sqlite-wal
}
register "$TMP/el9" "$RPMS"/{openssl-libs,bash,libcurl}-*el9*.rpm
cp "$TMP/el9/db/rpmdb.sqlite" "$T/usr/lib/sysimage/rpm/rpmdb.sqlite"
register "$TMP/el7" "$RPMS"/{openssl-libs,bash,libcurl}-*el7*.rpm
python3 - "$TMP/el7/db/rpmdb.sqlite" "$TMP/Packages.dump" <<'PY'
import sqlite3, struct, sys
rows = sqlite3.connect(sys.argv[1]).execute("select hnum, blob from Packages order by hnum").fetchall()
with open(sys.argv[2], "w") as f:
    f.write("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=4096\nHEADER=END\n")
    for hnum, blob in rows:
        f.write(" %s\n %s\n" % (struct.pack("<I", hnum).hex(), bytes(blob).hex()))
    f.write("DATA=END\n")
PY
db5.3_load -f "$TMP/Packages.dump" "$T/var/lib/rpm/Packages"
rpm --define '_db_backend bdb_ro' --dbpath "$T/var/lib/rpm" -qa 2>/dev/null
rm -f "$T/var/lib/rpm/.rpm.lock"
python3 "$HERE/ndb_writer.py" "$T/usr/lib/sysimage/rpm/rpmdb.sqlite" "$T/var/lib/rpm/Packages.db"
rpm --dbpath "$T/usr/lib/sysimage/rpm" -qa
rm -f "$T/usr/lib/sysimage/rpm"/rpmdb.sqlite-shm "$T/usr/lib/sysimage/rpm"/rpmdb.sqlite-wal "$T/usr/lib/sysimage/rpm/.rpm.lock"
