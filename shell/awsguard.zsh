# awsguard for zsh: `eval "$(awsguard init zsh)"` in ~/.zshrc.
#
# 1. Puts the directory of the `aws` shim first on PATH (once; a second eval changes nothing).
# 2. Keeps $AWSGUARD_PROMPT up to date - which profile, source and account `aws` would use - and
#    shows it in RPROMPT unless AWSGUARD_PROMPT_AUTO=0.
#
# The precmd hook runs at every prompt, so its steady state uses builtins only and starts no
# process.  `awsguard prompt --hook=zsh` (Python) runs only when something the segment was
# computed from has changed; it reports what that was (see shell/README.md):
#   - the environment variables it read: compared by value and type (export) at each prompt;
#   - the files it read: each has a stamp file carrying the file's mtime, compared with the
#     `-nt`/`-ot` tests; a file that appears or vanishes is seen with `-e`;
#   - the time at which the text changes by itself (a countdown): compared with $SECONDS.
#
# Rules kept here: every function starts with `emulate -L zsh`, so the user's options
# (ksh_arrays, nounset, glob_subst, …) do not change what it does; options that change how a
# prompt is *drawn* (prompt_subst, prompt_bang, prompt_percent) are read before that.  $? is
# preserved; private names start with _awsguard_.  With prompt_subst on, RPROMPT holds the
# *reference* ${_awsguard_rps1}, never the text, so a profile named `$(touch x)` is shown, not
# run; without it the text goes in itself.  Either way `%` is doubled (CVE-2021-45444) and, under
# prompt_bang, `!` as well.

_awsguard_init() {
  emulate -L zsh
  typeset -ga _awsguard_cmd _awsguard_names _awsguard_watch
  local -a _awsguard_p
  # `awsguard init zsh` replaces the placeholder with the shell-quoted shim directory, Python
  # interpreter and awsguard package directory.  Do not edit this line.
  _awsguard_p=(@AWSGUARD_PATHS@)
  # -I -S: no site-packages, no .pth files, no user site: most of Python's start-up cost.
  _awsguard_cmd=(
    "${_awsguard_p[2]-}" -I -S -c
    'import sys;sys.path.append(sys.argv.pop(1));from awsguard.cli import main;raise SystemExit(main())'
    "${_awsguard_p[3]-}"
  )
  # State, kept across a second eval (which must not cost a recomputation).
  typeset -g _awsguard_key=${_awsguard_key-} _awsguard_k=
  typeset -gi _awsguard_deadline=${_awsguard_deadline:-0}
  typeset -gi _awsguard_whole=${_awsguard_whole:-1} _awsguard_cwd=${_awsguard_cwd:-0}
  typeset -g _awsguard_dir=${_awsguard_dir-} _awsguard_ref=${_awsguard_ref-}
  typeset -g _awsguard_alt=${_awsguard_alt-} _awsguard_ours=${_awsguard_ours-}
  typeset -g _awsguard_rps1=${_awsguard_rps1-}
  typeset -g AWSGUARD_PROMPT=${AWSGUARD_PROMPT-} AWSGUARD_PROMPT_RAW=${AWSGUARD_PROMPT_RAW-}
  typeset -g AWSGUARD_PROMPT_VERDICT=${AWSGUARD_PROMPT_VERDICT-}
  # The marker for "another aws comes before the shim", as the last report gave it.
  typeset -g _awsguard_mref=${_awsguard_mref-} _awsguard_malt=${_awsguard_malt-}
  typeset -g _awsguard_mraw=${_awsguard_mraw-} _awsguard_shim=${_awsguard_p[1]-}
  typeset -gi _awsguard_ahead=0
  zmodload zsh/parameter 2>/dev/null

  # PATH: the shim directory first.  Already first: nothing to do.  Elsewhere: moved to the front.
  local _awsguard_bin=${_awsguard_p[1]-}
  if [[ -n $_awsguard_bin && ${path[1]-} != "$_awsguard_bin" ]]; then
    path=("$_awsguard_bin" ${path:#$_awsguard_bin})
  fi

  # Run last, after the hooks of themes that rebuild RPROMPT.
  typeset -ga precmd_functions
  if (( ! ${precmd_functions[(Ie)_awsguard_hook]} )); then
    precmd_functions+=(_awsguard_hook)
  fi
}

# The cache key: every variable the last computation read, with its value and type (export).
_awsguard_keynow() {
  emulate -L zsh
  local _awsguard_n
  local -a _awsguard_ns
  if (( _awsguard_whole )); then
    # Unknown dependencies (first run, or a failure): every AWS* variable and the usual others.
    _awsguard_ns=(${(ok)parameters[(I)AWS*]} HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR NO_COLOR)
    _awsguard_ns=(${_awsguard_ns:#AWSGUARD_PROMPT(|_RAW|_VERDICT)})
  else
    _awsguard_ns=($_awsguard_names)
  fi
  _awsguard_k=
  for _awsguard_n in $_awsguard_ns; do
    _awsguard_k+="$_awsguard_n:${parameters[$_awsguard_n]-}:${(P)_awsguard_n-}"$'\n'
  done
  if (( _awsguard_cwd )); then
    _awsguard_k+="PWD:$PWD"
  fi
}

# Whether a file the last computation read has changed, appeared or vanished.
_awsguard_touched() {
  emulate -L zsh
  local -i _awsguard_i=0
  local _awsguard_w _awsguard_f _awsguard_s
  for _awsguard_w in $_awsguard_watch; do
    _awsguard_f=${_awsguard_w#? }
    _awsguard_s=$_awsguard_dir/$_awsguard_i
    (( _awsguard_i++ ))
    if [[ $_awsguard_w == 1\ * ]]; then
      [[ -e $_awsguard_f ]] || return 0
      if [[ -n $_awsguard_dir ]] && [[ $_awsguard_f -nt $_awsguard_s || $_awsguard_f -ot $_awsguard_s ]]; then
        return 0
      fi
    elif [[ -e $_awsguard_f ]]; then
      return 0
    fi
  done
  return 1
}

# Read the report of `awsguard prompt --hook=zsh`; nothing changes unless it is complete.
_awsguard_read() {
  emulate -L zsh
  local _awsguard_rest=$1 _awsguard_line _awsguard_nl=$'\n'
  local -i _awsguard_i=0 _awsguard_done=0 _awsguard_ttl=0 _awsguard_wh=0 _awsguard_c=0
  local _awsguard_d= _awsguard_r= _awsguard_a= _awsguard_raw= _awsguard_v= _awsguard_t=
  local _awsguard_m1= _awsguard_m2= _awsguard_m3=
  local -a _awsguard_ns _awsguard_ws
  while [[ -n $_awsguard_rest ]]; do
    _awsguard_line=${_awsguard_rest%%$_awsguard_nl*}
    if [[ $_awsguard_line == "$_awsguard_rest" ]]; then
      _awsguard_rest=
    else
      _awsguard_rest=${_awsguard_rest#*$_awsguard_nl}
    fi
    case $_awsguard_i in
      (0) [[ $_awsguard_line == 'awsguard-prompt 1' ]] || return 1 ;;
      (1) _awsguard_t=$_awsguard_line ;;
      (2) _awsguard_d=$_awsguard_line ;;
      (3) _awsguard_r=$_awsguard_line ;;
      (4) _awsguard_a=$_awsguard_line ;;
      (5) _awsguard_raw=$_awsguard_line ;;
      (6) _awsguard_v=$_awsguard_line ;;
      (*)
        case $_awsguard_line in
          ('n '*) _awsguard_ns+=("${_awsguard_line#n }") ;;
          ('f '*) _awsguard_ws+=("${_awsguard_line#f }") ;;
          ('m '*) _awsguard_m1=${_awsguard_line#m } ;;
          ('M '*) _awsguard_m2=${_awsguard_line#M } ;;
          ('p '*) _awsguard_m3=${_awsguard_line#p } ;;
          (w) _awsguard_wh=1 ;;
          (c) _awsguard_c=1 ;;
          (.) _awsguard_done=1; break ;;
        esac
        ;;
    esac
    (( _awsguard_i++ ))
  done
  (( _awsguard_done )) || return 1
  [[ $_awsguard_t == <-> ]] && _awsguard_ttl=$_awsguard_t
  if (( _awsguard_ttl > 0 )); then
    _awsguard_deadline=$(( SECONDS + _awsguard_ttl ))
  else
    _awsguard_deadline=0
  fi
  _awsguard_dir=$_awsguard_d
  _awsguard_ref=$_awsguard_r
  _awsguard_alt=$_awsguard_a
  AWSGUARD_PROMPT_RAW=$_awsguard_raw
  AWSGUARD_PROMPT_VERDICT=$_awsguard_v
  _awsguard_whole=$_awsguard_wh
  _awsguard_cwd=$_awsguard_c
  _awsguard_names=("${_awsguard_ns[@]}")
  _awsguard_watch=("${_awsguard_ws[@]}")
  _awsguard_mref=$_awsguard_m1
  _awsguard_malt=$_awsguard_m2
  _awsguard_mraw=$_awsguard_m3
  return 0
}

# awsguard could not run (moved venv, killed after its time limit): say `?`, retry in a minute
# or as soon as any AWS variable changes.
_awsguard_failed() {
  emulate -L zsh
  _awsguard_ref='aws:?'
  _awsguard_alt='aws:?'
  AWSGUARD_PROMPT_RAW='aws:?'
  AWSGUARD_PROMPT_VERDICT=error
  _awsguard_whole=1
  _awsguard_cwd=0
  _awsguard_watch=()
  _awsguard_names=()
  _awsguard_deadline=$(( SECONDS + 60 ))
}

_awsguard_update() {
  emulate -L zsh
  local _awsguard_out
  _awsguard_keynow
  if [[ $_awsguard_k == "$_awsguard_key" ]] &&
    ! (( _awsguard_deadline > 0 && SECONDS >= _awsguard_deadline )) &&
    ! _awsguard_touched; then
    return 0
  fi
  if _awsguard_out=$("${_awsguard_cmd[@]}" prompt --hook=zsh --session=$$ 2>/dev/null </dev/null) &&
    _awsguard_read "$_awsguard_out"; then
    :
  else
    _awsguard_failed
  fi
  _awsguard_keynow
  _awsguard_key=$_awsguard_k
}

# Whether the `aws` this shell would run is another one than the shim (a later pyenv, mise or
# conda activation put its own first): $commands is zsh's command table, so no process starts.
_awsguard_first() {
  emulate -L zsh
  local _awsguard_a=${commands[aws]-}
  if [[ -n $_awsguard_shim && -n $_awsguard_a ]] && ! [[ $_awsguard_a -ef $_awsguard_shim/aws ]]; then
    _awsguard_ahead=1
  else
    _awsguard_ahead=0
  fi
}

# $1: the drawing options, s (prompt_subst), b (prompt_bang), p (prompt_percent).
# AWSGUARD_PROMPT is escaped for them; RPROMPT gets it once, wherever the theme put the rest.
_awsguard_show() {
  emulate -L zsh
  local _awsguard_o=$1 _awsguard_new= _awsguard_m=
  if [[ $_awsguard_o != *p* ]]; then
    AWSGUARD_PROMPT=$AWSGUARD_PROMPT_RAW  # no % sequences are read: nothing to escape or colour
    _awsguard_m=$_awsguard_mraw
  elif [[ $_awsguard_o == *b* ]]; then
    AWSGUARD_PROMPT=$_awsguard_alt
    _awsguard_m=$_awsguard_malt
  else
    AWSGUARD_PROMPT=$_awsguard_ref
    _awsguard_m=$_awsguard_mref
  fi
  if (( _awsguard_ahead )) && [[ -n $_awsguard_m ]]; then
    AWSGUARD_PROMPT=${AWSGUARD_PROMPT:+$AWSGUARD_PROMPT }$_awsguard_m
  fi
  _awsguard_rps1=${AWSGUARD_PROMPT:+ $AWSGUARD_PROMPT}
  if [[ ${AWSGUARD_PROMPT_AUTO-1} != 0 ]]; then
    if [[ $_awsguard_o == *s* ]]; then
      _awsguard_new='${_awsguard_rps1}'
    else
      _awsguard_new=$_awsguard_rps1
    fi
  fi
  if [[ $_awsguard_new == "$_awsguard_ours" ]] && [[ -z $_awsguard_new || $RPROMPT == *"$_awsguard_new"* ]]; then
    return 0
  fi
  if [[ -n $_awsguard_ours && $RPROMPT == *"$_awsguard_ours"* ]]; then
    RPROMPT=${RPROMPT%%"$_awsguard_ours"*}$_awsguard_new${RPROMPT#*"$_awsguard_ours"}
  else
    RPROMPT+=$_awsguard_new
  fi
  _awsguard_ours=$_awsguard_new
}

_awsguard_hook() {
  local -i _awsguard_status=$?
  local _awsguard_o=
  [[ -o prompt_subst ]] && _awsguard_o+=s
  [[ -o prompt_bang ]] && _awsguard_o+=b
  [[ -o prompt_percent ]] && _awsguard_o+=p
  emulate -L zsh
  _awsguard_update
  _awsguard_first
  _awsguard_show $_awsguard_o
  return _awsguard_status
}

_awsguard_init
