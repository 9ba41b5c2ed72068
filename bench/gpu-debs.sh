#!/bin/sh
# Downloads (does not install) the Debian packages bench/gpu-check.sh needs
# on a GPU machine that has no network: the pcre2, jansson, cmocka and
# libcsv headers and libraries, into .gpu-debs/ (git-ignored). Name that
# folder in the device tool's carry; gpu-check.sh unpacks the files into
# its build directory, never into /.
#   usage: bench/gpu-debs.sh
set -eu
cd "$(dirname "$0")/.."
mkdir -p .gpu-debs
cd .gpu-debs
apt-get download libpcre2-dev libpcre2-8-0 libjansson-dev libjansson4 libcmocka-dev libcmocka0 \
    libcsv-dev libcsv3
ls -1 ./*.deb
