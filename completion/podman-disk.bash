# SPDX-License-Identifier: Apache-2.0
# bash completion for podman-disk                          -*- shell-script -*-
#
# Commands, their options, option values, and image names from the store
# through 'podman-disk list --quiet' (no podman call), with the --root,
# --runroot and --storage-driver already on the line.  Paths after the
# oci:, oci-archive: and docker-archive: transports.  Needs no
# bash-completion helpers.

__podman_disk_commands="locate json list serve cp clone clones release commit exports stop"
__podman_disk_global_opts="--root --runroot --storage-driver --log-level --help -h"
__podman_disk_transports="containers-storage: oci: oci-archive: docker-archive:"

# The options of command $1 (the global ones come on top).
__podman_disk_command_opts ()
{
    local locate="--disk --platform --disktype --verify
                  --pull --authfile --creds --cert-dir --tls-verify"
    case $1 in
        locate)  echo "$locate --format" ;;
        json)    echo "$locate --no-decode --allow-foreign-path
                       --blockdev --drive --snapshot" ;;
        list)    echo "--format --quiet -q" ;;
        serve)   echo "$locate --socket --port --address --no-decode --writable
                       --all --foreground --pidfile --run --export-name --server
                       --format --tls --tls-certificates --tls-psk
                       --tls-verify-peer --state-dir" ;;
        cp)      echo "$locate --format --progress" ;;
        clone)   echo "$locate --size" ;;
        clones)  echo "--format --prune" ;;
        release) echo "" ;;
        commit)  echo "--compress" ;;
        exports) echo "--format --prune --state-dir" ;;
        stop)    echo "--all -a --state-dir" ;;
    esac
}

# Does option $1 take the next word as its value?
__podman_disk_takes_value ()
{
    case $1 in
        --root|--runroot|--storage-driver|--log-level|--disk|--platform|\
        --disktype|--pull|--authfile|--creds|--cert-dir|\
        --format|--socket|--port|--address|--pidfile|--run|--export-name|\
        --server|--state-dir|--size|--blockdev|--tls|--tls-certificates|\
        --tls-psk) return 0 ;;
    esac
    return 1
}

# The words of the line up to the cursor, with the pieces that
# COMP_WORDBREAKS split apart (oci : DIR, --format = json) joined again:
# a word that follows the previous one without a blank belongs to it.
# Sets __pd_words and __pd_cword.
__podman_disk_words ()
{
    __pd_words=() __pd_cword=0
    local line=${COMP_LINE-} i w pos=0 blank n=-1
    if [[ -z $line ]]; then
        __pd_words=("${COMP_WORDS[@]}")
        __pd_cword=$COMP_CWORD
        return
    fi
    for ((i = 0; i <= COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        blank=0
        while [[ ${line:pos:1} == [[:blank:]] ]]; do
            ((pos++)); blank=1
        done
        if [[ ${line:pos:${#w}} != "$w" ]]; then
            # Not the line we expected: give up joining.
            __pd_words=("${COMP_WORDS[@]}")
            __pd_cword=$COMP_CWORD
            return
        fi
        ((pos += ${#w}))
        if ((i > 0 && !blank)); then
            __pd_words[n]+=$w
        else
            __pd_words[++n]=$w
        fi
    done
    __pd_cword=$n
}

# The values of option $1 for command $2 that start with $3.
__podman_disk_option_values ()
{
    local opt=$1 cmd=$2 cur=$3
    case $opt in
        --root|--runroot|--state-dir|--cert-dir|--tls-certificates) compgen -d -- "$cur" ;;
        --socket|--pidfile|--authfile|--tls-psk) compgen -f -- "$cur" ;;
        --tls) compgen -W "off on require" -- "$cur" ;;
        --pull) compgen -W "always missing never newer" -- "$cur" ;;
        --disktype) compgen -W "qemu applehv hyperv wsl" -- "$cur" ;;
        --tls-verify) compgen -W "true false" -- "$cur" ;;
        --storage-driver) compgen -W "overlay vfs" -- "$cur" ;;
        --log-level) compgen -W "debug info warn error" -- "$cur" ;;
        --format)
            if [[ $cmd == cp ]]; then
                compgen -W "raw qcow2" -- "$cur"
            else
                compgen -W "text json" -- "$cur"
            fi ;;
        --server) compgen -W "nbdkit qemu-nbd" -- "$cur" ;;
        --platform) compgen -W "linux/amd64 linux/arm64 linux/ppc64le linux/s390x" -- "$cur" ;;
        --run) compgen -c -- "$cur" ;;
    esac
}

# Directories (with a slash) or, with $2 = files, files too, under the
# transport prefix $1, for the rest of $3.
__podman_disk_prefixed_paths ()
{
    local prefix=$1 kind=$2 path=${3#"$1"} p
    while IFS= read -r p; do
        if [[ -d $p ]]; then
            printf '%s%s/\n' "$prefix" "$p"
        elif [[ $kind == files ]]; then
            printf '%s%s\n' "$prefix" "$p"
        fi
    done < <(compgen -f -- "$path")
}

# A layout or archive for 'list LAYOUT': transport paths only.
__podman_disk_layouts ()
{
    local cur=$1
    case $cur in
        oci:*) __podman_disk_prefixed_paths oci: dirs "$cur" ;;
        oci-archive:*) __podman_disk_prefixed_paths oci-archive: files "$cur" ;;
        docker-archive:*) __podman_disk_prefixed_paths docker-archive: files "$cur" ;;
        *) compgen -W "oci: oci-archive: docker-archive:" -- "$cur" ;;
    esac
}

# Images: transport paths, or names from the store and the transports.
__podman_disk_images ()
{
    local cur=$1 prog=$2
    shift 2
    case $cur in
        oci:*) __podman_disk_prefixed_paths oci: dirs "$cur" ;;
        oci-archive:*) __podman_disk_prefixed_paths oci-archive: files "$cur" ;;
        docker-archive:*) __podman_disk_prefixed_paths docker-archive: files "$cur" ;;
        containers-storage:*)
            compgen -P containers-storage: -W "$("$prog" "$@" list --quiet 2>/dev/null)" \
                -- "${cur#containers-storage:}" ;;
        *)
            compgen -W "$("$prog" "$@" list --quiet 2>/dev/null) $__podman_disk_transports" \
                -- "$cur" ;;
    esac
}

_podman_disk ()
{
    local __pd_words __pd_cword
    __podman_disk_words
    local cur=${__pd_words[__pd_cword]}
    local prog=${__pd_words[0]}
    local cmd= valueof= operand=0 store=() i w
    COMPREPLY=()

    # podman-disk as typed, if it runs; else the one in PATH.
    prog=${prog/#\~/$HOME}
    [[ -x $prog && ! -d $prog ]] || prog=podman-disk

    for ((i = 1; i < __pd_cword; i++)); do
        w=${__pd_words[i]}
        case $w in
            --root=*|--runroot=*|--storage-driver=*) store+=("$w") ;;
            -*=*) ;;
            -*)
                if __podman_disk_takes_value "$w"; then
                    if ((i + 1 == __pd_cword)); then
                        valueof=$w
                    else
                        case $w in
                            --root|--runroot|--storage-driver)
                                store+=("$w=${__pd_words[i+1]}") ;;
                        esac
                    fi
                    ((i++))
                fi ;;
            *)
                if [[ -z $cmd ]]; then cmd=$w; else ((operand++)); fi ;;
        esac
    done

    # Plain paths get bash's filename handling (quoting, a slash after a
    # directory); paths after a transport prefix are marked by hand.
    local candidates filenames=
    case $valueof in
        --root|--runroot|--socket|--pidfile|--state-dir) filenames=1 ;;
    esac
    if [[ -n $valueof ]]; then
        candidates=$(__podman_disk_option_values "$valueof" "$cmd" "$cur")
    elif [[ $cur == --*=* ]]; then
        case ${cur%%=*} in
            --root|--runroot|--socket|--pidfile|--state-dir) filenames=1 ;;
        esac
        candidates=$(__podman_disk_option_values "${cur%%=*}" "$cmd" "${cur#*=}" |
                     sed "s|^|${cur%%=*}=|")
    elif [[ $cur == -* ]]; then
        if [[ -z $cmd ]]; then
            candidates=$(compgen -W "$__podman_disk_global_opts --version" -- "$cur")
        else
            candidates=$(compgen -W "$__podman_disk_global_opts $(__podman_disk_command_opts "$cmd")" -- "$cur")
        fi
    elif [[ -z $cmd ]]; then
        candidates=$(compgen -W "$__podman_disk_commands" -- "$cur")
    else
        case $cmd:$operand in
            locate:0|json:0|serve:*|cp:0|clone:0)
                candidates=$(__podman_disk_images "$cur" "$prog" "${store[@]}") ;;
            list:0)
                candidates=$(__podman_disk_layouts "$cur") ;;
            stop:*)
                # The ids that exports shows (a container's: a prefix).
                candidates=$(compgen -W "$("$prog" exports 2>/dev/null |
                                          awk 'NR > 1 { print $1 }')" -- "$cur") ;;
            cp:1|clone:1|clones:*|release:*|commit:0)
                filenames=1
                candidates=$(compgen -f -- "$cur") ;;
        esac
    fi

    # Bash replaces only the last piece of the word that COMP_WORDBREAKS
    # split (after the ':' of oci:DIR or of a tag): strip what comes before.
    # Right after the ':' or '=' itself, the word is that separator, and
    # what bash replaces is the empty piece after it: strip all of cur.
    local raw=${COMP_WORDS[COMP_CWORD]} strip
    if [[ -n $raw && -z ${raw//[:=]/} ]]; then
        strip=${#cur}
    else
        strip=$(( ${#cur} - ${#raw} ))
    fi
    ((strip < 0)) && strip=0
    local c
    while IFS= read -r c; do
        [[ -n $c ]] && COMPREPLY+=("${c:strip}")
    done <<< "$candidates"

    [[ -n $filenames ]] && compopt -o filenames 2>/dev/null

    # No space after a transport, a directory or an option that wants '='.
    [[ -z $filenames ]] && for c in "${COMPREPLY[@]}"; do
        case $c in *: | */ | *=) compopt -o nospace 2>/dev/null; break ;; esac
    done
    return 0
}

complete -F _podman_disk podman-disk
