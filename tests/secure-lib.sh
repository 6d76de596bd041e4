# SPDX-License-Identifier: Apache-2.0
# Helpers of the tests that build an attack by another local user
# (tests/test-secure-*.sh; sourced after functions.sh).

# setup_attacker: a throw-away local user $attacker (a unique name: other
# test runs make theirs at the same time) with home $attacker_home, owned
# by it; removed, with anything it left running, at exit.  as_attacker
# runs a command as that user.
setup_attacker () {
    requires_root
    requires useradd --help
    requires runuser --help
    attacker=pdatk$$
    attacker_home=$tmpdir/home-$attacker
    useradd -M -d "$attacker_home" -s /bin/sh "$attacker" ||
        skip "useradd $attacker failed"
    cleanup_fn "userdel -f $attacker; sed -i '/^$attacker:/d' /etc/subuid /etc/subgid"
    cleanup_fn "ps -o pid= -u $attacker | xargs -r kill -9"
    mkdir -m 0755 "$attacker_home"
    chown "$attacker:" "$attacker_home"
    # The attacker must reach its home, and the shared directories below.
    chmod 0755 "$tmpdir"
}
as_attacker () { runuser -u "$attacker" -- "$@"; }

# sticky_dir DIR: a directory like /tmp: root's, mode 1777.
sticky_dir () { mkdir -p "$1"; chmod 1777 "$1"; }

# tree_state DIR...: names, types, sizes, modes, owners and contents of
# everything under DIR, to compare before and after.
tree_state () {
    find "$@" -printf '%p %y %s %m %U:%G\n' | LC_ALL=C sort
    find "$@" -type f -exec sha256sum {} + | LC_ALL=C sort
}
