#!/usr/bin/env bash
# Installs @tensorflow/tfjs-node's native binding on libtensorflow taken from
# the tensorflow-cpu wheel, for machines where tfjs-node's own install cannot
# download libtensorflow (a firewall, an offline mirror) but pip can get the
# wheel. The wheel's libtensorflow_cc.so.2 exports every TF_*/TFE_* symbol the
# binding calls. Exits 0 with one line when the wheel cannot be had, so CI can
# skip the native lane instead of failing.
#
#   bash scripts/install-tfjs-node.sh          # after npm install / npm ci
#
# Downloads and extracted libraries are cached in BARDBOT_CACHE_DIR
# (default ~/.cache/bardbot), outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

TF_VERSION=2.21.0
PKG=node_modules/@tensorflow/tfjs-node
CACHE=${BARDBOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/bardbot}
LIBS=$CACHE/libtensorflow-$TF_VERSION

loads() { node -e "require('@tensorflow/tfjs-node')" >/dev/null 2>&1; }

# tfjs-node 4.22's version, from the lockfile, so the binding matches @tensorflow/tfjs.
TFJS_NODE_VERSION=$(node -p "require('./package-lock.json').packages['node_modules/@tensorflow/tfjs-node'].version")

if [ -f "$PKG/lib/napi-v8/tfjs_binding.node" ] && loads; then
  echo "tfjs-node: already installed and loadable"
  exit 0
fi

if [ ! -f "$LIBS/lib/libtensorflow_cc.so.2" ]; then
  mkdir -p "$CACHE"
  wheel=$(ls "$CACHE"/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -n1 || true)
  if [ -z "$wheel" ]; then
    if ! command -v pip >/dev/null; then
      echo "tfjs-node: skipped, pip is not installed (it downloads the tensorflow-cpu==$TF_VERSION wheel)"
      exit 0
    fi
    # Few retries and a short timeout: pip tries its default index first,
    # which may be unreachable while a configured mirror has the wheel.
    if ! out=$(pip download --no-deps --only-binary=:all: --python-version 3.11 --platform manylinux_2_27_x86_64 \
      --retries 1 --timeout 15 "tensorflow-cpu==$TF_VERSION" -d "$CACHE" 2>&1); then
      why=$(printf '%s\n' "$out" | grep '^ERROR' | tail -n1 || true)
      echo "tfjs-node: skipped, pip could not download tensorflow-cpu==$TF_VERSION (${why:-$(printf '%s\n' "$out" | tail -n1)})"
      exit 0
    fi
    wheel=$(ls "$CACHE"/tensorflow_cpu-"$TF_VERSION"-*.whl | head -n1)
  fi
  if ! command -v unzip >/dev/null; then
    echo "tfjs-node: skipped, unzip is not installed (it extracts libtensorflow from the wheel)"
    exit 0
  fi
  tmp=$(mktemp -d "$CACHE/extract.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  unzip -q "$wheel" -d "$tmp" \
    'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/ctstring*' \
    'tensorflow/include/tsl/platform/ctstring*' 'tensorflow/include/xla/tsl/c/*'
  mkdir -p "$tmp/out/lib"
  mv "$tmp/tensorflow/include" "$tmp/out/include"
  mv "$tmp"/tensorflow/lib*.so.2 "$tmp/out/lib/"
  # Debug symbols are most of the wheel's libraries; nothing here needs them.
  if command -v strip >/dev/null; then
    strip --strip-unneeded "$tmp"/out/lib/*.so.2 || echo "tfjs-node: strip failed, keeping unstripped libraries"
  fi
  rm -rf "$LIBS" && mv "$tmp/out" "$LIBS"
  # The wheel is not needed once the libraries are extracted.
  rm -f "$wheel"
fi

if [ ! -d "$PKG" ]; then
  # npm drops an optional dependency whose install script failed; bring it
  # back without running that script (it would try its own download again).
  npm install --no-save --ignore-scripts --no-audit --no-fund "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >/dev/null
fi

# tfjs-node's install script skips its download when deps/lib/libtensorflow.so.2.9.1
# exists, and links the binding against deps/lib/libtensorflow.so.
rm -rf "$PKG/deps"
mkdir -p "$PKG/deps/lib"
cp -r "$LIBS/include" "$PKG/deps/include"
# Hard links where the cache is on the same file system: no second 800 MB copy.
for f in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
  ln "$LIBS/lib/$f" "$PKG/deps/lib/$f" 2>/dev/null || cp "$LIBS/lib/$f" "$PKG/deps/lib/$f"
done
ln -s libtensorflow_cc.so.2 "$PKG/deps/lib/libtensorflow.so"
ln -s libtensorflow_cc.so.2 "$PKG/deps/lib/libtensorflow.so.2.9.1"
ln -s libtensorflow_framework.so.2 "$PKG/deps/lib/libtensorflow_framework.so"

# node-gyp builds the binding from source (N-API, so one build serves every
# Node version); the headers of the running node are where its binary is.
nodedir=$(dirname "$(dirname "$(command -v node)")")
npm_config_nodedir=$nodedir npm rebuild @tensorflow/tfjs-node --foreground-scripts >"$CACHE/rebuild.log" 2>&1 || true
# The install script hides a failed build, so check what it left.
if [ ! -f "$PKG/lib/napi-v8/tfjs_binding.node" ]; then
  echo "tfjs-node: FAILED, the binding was not built (see $CACHE/rebuild.log)" >&2
  exit 1
fi
if ! loads; then
  echo "tfjs-node: FAILED, built but require('@tensorflow/tfjs-node') throws:" >&2
  node -e "require('@tensorflow/tfjs-node')" 2>&1 | tail -n 5 >&2
  exit 1
fi
echo "tfjs-node: installed on libtensorflow from tensorflow-cpu==$TF_VERSION ($(du -sh "$PKG/deps/lib" | cut -f1) of libraries)"
