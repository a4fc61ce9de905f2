"""Watch a process and its descendants through /proc while it runs (Linux).

    result = run_watched([sys.executable, "-m", "watcher.cli", ...], env=...)
    result.peak_bytes       # the tree's peak resident memory, at most this
    result.watch.environ    # pid -> environment (as each process was started)

Every ``every`` seconds the sampler lists the process's descendants and reads each one's
``VmHWM`` (its own peak resident set, kept by the kernel), so a spike between two samples is
not missed. The main process's peak is also taken from ``wait4`` when it exits (that covers
its last moments). ``peak_bytes`` is the sum of the per-process peaks: the tree's peak can only
be lower. ``peak_sampled_bytes`` is the largest sum of ``VmRSS`` seen at one sample.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Self


def children_of(root: int) -> list[int]:
    """``root``'s descendants (not ``root`` itself), found through every process's parent."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
    out: list[int] = []
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, ppid in parents.items() if ppid == parent]
        out += kids
        frontier += kids
    return out


def _status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def environ_of(pid: int) -> dict[str, str] | None:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    pairs = (item.decode("utf-8", "replace").partition("=") for item in raw.split(b"\0") if item)
    return {k: v for k, _, v in pairs}


class TreeWatch:
    def __init__(self, pid: int, every: float = 0.02):
        self.pid, self.every = pid, every
        self.hwm_kb: dict[int, int] = {}
        self.environ: dict[int, dict[str, str]] = {}
        self.cmdline: dict[int, str] = {}
        self.peak_sampled_bytes = 0
        # the largest sum, over processes alive together, of their high-water marks (main
        # process excluded): an extraction worker replaced by a new one is not counted twice
        self.peak_others_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="treewatch")

    @property
    def peak_bytes(self) -> int:
        return sum(self.hwm_kb.values()) * 1024

    def sample(self) -> None:
        rss = 0
        alive: list[int] = []
        for pid in [self.pid, *children_of(self.pid)]:
            hwm = _status_kb(pid, "VmHWM")
            now = _status_kb(pid, "VmRSS")
            if hwm is None or now is None:
                continue
            self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), hwm)
            alive.append(pid)
            rss += now
            if pid not in self.environ:
                env = environ_of(pid)
                if env is not None:
                    self.environ[pid] = env
                try:
                    self.cmdline[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(
                        b"\0", b" ").decode("utf-8", "replace")
                except OSError:
                    pass
        self.peak_sampled_bytes = max(self.peak_sampled_bytes, rss * 1024)
        self.peak_others_kb = max(self.peak_others_kb, sum(
            self.hwm_kb[pid] for pid in alive if pid != self.pid))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Watched:
    returncode: int
    stdout: str
    stderr: str
    watch: TreeWatch
    main_peak_kb: int  # from wait4: the main process (and its reaped children, as a maximum)

    @property
    def peak_bytes(self) -> int:
        """The main process's peak plus the largest sum of the peaks of its children alive at
        the same time (a worker that replaced a dead one does not add to it)."""
        # The main process's own high-water mark, read from /proc until it exits (it only
        # grows, so a short spike between samples is still seen). Not wait4's maxrss: that is
        # the largest of the process and the children it reaped, so an extraction worker
        # replaced under load would be counted twice.
        main = self.watch.hwm_kb.get(self.watch.pid, 0) or self.main_peak_kb
        return (main + self.watch.peak_others_kb) * 1024


def run_watched(args: list[str], env: dict[str, str], cwd: Path, out_dir: Path,
                timeout: float = 300) -> Watched:
    """Run ``args`` to completion under a ``TreeWatch``; stdout/stderr go through files."""
    out, err = out_dir / "stdout.txt", out_dir / "stderr.txt"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=fo, stderr=fe)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            with TreeWatch(proc.pid) as watch:
                _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Watched(proc.returncode, out.read_text("utf-8", "replace"),
                   err.read_text("utf-8", "replace"), watch, usage.ru_maxrss)
