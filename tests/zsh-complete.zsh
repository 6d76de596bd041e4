#!/usr/bin/zsh -f
# SPDX-License-Identifier: Apache-2.0
# zsh-complete.zsh COMPDIR LINE: the matches zsh's completion system offers
# at the end of LINE, one a line.  An interactive zsh in a pty (zpty) loads
# the completion function from COMPDIR with compinit; its compadd is
# wrapped to also print the words it adds that match what is typed.
# Callers bound it with timeout(1).
zmodload zsh/zpty || exit 2
zpty pd zsh -f -i || exit 2
zpty -w pd "PS1= PROMPT= RPROMPT=; unsetopt zle_bracketed_paste 2>/dev/null"
zpty -w pd "fpath=(${(q)1} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w pd "zstyle ':completion:*' list-grouped false; zstyle ':completion:*' insert-tab false"
# -O, -A, -D: _arguments and _describe asking compadd to sort words, not add them.
zpty -w pd 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-[OAD]\ * ]]; then builtin compadd "$@"; return; fi
  local -a __pd_hits; builtin compadd -O __pd_hits "$@"
  local m; for m in $__pd_hits; do print -r -- "<m""atch>$m"; done
  builtin compadd "$@"
}'
zpty -w pd 'pd_done () { print -r -- "<d""one>"; exit }; comppostfuncs=(pd_done)'
zpty -w -n pd "$2"$'\t'
local line
while zpty -r pd line; do
  line=${line%$'\r'}; line=${line%$'\n'}; line=${line%$'\r'}
  case $line in
    *'<done>'*) exit 0 ;;
    *'<match>'*) print -r -- "${line#*<match>}" ;;
  esac
done
exit 1
