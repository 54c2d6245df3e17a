# shellcheck shell=bash
# awsguard for bash: `eval "$(awsguard init bash)"` in ~/.bashrc.
#
# 1. Puts the directory of the `aws` shim first on PATH (once; a second eval changes nothing).
# 2. Keeps $AWSGUARD_PROMPT up to date - which profile, source and account `aws` would use - and
#    shows it at the start of PS1 unless AWSGUARD_PROMPT_AUTO=0.
#
# The hook runs at every prompt, so its steady state uses builtins only and starts no process.
# `awsguard prompt --hook=bash` (Python) runs only when something the segment was computed from
# has changed; it reports what that was (see shell/README.md):
#   - the environment variables it read: compared by value (and export flag) at each prompt;
#   - the files it read: each has a stamp file carrying the file's mtime, compared with the
#     `-nt`/`-ot` builtins; a file that appears or vanishes is seen with `-e`;
#   - the time at which the text changes by itself (a countdown): compared with $SECONDS.
#
# Rules kept here: bash 3.2 compatible (no associative arrays, no ${x,,}, no declare -g);
# safe under `set -u`; $? preserved; private names start with _awsguard_; PS1 holds the
# *reference* ${_awsguard_ps1}, never the text (git-prompt.sh, CVE-2014-9938), so a profile
# named `$(touch x)` is shown, not run.

# `awsguard init bash` replaces the placeholder with the shell-quoted shim directory, Python
# interpreter and awsguard package directory.  Do not edit this line.
_awsguard_paths=(@AWSGUARD_PATHS@)

_awsguard_bin=${_awsguard_paths[0]-}
# -I -S: no site-packages, no .pth files, no user site: most of Python's start-up cost.
_awsguard_cmd=(
  "${_awsguard_paths[1]-}" -I -S -c
  'import sys;sys.path.append(sys.argv.pop(1));from awsguard.cli import main;raise SystemExit(main())'
  "${_awsguard_paths[2]-}"
)

# State, kept across a second eval (which must not cost a recomputation).
_awsguard_key=${_awsguard_key-}
_awsguard_k=
_awsguard_deadline=${_awsguard_deadline-0}
_awsguard_dir=${_awsguard_dir-}
_awsguard_whole=${_awsguard_whole-1}
_awsguard_cwd=${_awsguard_cwd-0}
_awsguard_alt=${_awsguard_alt-}
_awsguard_ours=${_awsguard_ours-}
_awsguard_ps1=${_awsguard_ps1-}
AWSGUARD_PROMPT=${AWSGUARD_PROMPT-}
_awsguard_base=${_awsguard_base-$AWSGUARD_PROMPT}
AWSGUARD_PROMPT_RAW=${AWSGUARD_PROMPT_RAW-}
AWSGUARD_PROMPT_VERDICT=${AWSGUARD_PROMPT_VERDICT-}
# The marker for "another aws comes before the shim", as the last report gave it; the PATH the
# first aws was last looked up for, and what was found.
_awsguard_mref=${_awsguard_mref-}
_awsguard_malt=${_awsguard_malt-}
_awsguard_ahead=0
_awsguard_seen=
_awsguard_seen_aws=
if [[ -z ${_awsguard_names+x} ]]; then _awsguard_names=(); fi
if [[ -z ${_awsguard_watch+x} ]]; then _awsguard_watch=(); fi

# PATH: the shim directory first.  Already first: nothing to do.  Elsewhere: moved to the front.
_awsguard_path_first() {
  local _awsguard_d=$1 _awsguard_rest
  if [[ -z $_awsguard_d || ${PATH-} == "$_awsguard_d" || ${PATH-} == "$_awsguard_d":* ]]; then
    return 0
  fi
  _awsguard_rest=:${PATH-}:
  while [[ $_awsguard_rest == *:"$_awsguard_d":* ]]; do
    _awsguard_rest=${_awsguard_rest%%:"$_awsguard_d":*}:${_awsguard_rest#*:"$_awsguard_d":}
  done
  _awsguard_rest=${_awsguard_rest#:}
  _awsguard_rest=${_awsguard_rest%:}
  PATH=$_awsguard_d${_awsguard_rest:+:$_awsguard_rest}
  export PATH
}

# The cache key: every variable the last computation read, with its value and export flag.
_awsguard_keynow() {
  local _awsguard_n _awsguard_attrs=''
  local -a _awsguard_ns
  _awsguard_k=
  if [[ $_awsguard_whole == 1 ]]; then
    # Unknown dependencies (first run, or a failure): every AWS* variable and the usual others.
    _awsguard_ns=("${!AWS@}" HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_RUNTIME_DIR NO_COLOR)
  else
    _awsguard_ns=(${_awsguard_names[@]+"${_awsguard_names[@]}"})
  fi
  # ${var@a} (bash 4.4+) adds the export flag: `AWS_PROFILE=x` then `export AWS_PROFILE` keeps
  # the value but changes what aws sees.  Older bash only misses that rare sequence.
  if ((BASH_VERSINFO[0] > 4 || (BASH_VERSINFO[0] == 4 && BASH_VERSINFO[1] >= 4))); then
    _awsguard_attrs=1
  fi
  for _awsguard_n in ${_awsguard_ns[@]+"${_awsguard_ns[@]}"}; do
    case $_awsguard_n in
    AWSGUARD_PROMPT | AWSGUARD_PROMPT_RAW | AWSGUARD_PROMPT_VERDICT) continue ;;
    esac
    if [[ -z ${!_awsguard_n+x} ]]; then
      _awsguard_k+="$_awsguard_n"$'\n'
    elif [[ -n $_awsguard_attrs ]]; then
      _awsguard_k+="$_awsguard_n:${!_awsguard_n@a}=${!_awsguard_n}"$'\n'
    else
      _awsguard_k+="$_awsguard_n=${!_awsguard_n}"$'\n'
    fi
  done
  if [[ $_awsguard_cwd == 1 ]]; then
    _awsguard_k+="PWD=$PWD"
  fi
  return 0
}

# Whether a file the last computation read has changed, appeared or vanished.
_awsguard_touched() {
  local _awsguard_i=0 _awsguard_w _awsguard_p
  for _awsguard_w in ${_awsguard_watch[@]+"${_awsguard_watch[@]}"}; do
    _awsguard_p=${_awsguard_w#? }
    case $_awsguard_w in
    1\ *)
      if [[ ! -e $_awsguard_p ]]; then
        return 0
      fi
      if [[ -n $_awsguard_dir ]] && [[ $_awsguard_p -nt $_awsguard_dir/$_awsguard_i || $_awsguard_p -ot $_awsguard_dir/$_awsguard_i ]]; then
        return 0
      fi
      ;;
    *)
      if [[ -e $_awsguard_p ]]; then
        return 0
      fi
      ;;
    esac
    _awsguard_i=$((_awsguard_i + 1))
  done
  return 1
}

# Read the report of `awsguard prompt --hook=bash`; nothing changes unless it is complete.
_awsguard_read() {
  local _awsguard_rest=$1 _awsguard_line _awsguard_nl=$'\n' _awsguard_i=0 _awsguard_done=0
  local _awsguard_ttl=0 _awsguard_d='' _awsguard_r='' _awsguard_a='' _awsguard_raw='' _awsguard_v=''
  local _awsguard_wh=0 _awsguard_c=0 _awsguard_nn=0 _awsguard_nw=0 _awsguard_m1='' _awsguard_m2=
  local -a _awsguard_ns _awsguard_ws
  while [[ -n $_awsguard_rest ]]; do
    _awsguard_line=${_awsguard_rest%%"$_awsguard_nl"*}
    if [[ $_awsguard_line == "$_awsguard_rest" ]]; then
      _awsguard_rest=
    else
      _awsguard_rest=${_awsguard_rest#*"$_awsguard_nl"}
    fi
    case $_awsguard_i in
    0) if [[ $_awsguard_line != 'awsguard-prompt 1' ]]; then return 1; fi ;;
    1) _awsguard_ttl=$_awsguard_line ;;
    2) _awsguard_d=$_awsguard_line ;;
    3) _awsguard_r=$_awsguard_line ;;
    4) _awsguard_a=$_awsguard_line ;;
    5) _awsguard_raw=$_awsguard_line ;;
    6) _awsguard_v=$_awsguard_line ;;
    *)
      case $_awsguard_line in
      'n '*)
        _awsguard_ns[_awsguard_nn]=${_awsguard_line#n }
        _awsguard_nn=$((_awsguard_nn + 1))
        ;;
      'f '*)
        _awsguard_ws[_awsguard_nw]=${_awsguard_line#f }
        _awsguard_nw=$((_awsguard_nw + 1))
        ;;
      'm '*) _awsguard_m1=${_awsguard_line#m } ;;
      'M '*) _awsguard_m2=${_awsguard_line#M } ;;
      w) _awsguard_wh=1 ;;
      c) _awsguard_c=1 ;;
      .)
        _awsguard_done=1
        break
        ;;
      esac
      ;;
    esac
    _awsguard_i=$((_awsguard_i + 1))
  done
  if [[ $_awsguard_done != 1 ]]; then
    return 1
  fi
  case $_awsguard_ttl in
  '' | *[!0-9]*) _awsguard_ttl=0 ;;
  esac
  if ((_awsguard_ttl > 0)); then
    _awsguard_deadline=$((SECONDS + _awsguard_ttl))
  else
    _awsguard_deadline=0
  fi
  _awsguard_dir=$_awsguard_d
  _awsguard_base=$_awsguard_r
  _awsguard_alt=$_awsguard_a
  AWSGUARD_PROMPT_RAW=$_awsguard_raw
  AWSGUARD_PROMPT_VERDICT=$_awsguard_v
  _awsguard_whole=$_awsguard_wh
  _awsguard_cwd=$_awsguard_c
  _awsguard_names=(${_awsguard_ns[@]+"${_awsguard_ns[@]}"})
  _awsguard_watch=(${_awsguard_ws[@]+"${_awsguard_ws[@]}"})
  _awsguard_mref=$_awsguard_m1
  _awsguard_malt=$_awsguard_m2
  return 0
}

# awsguard could not run (moved venv, killed after its time limit): say `?`, retry in a minute
# or as soon as any AWS variable changes.
_awsguard_failed() {
  _awsguard_base='aws:?'
  _awsguard_alt='aws:?'
  AWSGUARD_PROMPT_RAW='aws:?'
  AWSGUARD_PROMPT_VERDICT=error
  _awsguard_whole=1
  _awsguard_cwd=0
  _awsguard_watch=()
  _awsguard_names=()
  _awsguard_deadline=$((SECONDS + 60))
}

_awsguard_update() {
  local _awsguard_out
  _awsguard_keynow
  if [[ $_awsguard_k == "$_awsguard_key" ]] && ! ((_awsguard_deadline > 0 && SECONDS >= _awsguard_deadline)) && ! _awsguard_touched; then
    return 0
  fi
  if _awsguard_out=$("${_awsguard_cmd[@]}" prompt --hook=bash --session="$$" 2>/dev/null </dev/null) &&
    _awsguard_read "$_awsguard_out"; then
    :
  else
    _awsguard_failed
  fi
  _awsguard_keynow
  _awsguard_key=$_awsguard_k
  return 0
}

# Whether the `aws` this shell would run is another one than the shim (a later pyenv, mise or
# conda activation put its own first), without starting a process: bash's hash table when aws
# is hashed there, else PATH walked as bash searches it (again only when PATH or $PWD change).
_awsguard_first() {
  local _awsguard_a='' _awsguard_d _awsguard_rest
  _awsguard_ahead=0
  if [[ -z $_awsguard_bin ]]; then return 0; fi
  if ((BASH_VERSINFO[0] >= 4)); then _awsguard_a=${BASH_CMDS[aws]-}; fi
  if [[ -z $_awsguard_a ]]; then
    if [[ $_awsguard_seen != "$PWD"$'\n'"${PATH-}" ]]; then
      _awsguard_seen=$PWD$'\n'${PATH-}
      _awsguard_seen_aws=
      _awsguard_rest=${PATH-}:
      while [[ -n $_awsguard_rest ]]; do
        _awsguard_d=${_awsguard_rest%%:*}
        _awsguard_rest=${_awsguard_rest#*:}
        if [[ -f ${_awsguard_d:-.}/aws && -x ${_awsguard_d:-.}/aws ]]; then
          _awsguard_seen_aws=${_awsguard_d:-.}/aws
          break
        fi
      done
    fi
    _awsguard_a=$_awsguard_seen_aws
  fi
  if [[ -n $_awsguard_a ]] && ! [[ $_awsguard_a -ef $_awsguard_bin/aws ]]; then
    _awsguard_ahead=1
  fi
  return 0
}

# PS1 gets the reference ${_awsguard_ps1} once, wherever the theme put the rest; with
# `shopt -u promptvars` (no expansion in PS1) the text itself, its backslashes doubled.
_awsguard_show() {
  local _awsguard_new='' _awsguard_paste=$_awsguard_alt
  AWSGUARD_PROMPT=$_awsguard_base
  if [[ $_awsguard_ahead == 1 && -n $_awsguard_mref ]]; then
    AWSGUARD_PROMPT=${AWSGUARD_PROMPT:+$AWSGUARD_PROMPT }$_awsguard_mref
    _awsguard_paste=${_awsguard_paste:+$_awsguard_paste }$_awsguard_malt
  fi
  _awsguard_ps1=${AWSGUARD_PROMPT:+$AWSGUARD_PROMPT }
  if [[ ${AWSGUARD_PROMPT_AUTO-1} != 0 ]]; then
    if shopt -q promptvars; then
      # shellcheck disable=SC2016 # the reference itself, expanded by bash when it draws PS1
      _awsguard_new='${_awsguard_ps1}'
    else
      _awsguard_new=${_awsguard_paste:+$_awsguard_paste }
    fi
  fi
  if [[ $_awsguard_new == "$_awsguard_ours" ]] && [[ -z $_awsguard_new || ${PS1-} == *"$_awsguard_new"* ]]; then
    return 0
  fi
  if [[ -n $_awsguard_ours && ${PS1-} == *"$_awsguard_ours"* ]]; then
    PS1=${PS1%%"$_awsguard_ours"*}$_awsguard_new${PS1#*"$_awsguard_ours"}
  else
    PS1=$_awsguard_new${PS1-}
  fi
  _awsguard_ours=$_awsguard_new
  return 0
}

_awsguard_hook() {
  local _awsguard_status=$?
  _awsguard_update
  _awsguard_first
  _awsguard_show
  return "$_awsguard_status"
}

# Run last, after the hooks of themes that rebuild PS1.  A newline, not `;`: an existing
# PROMPT_COMMAND may end in `;` or `&`.  The array form (bash 5.1+) gets its own element.
_awsguard_register() {
  local _awsguard_c _awsguard_n=0
  if [[ -n ${PROMPT_COMMAND+x} ]]; then
    # (${#PROMPT_COMMAND[@]} fails under `set -u` when it is a plain string: count by hand.)
    for _awsguard_c in "${PROMPT_COMMAND[@]}"; do
      case $_awsguard_c in
      *_awsguard_hook*) return 0 ;;
      esac
      _awsguard_n=$((_awsguard_n + 1))
    done
    if ((_awsguard_n > 1)); then
      PROMPT_COMMAND+=(_awsguard_hook)
      return 0
    fi
  fi
  # shellcheck disable=SC2128,SC2178 # a string, or element 0 of a one-element array
  PROMPT_COMMAND=${PROMPT_COMMAND:+$PROMPT_COMMAND$'\n'}_awsguard_hook
}

_awsguard_path_first "$_awsguard_bin"
_awsguard_register
