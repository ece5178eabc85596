#!/usr/bin/env bash
# What the server needs from the system, beyond Python: Pango (WeasyPrint renders transcript PDFs
# with it), HarfBuzz's subsetter (small PDFs), and one typeface covering Latin and Arabic (DejaVu
# Sans, which transcripts use throughout). With "test", also pdftoppm (poppler-utils), with which
# the tests look at a rendered PDF. Installs what is missing with apt-get (as root or with sudo),
# or stops with one line saying what to install.
#   usage: tools/system-packages.sh PYTHON run|test
set -uo pipefail
python="$1"
mode="${2:-run}"
missing=()

"$python" -c "import weasyprint" >/dev/null 2>&1 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
"$python" -c "import ctypes.util, sys; sys.exit(not ctypes.util.find_library('harfbuzz-subset'))" \
  || missing+=(libharfbuzz-subset0)
{ command -v fc-list >/dev/null && [ -n "$(fc-list 'DejaVu Sans:lang=ar' family)" ]; } \
  || missing+=(fontconfig fonts-dejavu-core)
if [ "$mode" = test ]; then
  command -v pdftoppm >/dev/null || missing+=(poppler-utils)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null; then
  if [ "$(id -u)" = 0 ]; then sudo=; elif sudo -n true 2>/dev/null; then sudo=sudo; else sudo=none; fi
  if [ "$sudo" != none ]; then
    echo "Installing from Debian's packages: ${missing[*]}"
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" && exit 0
  fi
fi
echo "Missing from the system: ${missing[*]} (Debian/Ubuntu: sudo apt-get install ${missing[*]}; elsewhere: Pango 1.44+, HarfBuzz, the DejaVu fonts$([ "$mode" = test ] && echo ", poppler"))" >&2
exit 1
