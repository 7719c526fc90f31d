#!/usr/bin/env bash
# layers.sh INCLUDE_DIR: the core's layers include only downwards (docs/architecture.md, "The layers"):
# nothing under core/ includes another layer; data/ includes core/; train/, metrics/, models/ and
# theory/ include no policy or experiment header; the roles' policies (labels/, losses/,
# students/) include nothing from experiment/ (so protocol, task and students form no cycle).
set -euo pipefail
cd "$1/w2s"
bad=0
check() {  # check DIR PATTERN WHY
  local hits
  hits=$(grep -rnE "#include \"w2s/($2)/" "$1" || true)
  if [[ -n $hits ]]; then
    echo "$1/ must not include w2s/{$2}/ ($3):"
    echo "$hits"
    bad=1
  fi
}
check core "data|train|metrics|models|theory|labels|losses|students|experiment|report|sweep" "the bottom layer"
check data "train|metrics|models|theory|labels|losses|students|experiment" "below the trainer and models"
for d in train metrics models theory; do check $d "labels|losses|students|experiment" "below the roles"; done
for d in labels losses students; do check $d "experiment" "the roles sit below the composition site"; done
((bad == 0)) && echo "layers: every include goes downwards"
exit $bad
