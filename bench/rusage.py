#!/usr/bin/env python3
"""Run a command; print its peak RSS (KiB), bytes read from the block layer
and exit code, from wait4().  posix_spawn (vfork-like), so that the copy of
Python a fork would make is not counted in the command's peak RSS."""
import os, sys
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ,
                      file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, ru = os.wait4(pid, 0)
print(f"{ru.ru_maxrss} {ru.ru_inblock * 512} {os.waitstatus_to_exitcode(status)}")
