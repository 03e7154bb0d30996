#!/bin/sh
# WANT_JSON: the arguments are a JSON file, the first argument.
word=$(sed -n 's/.*"word": "\([^"]*\)".*/\1/p' "$1")
check=$(sed -n 's/.*"_ansible_check_mode": \([a-z]*\).*/\1/p' "$1")
echo "some noise before the result"
printf '{"changed": false, "word": "%s", "check": %s, "rc": 0, "stdout": "one\\ntwo"}\n' "$word" "$check"
