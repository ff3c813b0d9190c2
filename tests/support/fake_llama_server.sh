#!/usr/bin/env bash
# Stands in for llama-server (EDGEBENCH_LLAMA_SERVER) in the tests: takes
# the --port edgebench gives it and, as FAKE_LLAMA_MODE says, fails to
# start (exit: a load error on stderr, as llama.cpp's), serves and then
# dies (die:S, after S seconds), or never becomes ready (loading).
port=
while [ $# -gt 0 ]; do
  [ "$1" = --port ] && port=$2
  shift
done
fake="$(dirname "$0")/fake_openai_server.py"
case ${FAKE_LLAMA_MODE:-} in
exit)
  echo "llama_model_load: error loading model: the stand-in is told to fail" >&2
  exit 1
  ;;
die:*) exec python3 "$fake" --port "$port" --tokens 50 --gap 0.05 --die-after "${FAKE_LLAMA_MODE#die:}" ;;
loading) exec python3 "$fake" --port "$port" --loading ;;
*) exec python3 "$fake" --port "$port" ;;
esac
