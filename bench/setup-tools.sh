#!/usr/bin/env bash
# Installs the benchmark's third-party syslog tools (never needed by the tests): syslog-ng's
# `loggen` (a sender) and `rsyslogd` (the daemon the analyzer is compared with). Debian's
# syslog-ng-core and rsyslog conflict as packages (both are the system's syslog daemon), so
# neither is installed: both are downloaded (`apt-get download`) and unpacked (`dpkg-deb -x`)
# into the tools folder, and only the libraries they load are installed. No daemon is started.
# The folder is $FAZLAB_BENCH_TOOLS, by default ~/.cache/fazlab-bench; `bench/run.ts` looks
# there (and on PATH). Root on Debian 12: `sudo bench/setup-tools.sh`.
set -euo pipefail

tools="${FAZLAB_BENCH_TOOLS:-$HOME/.cache/fazlab-bench}"
mkdir -p "$tools/debs"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# What rsyslogd and loggen load beyond a minimal Debian 12 (libestr0, libfastjson4: rsyslog's).
apt-get install -y -qq --no-install-recommends libestr0 libfastjson4 libglib2.0-0 libivykis0 libnet1 libwrap0 libjson-c5 >/dev/null
cd "$tools/debs"
rm -f ./*.deb
# As root apt-get download warns that its sandbox user cannot write here; the download is fine.
apt-get download rsyslog syslog-ng-core 2>&1 | grep -v "unsandboxed" || true
for deb in ./*.deb; do dpkg-deb -x "$deb" "$tools/root"; done
"$tools/root/usr/sbin/rsyslogd" -v | head -1
SYSLOGNG_PREFIX="$tools/root/usr" LD_LIBRARY_PATH="$tools/root/usr/lib/syslog-ng" "$tools/root/usr/bin/loggen" --help >/dev/null
echo "loggen and rsyslogd are in $tools/root"
