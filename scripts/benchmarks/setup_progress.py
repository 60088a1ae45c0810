"""When a run's set-up reaches each percentage: runs `krylov lanczos` on a pseudo-terminal (where
it prints its set-up progress) and stamps every percentage it shows.

    python3 scripts/benchmarks/setup_progress.py .build/release/krylov lanczos --model mfim --n 12 --steps 1 -o /dev/null
"""
import os
import pty
import re
import sys
import time

if len(sys.argv) < 2:
    sys.exit(__doc__)
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
start = time.time()
seen = {}
tail = b""
end = None
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    tail += data
    for m in re.finditer(rb"building the sector: (\d+)%", tail):
        seen.setdefault(int(m.group(1)), time.time() - start)
    tail = tail[-200:]
    if b"krylov:" in data and end is None:
        end = time.time() - start
os.waitpid(pid, 0)
print("set-up ended at %.2f s" % (end if end is not None else time.time() - start))
print(" ".join("%d%%@%.2f" % (p, t) for p, t in sorted(seen.items())))
