#!/usr/bin/env python3
"""Run a command; print its peak RSS (KiB) and blocks read, from wait4()."""
import os, sys
pid = os.fork()
if pid == 0:
    fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
print(f"{ru.ru_maxrss} {ru.ru_inblock * 512} {os.waitstatus_to_exitcode(status)}")
