#!/usr/bin/env bash
# Packs the whole rsdetect for a machine that has CUDA and PyTorch 2.11.0 but
# no GDAL (and where nothing can be installed): the release binaries, the
# shared-library closure of the binary except libtorch and the C/C++
# runtimes (the machine has its own), PROJ's data and GDAL's data.
#
#   bench/gpu-bundle.sh [OUT.tar.xz]     (default target/gpu-bundle.tar.xz)
#
# There, after unpacking into DIR (see bench/README.md, "On a GPU machine"):
#   . DIR/rsdetect/env.sh && rsdetect detect ... --device cuda
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/gpu-bundle.tar.xz}
bin=target/release/rsdetect
[ -x "$bin" ] || { echo "no $bin: run make build first" >&2; exit 2; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/rsdetect
mkdir -p "$root/bin" "$root/lib"
cp "$bin" target/release/examples/throughput target/release/examples/synthetic_scene "$root/bin/"
# The release profile keeps debug info for backtraces; the bundle need not.
strip --strip-debug "$root"/bin/*

# Everything the binary loads from the system, less what every Linux has and
# what the PyTorch install provides (its libtorch, CUDA runtime, OpenMP).
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' |
  grep -Ev '/(libc|libm|libdl|librt|libpthread|libstdc\+\+|libgcc_s|ld-linux-x86-64)\.so' |
  grep -Ev '/(\.venv|site-packages)/' |
  sort -u | while read -r lib; do cp -L "$lib" "$root/lib/"; done

proj=$(pkg-config --variable=datadir proj 2>/dev/null || echo /usr/share/proj)
cp -r "$proj" "$root/proj"
cp -r "$(gdal-config --datadir)" "$root/gdal"

cat > "$root/env.sh" <<'SH'
# Source this: puts the bundle's libraries, PyTorch's libtorch and CUDA
# libraries, and the PROJ/GDAL data in the environment.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
torch=$(python3 -c 'import importlib.util as u, os; print(os.path.dirname(u.find_spec("torch").origin))')
nvidia=$(find "$torch/../nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
export LD_LIBRARY_PATH="$here/lib:$torch/lib:$nvidia${LD_LIBRARY_PATH:-}"
export PROJ_DATA="$here/proj" GDAL_DATA="$here/gdal"
export PATH="$here/bin:$PATH"
SH

mkdir -p "$(dirname "$out")"
XZ_OPT=-6 tar -C "$stage" -cJf "$out" rsdetect
echo "$out: $(du -h "$out" | cut -f1) ($(ls "$root/lib" | wc -l) libraries)"
