# SPDX-License-Identifier: Apache-2.0
# fish completion for podman-disk: commands, options, option values, and
# image names from the store through 'podman-disk list --quiet' (no podman
# call), with the --root, --runroot and --storage-driver already on the
# line; paths after the oci:, oci-archive: and docker-archive: transports.

set -l __podman_disk_commands locate json list serve cp clone clones release commit exports stop

# The store options on the line, for 'podman-disk list --quiet'.
function __podman_disk_store_args
    set -l words (commandline -opc)
    set -e words[1]
    while set -q words[1]
        switch $words[1]
            case '--root=*' '--runroot=*' '--storage-driver=*'
                echo $words[1]
            case --root --runroot --storage-driver
                if set -q words[2]
                    echo $words[1]=$words[2]
                    set -e words[1]
                end
        end
        set -e words[1]
    end
end

function __podman_disk_prog
    set -l prog (commandline -opc)[1]
    if test -x "$prog" -a ! -d "$prog"
        echo $prog
    else
        echo podman-disk
    end
end

# The image names of the store named on the line, if podman-disk runs.
function __podman_disk_names
    set -l prog (__podman_disk_prog)
    command -q $prog; or return
    $prog (__podman_disk_store_args) list --quiet 2>/dev/null
end

function __podman_disk_images
    set -l tok (commandline -ct)
    switch $tok
        case 'oci:*'
            set -l path (string replace -r '^oci:' '' -- $tok)
            for d in (__fish_complete_directories $path)
                echo oci:$d
            end
        case 'oci-archive:*' 'docker-archive:*'
            set -l prefix (string match -r '^[a-z-]+:' -- $tok)
            set -l path (string replace -r '^[a-z-]+:' '' -- $tok)
            for f in (__fish_complete_path $path)
                echo $prefix$f
            end
        case 'containers-storage:*'
            for name in (__podman_disk_names)
                echo containers-storage:$name\tImage
            end
        case '*'
            for name in (__podman_disk_names)
                echo $name\tImage
            end
            printf '%s\t%s\n' containers-storage: 'an image in a given store' \
                oci: 'an OCI image layout directory' \
                oci-archive: 'an OCI layout in a tar file' \
                docker-archive: 'the output of podman save'
    end
end

# The number of operands after the command (options and their values skipped).
function __podman_disk_operands
    set -l words (commandline -opc)
    set -e words[1]
    set -l n -1
    while set -q words[1]
        switch $words[1]
            case '--*=*'
            case --root --runroot --storage-driver --log-level --disk --platform \
                --disktype --pull --authfile --creds --cert-dir \
                --format --socket --port --address --pidfile --run --export-name --server \
                --state-dir --tls --tls-certificates --tls-psk
                set -e words[1]
            case '-*'
            case '*'
                set n (math $n + 1)
        end
        set -e words[1]
    end
    echo $n
end

function __podman_disk_wants_image
    # serve takes several images, the others one.
    __fish_seen_subcommand_from serve
    or begin
        __fish_seen_subcommand_from locate json cp clone
        and test (__podman_disk_operands) -eq 0
    end
end

function __podman_disk_wants_layout
    __fish_seen_subcommand_from list
    and test (__podman_disk_operands) -eq 0
end

# A layout or archive for 'list LAYOUT': transport paths only.
function __podman_disk_layouts
    set -l tok (commandline -ct)
    switch $tok
        case 'oci:*' 'oci-archive:*' 'docker-archive:*'
            __podman_disk_images
        case '*'
            printf '%s\t%s\n' oci: 'an OCI image layout directory' \
                oci-archive: 'an OCI layout in a tar file' \
                docker-archive: 'the output of podman save'
    end
end

function __podman_disk_wants_dest
    __fish_seen_subcommand_from cp clone
    and test (__podman_disk_operands) -eq 1
    or __fish_seen_subcommand_from clones release
    or __fish_seen_subcommand_from commit
    and test (__podman_disk_operands) -eq 0
end

complete -c podman-disk -f

# Commands.
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a locate -d 'Show where the disk of an image is'
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a json -d 'Print a qemu json: filename that opens the disk in place'
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a list -d 'List the images in the store that hold a disk'
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a serve -d 'Serve the disk read-only over NBD, in place'
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a cp -d 'Extract the guest disk to a sparse file or a block device'
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a clone -d 'Create a writable qcow2 for a VM on the disk in place'
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a clones -d 'List clones and whether their base is intact'
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a release -d "Drop a clone's hold on its image"
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a commit -d "Build a containerDisk image of what a clone's guest sees"
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a exports -d "List the exports: the OCI hook's and background serves'"
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -a stop -d 'Stop exports by id, socket, URI or image, or all'

# Global options, before the command and among its options.
complete -c podman-disk -l root -x -a '(__fish_complete_directories)' -d 'Storage root directory'
complete -c podman-disk -l runroot -x -a '(__fish_complete_directories)' -d 'Storage state directory'
complete -c podman-disk -l storage-driver -x -a 'overlay vfs' -d 'Storage driver'
complete -c podman-disk -l log-level -x -a 'debug info warn error' -d 'How much to say on stderr'
complete -c podman-disk -s h -l help -d 'Show the help'
complete -c podman-disk -n "not __fish_seen_subcommand_from $__podman_disk_commands" \
    -l version -d 'Show the version and the libraries used'

# The options of the commands that locate a disk.
set -l locating '__fish_seen_subcommand_from locate json serve cp clone'
complete -c podman-disk -n $locating -l disk -x -d 'The disk member inside the image'
complete -c podman-disk -n $locating -l platform -x \
    -a 'linux/amd64 linux/arm64 linux/ppc64le linux/s390x' -d 'Image to pick from a multi-platform layout'
complete -c podman-disk -n $locating -l disktype -x -a 'qemu applehv hyperv wsl' \
    -d 'The disk for this hypervisor, from an index of podman machine disks'
complete -c podman-disk -n $locating -l verify -d 'Check the sha256 digest of every layer read'
complete -c podman-disk -n $locating -l pull -x -a 'always missing never newer' -d 'When podman pulls the image'
complete -c podman-disk -n $locating -l authfile -r -F -d "To pull: podman's auth file"
complete -c podman-disk -n $locating -l creds -x -d "To pull: the registry's credentials"
complete -c podman-disk -n $locating -l cert-dir -x -a '(__fish_complete_directories)' \
    -d "To pull: the registry's CA and client certificates"
complete -c podman-disk -n $locating -l tls-verify -f -a 'true false' -d 'To pull: require HTTPS and a trusted certificate'

complete -c podman-disk -n '__fish_seen_subcommand_from locate list exports clones serve' \
    -l format -x -a 'text json' -d 'Output format'
complete -c podman-disk -n '__fish_seen_subcommand_from json serve' \
    -l no-decode -d 'The stored bytes as they are (no qcow2 decoding)'
complete -c podman-disk -n '__fish_seen_subcommand_from json' \
    -l allow-foreign-path -d 'Print a path another user could swap'
complete -c podman-disk -n '__fish_seen_subcommand_from json' \
    -l blockdev -x -d 'Print a qemu-system -blockdev argument with this node name'
complete -c podman-disk -n '__fish_seen_subcommand_from json' \
    -l drive -d 'Print a qemu-system -drive value'
complete -c podman-disk -n '__fish_seen_subcommand_from json' \
    -l snapshot -d 'With --drive: a temporary writable overlay'
complete -c podman-disk -n '__fish_seen_subcommand_from list' -s q -l quiet -d 'Image names only'

complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l socket -r -F -d 'Listen on this Unix socket'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l port -x -d 'Listen on this TCP port'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l address -x -d 'Address to listen on with --port'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l writable -d 'Accept writes: a discarded overlay, or =persistent:DEST (a clone)'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l all -d 'Serve the disk of every image of the store'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l foreground -d 'Stay until SIGINT or SIGTERM'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l pidfile -r -F -d 'Write the server process ID here'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l run -x -a '(__fish_complete_command)' -d 'Run this with $uri set, then stop'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l export-name -x -d 'The NBD export name'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l server -x -a 'nbdkit qemu-nbd' -d 'The NBD server to run'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l tls -x -a 'off on require' -d 'Serve over TLS'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l tls-certificates -x -a '(__fish_complete_directories)' -d 'x509 certificates directory for --tls'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l tls-psk -r -F -d 'Pre-shared keys file for --tls'
complete -c podman-disk -n '__fish_seen_subcommand_from serve' -l tls-verify-peer -d 'Serve only clients with a certificate the CA signed'

complete -c podman-disk -n '__fish_seen_subcommand_from cp' -l format -x -a 'raw qcow2' -d 'Format of the destination'
complete -c podman-disk -n '__fish_seen_subcommand_from cp' -l progress -d 'Show a progress bar'

complete -c podman-disk -n '__fish_seen_subcommand_from clone' -l size -x -d 'Virtual size, larger than the image disk'
complete -c podman-disk -n '__fish_seen_subcommand_from clones' -l prune -d 'Remove the holds whose clone is gone'
complete -c podman-disk -n '__fish_seen_subcommand_from commit' -l compress -d 'Compress the qcow2 clusters'

complete -c podman-disk -n '__fish_seen_subcommand_from exports' -l prune -d 'Remove what stale exports left behind'
complete -c podman-disk -n '__fish_seen_subcommand_from exports stop serve' -l state-dir -x \
    -a '(__fish_complete_directories)' -d 'Where the exports are recorded'
complete -c podman-disk -n '__fish_seen_subcommand_from stop' -s a -l all -d 'Stop every export'
# stop's operands: the ids that exports shows (a container's: a prefix).
complete -c podman-disk -n '__fish_seen_subcommand_from stop' -f \
    -a '(podman-disk exports 2>/dev/null | awk \'NR > 1 { print $1 }\')'

# Operands: an image, and for cp and clone a destination file; clone files.
complete -c podman-disk -n __podman_disk_wants_image -a '(__podman_disk_images)'
complete -c podman-disk -n __podman_disk_wants_dest -F
complete -c podman-disk -n __podman_disk_wants_layout -a '(__podman_disk_layouts)'
